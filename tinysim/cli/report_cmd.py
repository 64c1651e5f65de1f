"""`tinysim report RESULTS.sqlite -o reports/NAME/`: a sweep's results as index.html + report.md + PNGs."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinysim.errors import TinysimError

EXAMPLES = """examples:
  tinysim report results/ndp_imc.sqlite -o reports/ndp_imc/
  tinysim report results/ndp_imc.sqlite -o reports/kws_power/ --workload kws --objectives power sram
  tinysim report results/ndp_imc.sqlite -o reports/x/ --objectives latency energy power --top 20 --no-constraints
"""


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write a sweep's report: Pareto fronts, plots and tables (index.html + report.md)",
        description="Read a sweep results file (written by `tinysim sweep`) and write index.html and report.md "
        "with PNG charts into a folder: the sweep's definition, counts and the commonest reasons for invalid "
        "points, and per workload the Pareto front over two or three objectives (all minimised; ok results that "
        "meet the constraints), a scatter plot with the front highlighted, the energy breakdown of the front's "
        "points, latency and energy per operating point, and the top-N table.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help="sweep results file (.sqlite)")
    p.add_argument("--output", "-o", metavar="DIR", required=True, help="folder for index.html, report.md, PNGs")
    p.add_argument(
        "--objectives",
        nargs="+",
        metavar="OBJ",
        help="two or three objectives to minimise: latency, energy, power, cycles, sram, weights or any "
        "numeric column / parameter path (default: the sweep's objectives, else latency energy)",
    )
    p.add_argument("--workload", "-w", action="append", metavar="W", help="only this workload (repeatable)")
    p.add_argument("--top", type=int, default=10, metavar="N", help="rows of the top-N table (default 10)")
    p.add_argument(
        "--no-constraints",
        action="store_true",
        help="keep ok results that miss a constraint (do not fit, or miss the deadline) in the fronts",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import progress_bar
    from tinysim.explore.pareto import CONSTRAINTS
    from tinysim.explore.store import read_sweep
    from tinysim.report.sweep_report import ReportOptions, build_report

    if args.objectives is not None and not 2 <= len(args.objectives) <= 3:
        raise TinysimError(f"expected two or three objectives, got {len(args.objectives)}", field="--objectives")
    if args.top < 0:
        raise TinysimError(f"expected a count >= 0, got {args.top}", field="--top")
    options = ReportOptions(
        objectives=tuple(args.objectives or ()),
        workloads=tuple(args.workload or ()),
        top=args.top,
        constraints=() if args.no_constraints else CONSTRAINTS,
    )
    with progress_bar("report", "workload") as progress:
        report = build_report(read_sweep(args.results), options, progress=progress)
    out = Path(args.output)
    for name, png in report.images.items():
        _write_bytes(out / name, png)
    _write_bytes(out / "report.md", report.markdown.encode())
    _write_bytes(out / "index.html", report.html.encode())  # last: a page only once its images are there
    print(f"report: {out / 'index.html'} ({len(report.images)} charts), {out / 'report.md'}")
    return 0


def _write_bytes(path: Path, data: bytes) -> None:
    """Atomically, readable by others as a web page should be (the umask applies); the report folder is created."""
    from tinysim.cli.output import write_atomic

    write_atomic(path, data, parents=True)
