"""`tinysim compare ARCH... --workload W`: one table (and a bar chart) of several architectures on workloads.

Each workload is run once through the engine (seeded random input) and its counted events are
priced on every architecture. An architecture that cannot run a workload gets a row saying why.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tinysim.cli.output import emit
from tinysim.errors import TinysimError

EXAMPLES = """examples:
  tinysim compare stm32l4r5 stm32l4r5-cmsis nrf5340 ndp120 --workload kws
  tinysim compare stm32l4r5 stm32l4r5-cmsis nrf5340 ndp120 --workload kws --workload vww --rate 5
  tinysim compare ecm3532 stm32l4r5 --workload kws --deadline "50 ms"
  tinysim compare stm32l4r5 stm32l4r5-cmsis nrf5340 ndp120 --workload ad --format csv --no-plot > ad.csv
"""


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare architectures on workloads: one table and a bar chart",
        description="Run each workload once (bit-exact int8, seeded random input), price its counted events on "
        "every architecture and print one row per (architecture, workload): operating point, latency, energy "
        "per inference, average power at the rate, peak activation SRAM, whether it fits. An architecture "
        "that cannot run a workload gets a row saying why. A grouped bar chart (PNG) goes to reports/.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "archs", metavar="ARCH", nargs="+", help="architecture YAML files or shipped names (tinysim list archs)"
    )
    p.add_argument(
        "--workload",
        "-w",
        metavar="W",
        action="append",
        required=True,
        help="workload (.tflite or layer-list .yaml); repeat for several",
    )
    p.add_argument("--rate", default="1 Hz", help="inference rate for average power (default 1 Hz)")
    p.add_argument(
        "--deadline",
        metavar="T",
        help='latency deadline, e.g. "50 ms": each architecture runs at its '
        "lowest-energy operating point that meets it (default: its first operating point)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the table to FILE instead of stdout")
    p.add_argument("--plot", metavar="PATH", help="where to write the PNG (default reports/compare_<workloads>.png)")
    p.add_argument("--no-plot", action="store_true", help="do not draw the chart")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.api import compare
    from tinysim.cli.progress import compile_notice, each
    from tinysim.pipeline import run_workload
    from tinysim.report.compare_plot import compare_png
    from tinysim.report.compare_report import to_csv, to_json, to_text

    with compile_notice():  # the engine runs are the long part; pricing on each architecture is quick
        runs = [run_workload(w, seed=args.seed) for w in each(args.workload, "compare", "workload")]
    comparison = compare(args.archs, runs, seed=args.seed, rate=args.rate, deadline=args.deadline)
    rows, rate_hz = comparison.report_rows(), comparison.rate_hz
    text = {"json": to_json, "csv": to_csv}.get(args.format, to_text)(rows, rate_hz)
    if not args.no_plot:
        names = comparison.workloads
        plot = Path(args.plot) if args.plot else Path("reports") / f"compare_{_slug('_'.join(names))}.png"
        title = f"{', '.join(names)} on {len(comparison.archs)} architectures"
        _write_bytes(plot, compare_png(rows, rate_hz, title=title))
        if args.format == "table":
            text += f"\n\nchart: {plot}"
    emit(text, args.output)
    return 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "workload"


def _write_bytes(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as err:
        raise TinysimError(f"cannot write the chart: {err.strerror}", file=str(path), field="--plot") from err
