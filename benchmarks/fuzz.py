"""Fuzz the CLI with mutated inputs: `python benchmarks/fuzz.py --cases 20000 --seed 0 --jobs 2`.

Cases are spread evenly over the categories of tests/fuzz_inputs.py (mutated arch, workload, scenario and
sweep YAMLs, corrupted .tflite, bad .npy inputs, corrupted results files). Prints the count of each outcome
per category and every failing command with its seed; exit status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fuzz_inputs import Category, Outcome, Sandbox, make_case, prepare, run_cases, warm_up


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0, help="first case seed (case i has seed SEED + i)")
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--category", action="append", choices=[c.value for c in Category], help="only these")
    parser.add_argument("--exec", dest="exec_", action="store_true", help="a fresh interpreter per case (slow)")
    args = parser.parse_args()
    categories = [Category(c) for c in args.category] if args.category else list(Category)
    counts: dict[Category, collections.Counter] = {c: collections.Counter() for c in categories}
    failures = []
    wall_s: dict[Category, float] = collections.defaultdict(float)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tinysim-fuzz-") as tmp:
        box = Sandbox(Path(tmp))
        warm_up()
        prepare(box)
        cases = [make_case(categories[i % len(categories)], args.seed + i, box) for i in range(args.cases)]
        for n, result in enumerate(run_cases(cases, Path(tmp), jobs=args.jobs, exec_=args.exec_), 1):
            counts[result.case.category][result.outcome] += 1
            wall_s[result.case.category] += result.wall_s
            if not result.outcome.passed:
                failures.append(result)
                print(
                    f"FAIL [{result.outcome.value}] seed {result.case.seed}: {result.case.command()}\n"
                    f"    {result.detail}",
                    flush=True,
                )
            if n % 200 == 0:
                print(
                    f"... {n}/{len(cases)} cases, {len(failures)} failed, {time.monotonic() - start:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
    print(f"\n{args.cases} cases, seed {args.seed}, {time.monotonic() - start:.0f} s")
    outcomes = list(Outcome)
    print(f"{'category':10}" + "".join(f"{o.value:>19}" for o in outcomes) + "   mean s/case")
    for category, counter in counts.items():
        mean = wall_s[category] / max(1, sum(counter.values()))
        print(f"{category.value:10}" + "".join(f"{counter[o]:>19}" for o in outcomes) + f"{mean:>15.2f}")
    total = sum(counts.values(), collections.Counter())
    print(f"{'total':10}" + "".join(f"{total[o]:>19}" for o in outcomes))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
