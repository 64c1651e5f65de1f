"""`tinysim` command line: parse arguments, call the library, print; errors become one line + exit 2."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from tinysim.errors import TinysimError
from tinysim.version import __version__

EPILOG = """examples:
  tinysim run stm32l4r5 kws --per-layer
  tinysim run stm32l4r5 models/kws_ref_model_int8.tflite --rate 5 --format json
  tinysim compare stm32l4r5 stm32l4r5-cmsis nrf5340 ndp120 --workload kws --deadline "50 ms"
  tinysim check my_arch.yaml my_net.tflite
  tinysim list archs
  tinysim validate
  tinysim models fetch --dir models/
"""

# Errors below the CLI name the quantity a caller passed ("rate"); on the command line it is a flag.
# A YAML file's field (a sweep's `rate:`) keeps its own name; other files (an --input .npy, a --timeline
# PNG) are named by the argument that gave them.
FLAGS = {
    name: f"--{name}"
    for name in (
        "rate",
        "deadline",
        "input",
        "jobs",
        "dask",
        "arch",
        "duration",
        "timeline",
        "workload",
        "seed",
        "battery",
        "operating-point",
        "frames",
    )
}
FLAGS["operating point"] = "--operating-point"

# The modules under tinysim/cli that define the subcommands, in --help order. Each one's `register` only
# declares arguments and its module imports nothing heavy (numpy, numba, the engine load when a command
# runs), so `tinysim --help` stays fast; tests/test_cli_startup.py checks that.
COMMANDS = (
    "run_cmd",
    "compare_cmd",
    "check_cmd",
    "ops_cmd",
    "list_cmd",
    "validate_cmd",
    "models_cmd",
    "always_on_cmd",
    "imc_fidelity_cmd",
    "compress_cmd",
    "report_cmd",
    "sweep_cmd",
    "export_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinysim",
        description="Cycle-approximate simulator of always-on TinyML hardware.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tinysim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"tinysim.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except TinysimError as err:
        if err.field in FLAGS and not str(err.file or "").endswith((".yaml", ".yml")):
            err.field = FLAGS[err.field]
        print(f"tinysim: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinysim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # a bug in tinysim, not the user's input: keep it to one line unless debugging
        if os.environ.get("TINYSIM_DEBUG"):
            raise
        print(
            f"tinysim: internal error: {type(err).__name__}: {err} (set TINYSIM_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
