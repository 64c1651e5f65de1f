"""`tinysim validate`: predicted vs published figures for every reference row, with the error of each."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinysim.cli.output import emit
from tinysim.report.validation_report import validation_markdown, validation_text
from tinysim.validation import compare

EXAMPLES = """examples:
  tinysim validate
  tinysim validate --format markdown --output reports/validation.md
"""


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="compare predictions with published measurements (MLPerf Tiny results)",
        description="Simulate every (architecture, workload) pair that has a published measurement "
        "and print predicted vs published latency and energy with the error of each. Rows marked "
        "'calibration' set constants in the arch YAML; the others are predictions.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--root", default=".", help="project root holding archs/ and workloads/ (default .)")
    p.add_argument("--format", choices=("table", "markdown"), default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    comparisons = compare(Path(args.root))
    text = validation_markdown(comparisons) if args.format == "markdown" else validation_text(comparisons)
    emit(text, args.output)
    return 0
