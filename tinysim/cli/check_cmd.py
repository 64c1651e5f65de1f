"""`tinysim check FILE...`: validate architecture and workload files without simulating.

A workload is loaded and prepared for the engine exactly as `tinysim run` does it (no inference), so
check refuses what run refuses, with the same message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinysim.arch import load_arch
from tinysim.engine import plan_arena, prepare, runnable_ops
from tinysim.errors import TinysimError
from tinysim.workload import load_workload

EXAMPLES = """examples:
  tinysim check archs/stm32l4r5.yaml
  tinysim check archs/*.yaml workloads/*.yaml
  tinysim check ../shared/models/*.tflite     # a model check passes, tinysim run runs
"""


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="validate architecture and workload files",
        description="Validate files: architecture YAMLs (they have `compute:`), layer-list workload YAMLs "
        "and .tflite models. A workload is also prepared for the engine as `tinysim run` would (no inference), so "
        "every op kind the engine cannot run is named, with its count and first layer. Prints one line per "
        "file; exit status 2 if any is invalid.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    for name in args.files:
        try:
            what = _check_one(Path(name))
            print(f"{name}: ok ({what})")
        except TinysimError as err:
            failed += 1
            print(f"tinysim: {err}", file=sys.stderr)
    return 2 if failed else 0


def _check_one(path: Path) -> str:
    if path.suffix in (".yaml", ".yml") and _looks_like_arch(path):
        arch = load_arch(path)
        return f"architecture '{arch.name}', {len(arch.compute)} compute unit(s), {len(arch.memories)} memories"
    graph = load_workload(path, runnable=runnable_ops())
    plan_arena(graph)  # the steps `tinysim run` takes before its inference, in its order
    prepare(graph)
    return f"workload '{graph.name}', {len(graph.ops)} ops"


def _looks_like_arch(path: Path) -> bool:
    """Architecture files declare `compute:` at top level; workloads declare `layers:`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # let the arch loader report the missing file
    return any(line.startswith("compute:") for line in text.splitlines()) or "layers:" not in text
