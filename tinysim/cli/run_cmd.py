"""`tinysim run ARCH WORKLOAD`: run the quantized network (or N frames of a streaming one), price what it did, report per layer and in total."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tinysim.cli.output import emit
from tinysim.errors import TinysimError

if TYPE_CHECKING:  # the engine and numpy load when the command runs, not when the parser is built
    import numpy as np

EXAMPLES = """examples:
  tinysim run stm32l4r5 kws
  tinysim run stm32l4r5 kws --per-layer --rate 10
  tinysim run ecm3532 kws --deadline "50 ms"
  tinysim run stm32l4r5 model.tflite --input x.npy --save-output y.npy
  tinysim run stm32l4r5 model.tflite --format json --output reports/kws.json
  tinysim run stm32l4r5 ad --format csv > ad_layers.csv
  tinysim run ndp120 lstm.tflite --frames 50 --rate 50    # 50 invocations, state carried
  tinysim run ndp120 lstm.tflite --frames 50 --input stream.npy   # stream: [50, *input shape]
  tinysim run ndp100 kws --rate 10 --strict   # exit 2 if 10 Hz is not sustainable
"""


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="simulate one inference of a workload on an architecture",
        description="Run one inference of the quantized network (int8, legacy uint8 or int16x8, with float "
        "islands; bit-exact with LiteRT's builtin reference kernels), "
        "count what it did (MACs, zero operands, bytes moved) and price it on the architecture: per-layer "
        "and total cycles, latency, energy, average power at an inference rate, and memory fit.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("arch", metavar="ARCH", help="architecture YAML, or a shipped name (tinysim list archs)")
    p.add_argument("workload", metavar="WORKLOAD", help="workload: .tflite model or layer-list .yaml")
    p.add_argument("--rate", default="1 Hz", help='inference rate for average power, e.g. 10 or "10 Hz" (default 1 Hz)')
    point = p.add_mutually_exclusive_group()
    point.add_argument(
        "--operating-point", metavar="NAME", help="operating point of the architecture (default: its first)"
    )
    point.add_argument(
        "--deadline",
        metavar="T",
        help='latency deadline, e.g. "50 ms": price every operating point '
        "and run at the lowest-energy one that meets it",
    )
    p.add_argument(
        "--input",
        metavar="X.npy",
        help="input tensor in the model's input dtype (default: seeded random "
        "input); with --frames, all frames: shape [N, *input shape]",
    )
    p.add_argument(
        "--frames",
        metavar="N",
        type=int,
        help="run N invocations in a row, carrying the state of "
        "stateful ops (LSTM, SVDF) from one to the next, and report each and the total "
        "(random input: frame i uses seed + i)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random input (default 0)")
    p.add_argument("--save-output", metavar="Y.npy", help="save the network's output (its own dtype)")
    p.add_argument(
        "--events",
        choices=("engine", "shapes"),
        default="engine",
        help="price events counted on a real run (default) or estimated from shapes",
    )
    p.add_argument(
        "--work-limit",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply the engine's work limits (1e11 MACs, 4 GiB of activations per run; a larger "
        "model is refused before it starts, with the estimate) by FACTOR",
    )
    p.add_argument("--per-layer", action="store_true", help="show the per-layer table (always in json/csv)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 2 when an inference outlasts the period of --rate "
        "(the figures are printed either way; without --strict the average power is marked not "
        "sustainable and the exit status is 0)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import compile_notice

    with compile_notice():
        if args.frames is not None:
            return _run_frames(args)
        return _run_one(args)


def _run_one(args: argparse.Namespace) -> int:
    from tinysim.pipeline import dvfs_dict, evaluate
    from tinysim.report.compare_report import operating_points_table
    from tinysim.report.run_report import to_csv, to_json, to_text

    evaluation = evaluate(
        args.arch,
        args.workload,
        input=args.input,
        seed=args.seed,
        events=args.events,
        operating_point=args.operating_point,
        deadline=args.deadline,
        rate=args.rate,
        work_limit=args.work_limit,
    )
    result, rate_hz, choice = evaluation.result, evaluation.rate_hz, evaluation.dvfs
    extra: dict = {}
    if evaluation.output is not None:
        if args.save_output:
            _save(args.save_output, evaluation.output)
        extra = _prediction(evaluation.output, evaluation.run.graph)
    if choice is not None:
        extra["dvfs"] = dvfs_dict(choice)
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
    return _rate_status(args, rate_hz, [result.latency_s])


def _run_frames(args: argparse.Namespace) -> int:
    for flag, given in (("--deadline", args.deadline), ("--save-output", args.save_output),
                        ("--events shapes", args.events != "engine")):  # fmt: skip
        if given:
            raise TinysimError(f"{flag} cannot be combined with --frames", field="--frames")
    from tinysim.frames import evaluate_frames
    from tinysim.report.frames_report import frames_csv, frames_text

    stream = evaluate_frames(args.arch, args.workload, args.frames, input=args.input, seed=args.seed,
                             operating_point=args.operating_point, rate=args.rate)  # fmt: skip
    if args.format == "json":
        text = json.dumps(stream.to_dict(per_layer=args.per_layer), indent=2)
    elif args.format == "csv":
        text = frames_csv(stream)
    else:
        text = frames_text(stream)
    emit(text, args.output)
    return _rate_status(args, stream.frames[0].rate_hz, [f.latency_s for f in stream.frames])


def _rate_status(args: argparse.Namespace, rate_hz: float | None, latencies_s: list[float]) -> int:
    """After the figures are out: one stderr line if an inference outlasts the period; exit 2 only with --strict."""
    slowest_s = max(latencies_s)
    if rate_hz is None or slowest_s <= 1.0 / rate_hz:
        return 0
    level = "error" if args.strict else "warning"
    print(
        f"tinysim: {level}: --rate: an inference takes {slowest_s * 1e3:.4g} ms, longer than the period "
        f"{1e3 / rate_hz:.4g} ms at {rate_hz:g} Hz; the highest sustainable rate is {1.0 / slowest_s:.4g} Hz "
        f"(average power not given)",
        file=sys.stderr,
    )
    return 2 if args.strict else 0


def _save(path: str, array: np.ndarray) -> None:
    """The output as a .npy file, atomically (np.save would add ".npy" to any other name, silently)."""
    import io

    import numpy as np

    from tinysim.cli.output import write_atomic

    if not path.endswith(".npy"):
        raise TinysimError('expected a file name ending in ".npy"', file=path, field="--save-output")
    buffer = io.BytesIO()
    np.save(buffer, array)
    write_atomic(Path(path), buffer.getvalue(), field="--save-output")


MAX_JSON_OUTPUT = 65_536  # output values a JSON report lists (a batch of 65,536 frames would be gigabytes of text)


def _prediction(output: np.ndarray, graph) -> dict:
    """The output's shape and values (up to MAX_JSON_OUTPUT of them; --save-output writes any size); for
    classifiers (a 1 x N output, N > 1, ending in SOFTMAX) the top class and its dequantized score too."""
    values = {"output_shape": list(output.shape)}
    if output.size <= MAX_JSON_OUTPUT:
        values["output"] = output.reshape(-1).tolist()
    if output.ndim != 2 or output.shape[0] != 1 or output.shape[1] < 2 or graph.ops[-1].kind.value != "SOFTMAX":
        return values
    import numpy as np

    quant = graph.tensor(graph.outputs[0]).quant
    top = int(np.argmax(output[0]))
    score = float(output[0, top])
    if quant is not None:
        score = quant.scale[0] * (score - quant.zero_point[0])
    return {"top_class": top, "top_score": score, **values}
