"""`tinysim run ARCH WORKLOAD`: run the int8 network, price what it did, report per layer and in total."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tinysim.cli.output import emit
from tinysim.cost import simulate
from tinysim.cost.dvfs import select_for_deadline, simulate_points
from tinysim.engine import plan_arena, random_input, run_graph
from tinysim.errors import TinysimError, WorkloadError
from tinysim.report.compare_report import operating_points_table
from tinysim.report.run_report import to_csv, to_json, to_text
from tinysim.spec import load_arch
from tinysim.units import Dimension, parse_quantity
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

EXAMPLES = """examples:
  tinysim run archs/stm32l4r5.yaml workloads/kws.yaml
  tinysim run archs/stm32l4r5.yaml workloads/kws.yaml --per-layer --rate 10
  tinysim run archs/ecm3532.yaml workloads/kws.yaml --deadline "50 ms"
  tinysim run archs/stm32l4r5.yaml model.tflite --input x.npy --save-output y.npy
  tinysim run archs/stm32l4r5.yaml model.tflite --format json --output reports/kws.json
  tinysim run archs/stm32l4r5.yaml workloads/ad.yaml --format csv > ad_layers.csv
"""


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="simulate one inference of a workload on an architecture",
        description="Run one int8 inference of the network (bit-exact with TFLite's reference kernels), "
        "count what it did (MACs, zero operands, bytes moved) and price it on the architecture: per-layer "
        "and total cycles, latency, energy, average power at an inference rate, and memory fit.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("arch", metavar="ARCH", help="architecture YAML (archs/*.yaml)")
    p.add_argument("workload", metavar="WORKLOAD", help="workload: .tflite model or layer-list .yaml")
    p.add_argument("--rate", default="1 Hz", help='inference rate for average power, e.g. 10 or "10 Hz" (default 1 Hz)')
    point = p.add_mutually_exclusive_group()
    point.add_argument("--operating-point", metavar="NAME",
                       help="operating point of the architecture (default: its first)")
    point.add_argument("--deadline", metavar="T", help='latency deadline, e.g. "50 ms": price every operating point '
                       "and run at the lowest-energy one that meets it")
    p.add_argument("--input", metavar="X.npy", help="int8 input tensor (default: seeded random input)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    p.add_argument("--save-output", metavar="Y.npy", help="save the network's int8 output")
    p.add_argument("--events", choices=("engine", "shapes"), default="engine",
                   help="price events counted on a real run (default) or estimated from shapes")
    p.add_argument("--per-layer", action="store_true", help="show the per-layer table (always in json/csv)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rate_hz = parse_quantity(args.rate, Dimension.FREQUENCY, field="--rate")
    arch = load_arch(args.arch)
    graph = load_workload(args.workload)
    arena = plan_arena(graph)
    extra: dict = {}
    if args.events == "engine":
        inputs = _load_input(args.input, graph) if args.input else random_input(graph, args.seed)
        run_result = run_graph(graph, inputs)
        events = list(run_result.events)
        output = run_result.outputs[0]
        if args.save_output:
            _save(args.save_output, output)
        extra = _prediction(output, graph)
    else:
        events = [estimate_events(graph, op) for op in graph.ops]
    choice = None
    if args.deadline:
        deadline_s = parse_quantity(args.deadline, Dimension.TIME, field="--deadline")
        points = simulate_points(arch, graph, events, arena_bytes=arena.peak_bytes, events_source=args.events)
        choice = select_for_deadline(points, deadline_s)
        result = choice.chosen
        extra["dvfs"] = {"deadline_s": deadline_s, "reason": choice.reason(), "points": [
            {"operating_point": r.operating_point, "voltage_v": r.voltage_v, "freq_hz": r.freq_hz,
             "latency_s": r.latency_s, "energy_j": r.energy_j, "meets_deadline": r.latency_s <= deadline_s}
            for r in points]}
    else:
        result = simulate(arch, graph, events, operating_point=args.operating_point, arena_bytes=arena.peak_bytes,
                          events_source=args.events)
    if args.format == "json":
        text = to_json(result, rate_hz, extra=extra)
    elif args.format == "csv":
        text = to_csv(result)
    else:
        text = to_text(result, rate_hz, per_layer=args.per_layer)
        if choice is not None:
            text += "\n\n" + operating_points_table(choice.candidates, choice.deadline_s, choice.chosen.operating_point)
            text += "\n" + choice.reason()
        if "top_class" in extra:
            text += f"\n\ntop class: {extra['top_class']} (score {extra['top_score']:.3f})"
    emit(text, args.output)
    return 0


def _load_input(path: str, graph) -> list[np.ndarray]:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise WorkloadError(f"cannot read a .npy array: {err}", file=path, field="--input") from err
    want = graph.tensor(graph.inputs[0])
    if array.dtype != want.dtype.numpy:
        raise WorkloadError(f"expected dtype {want.dtype.value}, got {array.dtype}", file=path, field="--input")
    if array.size != want.size:
        raise WorkloadError(f"expected shape {list(want.shape)}, got {list(array.shape)}", file=path, field="--input")
    return [np.ascontiguousarray(array.reshape(want.shape))]


def _save(path: str, array: np.ndarray) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        np.save(path, array)
    except OSError as err:
        raise TinysimError(f"cannot write: {err.strerror}", file=path, field="--save-output") from err


def _prediction(output: np.ndarray, graph) -> dict:
    """For classifiers (a 1 x N output, N > 1, ending in SOFTMAX): the top class and its dequantized score."""
    if output.ndim != 2 or output.shape[0] != 1 or output.shape[1] < 2 or graph.ops[-1].kind.value != "SOFTMAX":
        return {"output": output.reshape(-1).tolist()}
    quant = graph.tensor(graph.outputs[0]).quant
    top = int(np.argmax(output[0]))
    score = float(output[0, top])
    if quant is not None:
        score = quant.scale[0] * (score - quant.zero_point[0])
    return {"top_class": top, "top_score": score, "output": output.reshape(-1).tolist()}
