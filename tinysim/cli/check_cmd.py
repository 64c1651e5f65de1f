"""`tinysim check FILE...`: validate tinysim files without simulating, reporting every error of each.

A YAML file's kind (architecture, layer-list workload, scenario, sweep) is told by its top-level keys
(`tinysim.schema.kinds`); each is read by its loader in collecting mode, so a file with three
independent errors gets three lines. A workload is also prepared for the engine exactly as `tinysim run`
does it (no inference), so check refuses what run refuses, with the same message.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tinysim.errors import TinysimError

if TYPE_CHECKING:
    from tinysim.workload.graph import Graph

EXAMPLES = """examples:
  tinysim check archs/stm32l4r5.yaml
  tinysim check archs/*.yaml workloads/*.yaml workloads/scenarios/*.yaml workloads/sweeps/*.yaml
  tinysim check ../shared/models/*.tflite     # a model check passes, tinysim run runs
"""


def register(sub) -> None:
    p = sub.add_parser(
        "check",
        help="validate architecture, workload, scenario and sweep files",
        description="Validate files: architecture YAMLs (`compute:`, `memories:` or `extends:`), layer-list "
        "workload YAMLs (`layers:`), scenarios (`sensor:`, `inference:`), sweeps (`base:`, `axes:`) and .tflite "
        "models. Every error of a file is printed, one line each, sorted by line. A workload is also prepared "
        "for the engine as `tinysim run` would (no inference), so every op kind the engine cannot run is named, "
        "with its count and first layer. Prints one line per valid file; exit status 2 if any is invalid.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.schema.collect import error_list

    failed = 0
    for name in args.files:
        try:
            what = _check_one(Path(name))
            print(f"{name}: ok ({what})")
        except TinysimError as err:
            failed += 1
            for one in error_list(err):
                print(f"tinysim: {one}", file=sys.stderr)
    return 2 if failed else 0


def _check_one(path: Path) -> str:
    from tinysim.arch import load_arch
    from tinysim.engine import runnable_ops
    from tinysim.schema.collect import ErrorCollector
    from tinysim.schema.kinds import SpecKind, spec_kind
    from tinysim.schema.yamlio import load_yaml
    from tinysim.workload import load_workload

    path = _shipped(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        return _workload(load_workload(path, runnable=runnable_ops()), path)
    kind = spec_kind(load_yaml(path), file=str(path))
    errors = ErrorCollector(collect=True)
    if kind is SpecKind.ARCH:
        arch = load_arch(path, errors=errors)
        return f"{kind.value} '{arch.name}', {len(arch.compute)} compute unit(s), {len(arch.memories)} memories"
    if kind is SpecKind.SCENARIO:
        from tinysim.system.scenario import load_scenario

        scenario = load_scenario(path, errors=errors)
        return f"{kind.value} '{scenario.name}', every {scenario.period_s * 1e3:g} ms"
    if kind is SpecKind.SWEEP:
        from tinysim.explore.sweep_spec import load_sweep

        spec = load_sweep(path, errors=errors)
        return f"{kind.value} '{spec.name}', {len(spec.axes)} axes, grid of {spec.size} points"
    from tinysim.workload.npz_graph import is_graph_npz

    if is_graph_npz(path):
        return _workload(load_workload(path, runnable=runnable_ops()), path)
    from tinysim.workload.layers_yaml import load_layers_yaml

    return _workload(load_layers_yaml(path, errors=errors), path, kind.value)


def _workload(graph: Graph, path: Path, what: str = "workload") -> str:
    from tinysim.engine import plan_arena, prepare
    from tinysim.pipeline import check_engine_work

    plan = plan_arena(graph)  # the steps `tinysim run` takes before its inference, in its order
    check_engine_work(graph, plan.peak_bytes, file=str(path))
    prepare(graph)
    return f"{what} '{graph.name}', {len(graph.ops)} ops"


def _shipped(path: Path) -> Path:
    """A bare name that is no file here: the shipped file of that name (archs, then workloads, scenarios, sweeps)."""
    from tinysim.catalog import Shipped, is_name
    from tinysim.schema.files import is_regular_file

    if is_regular_file(path) or not is_name(path):
        return path
    found = [kind.folder / f"{path}.yaml" for kind in Shipped if is_regular_file(kind.folder / f"{path}.yaml")]
    return found[0] if found else path
