"""Issue 14's "Done when" refusals, timed as a user meets them: `python benchmarks/refusals.py [--repeat 3]`.

Each hostile input of tests/hostile_inputs.py (a 10^9-point grid, a 100,000 x 100,000 input, .tflite files of
batch 100,000, `duration: 1e12 s` as a flag and in a file, a /dev/zero symlink, a FIFO) is run as
`python -m tinysim.cli.main ...` in a fresh process — interpreter start-up and imports included — `--repeat`
times; the median wall time is compared with the 2 s target. Each run must exit 2 with one `tinysim:` line
saying why. Exit status 1 when any refusal is wrong or slower than the target.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile_inputs import DONE_WHEN, REFUSAL_TARGET_S


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each refusal (the median is reported)")
    args = parser.parse_args()
    failed = 0
    print(f"{'refusal':34} {'median s':>9} {'max s':>7}  target {REFUSAL_TARGET_S:g} s")
    for name, make, fragment in DONE_WHEN:
        walls, problem = [], ""
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                argv = make(Path(tmp))
                start = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-m", "tinysim.cli.main", *argv],
                    cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                )  # fmt: skip
                walls.append(time.perf_counter() - start)
            lines = proc.stderr.splitlines()
            if proc.returncode != 2 or len(lines) != 1 or fragment not in lines[0]:
                problem = f"exit {proc.returncode}: {proc.stderr.strip()[:200]!r}"
        median = statistics.median(walls)
        verdict = "FAIL " + problem if problem else ("ok" if median <= REFUSAL_TARGET_S else "SLOW")
        failed += verdict != "ok"
        print(f"{name:34} {median:9.2f} {max(walls):7.2f}  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
