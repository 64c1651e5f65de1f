"""`tinysim run ARCH WORKLOAD`: simulate one inference and report per-layer and total figures."""

from __future__ import annotations

import argparse

from tinysim.cli.output import emit
from tinysim.cost import simulate
from tinysim.report.run_report import to_csv, to_json, to_text
from tinysim.spec import load_arch
from tinysim.units import Dimension, parse_quantity
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

EXAMPLES = """examples:
  tinysim run archs/stm32l4r5.yaml workloads/kws.yaml
  tinysim run archs/stm32l4r5.yaml workloads/kws.yaml --per-layer --rate 10
  tinysim run archs/stm32l4r5.yaml model.tflite --format json --output reports/kws.json
  tinysim run archs/stm32l4r5.yaml workloads/ad.yaml --format csv > ad_layers.csv
"""


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="simulate one inference of a workload on an architecture",
        description="Simulate one inference: per-layer and total cycles, latency, energy, "
        "average power at an inference rate, and whether the model fits in memory.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("arch", metavar="ARCH", help="architecture YAML (archs/*.yaml)")
    p.add_argument("workload", metavar="WORKLOAD", help="workload: .tflite model or layer-list .yaml")
    p.add_argument("--rate", default="1 Hz", help='inference rate for average power, e.g. 10 or "10 Hz" (default 1 Hz)')
    p.add_argument("--operating-point", metavar="NAME", help="operating point of the architecture (default: its first)")
    p.add_argument("--per-layer", action="store_true", help="show the per-layer table (always in json/csv)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rate_hz = parse_quantity(args.rate, Dimension.FREQUENCY, field="--rate")
    arch = load_arch(args.arch)
    graph = load_workload(args.workload)
    events = [estimate_events(graph, op) for op in graph.ops]
    result = simulate(arch, graph, events, operating_point=args.operating_point)
    if args.format == "json":
        text = to_json(result, rate_hz)
    elif args.format == "csv":
        text = to_csv(result)
    else:
        text = to_text(result, rate_hz, per_layer=args.per_layer)
    emit(text, args.output)
    return 0
