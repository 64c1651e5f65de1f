"""`tinysim validate`: predictions vs published measurements and vs peer tools, with the error of each row."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinysim.cli.output import emit

EXAMPLES = """examples:
  tinysim validate
  tinysim validate --models ../shared/models
  tinysim validate --format markdown --output reports/validation.md
"""


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="compare predictions with published measurements and peer tools",
        description="Simulate every (architecture, workload) pair that has a published measurement (MLPerf "
        "Tiny results) and print predicted vs published latency and energy with the error of each; rows "
        "marked 'calibration' set constants in the arch YAML, the others are predictions. Then compare "
        "cycle counts with SCALE-Sim (systolic arrays) and Arm Vela (Ethos-U55-128) as recorded from "
        "benchmarks/scalesim_compare.py and benchmarks/vela_compare.py. Last, published die areas vs the area "
        "model (tinysim/validation/die_areas.yaml).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--root", default=None, help="folder holding archs/ and workloads/ (default: the ones shipped with tinysim)"
    )
    p.add_argument(
        "--models",
        default=None,
        help="folder with the MLPerf Tiny .tflite files for the Vela rows (default: models/, else ../shared/models)",
    )
    p.add_argument("--format", choices=("table", "markdown"), default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.catalog import package_root
    from tinysim.cli.progress import compile_notice, progress_bar
    from tinysim.report.validation_report import (
        die_area_markdown,
        die_area_text,
        peer_markdown,
        peer_text,
        validation_markdown,
        validation_text,
    )
    from tinysim.validation import compare
    from tinysim.validation.die_areas import compare_die_areas
    from tinysim.validation.peers import compare_scalesim, compare_vela

    root = Path(args.root) if args.root else package_root()
    models = Path(args.models) if args.models else _default_models(root)
    with compile_notice(), progress_bar("validate", "step") as progress:
        progress(0, 3)  # three sources of reference figures: published measurements, SCALE-Sim, Vela
        published = compare(root)
        progress(1, 3)
        systolic = compare_scalesim(root)
        progress(2, 3)
        vela, missing = compare_vela(root, models)
        progress(3, 3)
    dies = compare_die_areas()
    skipped = f"\n(Vela rows skipped, model files not in {models}: {', '.join(missing)})" if missing else ""
    if args.format == "markdown":
        text = "\n\n".join(
            [
                validation_markdown(published),
                "### Systolic array vs SCALE-Sim (compute cycles, summed over the layers SCALE-Sim ran)",
                peer_markdown(systolic),
                "### Ethos-U vs Arm Vela (total cycles, every configuration in vela_reference.yaml, real .tflite models)",
                peer_markdown(vela) + skipped,
                "### Die area vs published die sizes",
                die_area_markdown(dies),
            ]
        )
    else:
        text = "\n\n".join(
            [validation_text(published), peer_text(systolic), peer_text(vela) + skipped, die_area_text(dies)]
        )
    emit(text, args.output)
    return 0


def _default_models(root: Path) -> Path:
    """models/ in the current folder (`tinysim models fetch --dir models/`), else ../shared/models beside the
    checkout that holds `root` (a source checkout keeps the MLPerf models there)."""
    if Path("models").is_dir():
        return Path("models")
    for folder in (root.resolve(), *root.resolve().parents):
        if (folder / "archs").is_dir() and (folder.parent / "shared" / "models").is_dir():
            return folder.parent / "shared" / "models"
    return Path("models")
