"""Which real models tinysim runs: every `.tflite` under the shared models folder, run bit-exact against
LiteRT's builtin kernels on 5 seeded inputs and priced on two architectures, or the one-line refusal.

    python benchmarks/model_coverage.py [--models ../shared/models] [--format markdown|json]

Prints one row per model (single-op integration models of one folder are grouped into one row): the ops,
the quantization scheme, whether tinysim's outputs equal LiteRT's (BUILTIN_WITHOUT_DEFAULT_DELEGATES) on
every input, and the latency on stm32l4r5 and ndp120 — or why tinysim refuses it. The README's coverage
table is this script's output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
ARCHS = ("stm32l4r5", "ndp120")
SEEDS = range(5)


def ops_and_scheme(graph) -> tuple[str, str]:
    """'CONV_2D×3, ADD×1' and the quantization schemes its ops compute in, e.g. 'uint8' or 'int8+float32'."""
    from tinysim.ops import SCHEMES
    from tinysim.workload.schemes import op_scheme

    counts = Counter(op.kind.value for op in graph.ops)
    schemes = {op_scheme(graph, op) for op in graph.ops}
    return ", ".join(f"{k}×{n}" for k, n in counts.items()), "+".join(s for s in SCHEMES if s in schemes)


def litert_outputs(path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    for detail, x in zip(interpreter.get_input_details(), inputs):  # both in the subgraph's input order
        interpreter.set_tensor(detail["index"], x.reshape(detail["shape"]))
    interpreter.invoke()
    return [interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()]


def cover(path: Path) -> dict:
    from tinysim.engine import random_input, run_graph
    from tinysim.errors import TinysimError
    from tinysim.pipeline import price_run, run_workload

    row: dict = {"model": path.name}
    try:
        run = run_workload(path)
    except TinysimError as err:
        row["refused"] = " ".join(str(err).split(": ", 1)[-1].split())
        return row
    row["ops"], row["scheme"] = ops_and_scheme(run.graph)
    exact = True
    for seed in SEEDS:
        x = random_input(run.graph, seed)
        ours = run_graph(run.graph, x).outputs
        theirs = litert_outputs(path, x)
        exact &= all(np.array_equal(a.reshape(-1), b.reshape(-1)) for a, b in zip(ours, theirs))
    row["bit_exact_litert"] = exact
    for arch in ARCHS:
        try:
            row[f"latency_s_{arch}"] = price_run(ROOT / "archs" / f"{arch}.yaml", run).latency_s
        except TinysimError as err:
            row[f"latency_s_{arch}"] = " ".join(str(err).split(": ", 1)[-1].split())
    return row


def grouped(rows: list[dict], folder_of: dict[str, str]) -> list[dict]:
    """Single-op integration models of one folder as one row: how many ran bit-exact, or the refusal."""
    out, groups = [], {}
    for row in rows:
        folder = folder_of[row["model"]]
        if folder:
            groups.setdefault(folder, []).append(row)
        else:
            out.append(row)
    for folder, members in groups.items():
        refusals = Counter(re.sub(r"'[^']*'", "'…'", r.get("refused", "runs")) for r in members)  # names differ
        reason, count = refusals.most_common(1)[0]
        name = f"{folder} ({len(members)} models)"
        if reason != "runs":
            out.append({"model": name, "refused": f"{count} of {len(members)}: {reason}"})
            continue
        row = {"model": name, "ops": " / ".join(sorted({r["ops"] for r in members})),
               "scheme": "/".join(sorted({r["scheme"] for r in members})),
               "bit_exact_litert": all(r.get("bit_exact_litert") for r in members)}
        for arch in ARCHS:  # the range over the folder's models
            values = [r.get(f"latency_s_{arch}") for r in members]
            row[f"latency_s_{arch}"] = (min(values), max(values)) if all(isinstance(v, float) for v in values) else next(
                v for v in values if not isinstance(v, float))
        out.append(row)
    return out


def markdown(rows: list[dict]) -> str:
    lines = ["| model | ops | scheme | bit-exact vs LiteRT (5 inputs) | stm32l4r5 | ndp120 |", "|---|---|---|---|---|---|"]
    for r in rows:
        if "refused" in r:
            reason = r["refused"].split("; supported:")[0]  # the engine's op list is `tinysim ops`
            reason = re.sub(r"'([^']{41,})'", lambda m: f"'{m.group(1)[:37]}...'", reason)
            lines.append(f"| {r['model']} | refused: {reason} | | | | |")
            continue
        cells = [_latency(r.get(f"latency_s_{a}")) for a in ARCHS]
        exact = "yes" if r["bit_exact_litert"] else "NO"
        lines.append(f"| {r['model']} | {r['ops']} | {r['scheme']} | {exact} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _latency(value) -> str:
    from tinysim.units import Dimension, format_quantity

    if isinstance(value, float):
        return format_quantity(value, Dimension.TIME)
    if isinstance(value, tuple):
        return " – ".join(format_quantity(v, Dimension.TIME) for v in value)
    if not value:
        return ""
    why = re.sub(r"'([^']{25,})'", "'...'", value)  # a refusal: keep it short, the CLI prints the whole line
    return f"({why[:70]}...)" if len(why) > 70 else f"({why})"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=str(ROOT.parent / "shared" / "models"), help="the shared models folder")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    args = p.parse_args(argv)
    root = Path(args.models)
    paths = sorted(p for p in root.rglob("*.tflite") if "testdata" not in p.parts)
    if not paths:
        print(f"no .tflite models under {root}", file=sys.stderr)
        return 2
    folder_of = {p.name: (p.parent.relative_to(root).as_posix() if "tflm_seanet" in p.parts else "") for p in paths}
    rows = grouped([cover(p) for p in paths], folder_of)
    print(json.dumps(rows, indent=2) if args.format == "json" else markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
