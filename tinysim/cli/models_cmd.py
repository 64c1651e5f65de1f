"""`tinysim models fetch|list`: the MLPerf Tiny reference models, downloaded and checksum-verified."""

from __future__ import annotations

import argparse
import sys

EXAMPLES = """examples:
  tinysim models list
  tinysim models fetch                 # into ./models/
  tinysim models fetch --dir ~/tinyml/models
  tinysim run stm32l4r5 models/kws_ref_model_int8.tflite
"""


def register(sub) -> None:
    p = sub.add_parser(
        "models",
        help="list or download the MLPerf Tiny reference .tflite models",
        description="The four MLPerf Tiny int8 reference models, downloaded from github.com/mlcommons/tiny "
        "at a pinned commit; each file's sha256 is verified and a mismatch is refused.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    f = msub.add_parser(
        "fetch",
        help="download and verify the reference models",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("--dir", default="models", help="destination directory (default ./models)")
    f.add_argument(
        "--base-url", default=None, help="mirror serving the repository layout (default: GitHub, pinned commit)"
    )
    f.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    f.set_defaults(func=run_fetch)
    ls = msub.add_parser("list", help="list the reference models and their checksums")
    ls.set_defaults(func=run_list)


def run_fetch(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import named_bars
    from tinysim.workload import fetch

    try:
        with named_bars("B", enabled=not args.quiet) as progress:
            paths = fetch.fetch_models(args.dir, base_url=args.base_url or fetch.DEFAULT_BASE_URL, progress=progress)
    except fetch.Terminated:
        # 128 + SIGTERM, what a shell reports for a process SIGTERM killed (as main's 130 is 128 + SIGINT);
        # exit 2 means "your input is wrong", which a SIGTERM is not
        print("tinysim: terminated (SIGTERM); the partial download was removed", file=sys.stderr)
        return 128 + 15
    for path in paths:
        print(f"{path}: sha256 verified")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from tinysim.workload import fetch

    for model in fetch.REFERENCE_MODELS:
        print(f"{model.name}  {model.size_bytes:>9,} B  sha256 {model.sha256}")
    return 0
