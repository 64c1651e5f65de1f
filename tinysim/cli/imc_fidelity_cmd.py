"""`tinysim imc-fidelity WORKLOAD`: output error of in-memory-compute numerics vs exact int8, per ADC / weight bits."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from tinysim.cli.output import emit
from tinysim.errors import TinysimError

if TYPE_CHECKING:  # the engine loads when the command runs, not when the parser is built
    from tinysim.engine.imc_run import FidelityReport

EXAMPLES = """examples:
  tinysim imc-fidelity fc4_audio
  tinysim imc-fidelity kws --adc-bits 4 6 8 exact --weight-bits 4 8 --rows 128
  tinysim imc-fidelity models/kws_ref_model_int8.tflite --full-scale p99.9 --noise 0.5 --format json
  tinysim imc-fidelity kws --arch ndp120 --adc-bits 4 5 6 exact
"""


def register(sub) -> None:
    p = sub.add_parser(
        "imc-fidelity",
        help="output error of in-memory-compute ADC / low-bit-weight numerics vs exact int8",
        description="Run every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED layer on an analog "
        "in-memory-compute model (bit-serial inputs, row chunks of --rows, each column sum through a "
        "--adc-bits ADC, weights requantized to --weight-bits) and compare the network output with the "
        "exact int8 engine on seeded random inputs: max / mean abs error in output LSBs, top-1 agreement "
        "for classifiers, output SNR, and ADC conversions per inference.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("workload", metavar="WORKLOAD", help="workload: .tflite model or layer-list .yaml")
    p.add_argument(
        "--adc-bits",
        nargs="+",
        metavar="B",
        help="ADC resolutions to sweep; 'exact' = digital readout (default 4 6 8 exact, or the --arch unit's)",
    )
    p.add_argument(
        "--weight-bits",
        nargs="+",
        type=int,
        metavar="B",
        help="weight precisions to sweep, 2..8 (default 4 8, or the --arch unit's)",
    )
    p.add_argument("--input-bits", type=int, help="bit-planes of the unsigned input (default 8)")
    p.add_argument("--rows", type=int, help="rows summed per column read (default 64, or the --arch unit's)")
    p.add_argument(
        "--bit-sliced",
        action="store_true",
        default=None,
        help="one-bit cells, one column per weight bit (default: one multi-level column per weight; "
        "always with --arch)",
    )
    p.add_argument(
        "--arch",
        metavar="ARCH",
        help="take the layers, weight / input / ADC bits and rows from the first `kind: imc` unit of ARCH",
    )
    p.add_argument(
        "--full-scale",
        default="max",
        metavar="POLICY",
        help="ADC full scale: 'max' (worst case rows x max|w|), a fraction of it like 0.25, "
        "or a calibrated percentile of the column sums like p99.9 (default max)",
    )
    p.add_argument("--noise", type=float, default=0.0, metavar="SIGMA", help="Gaussian ADC noise in LSBs (default 0)")
    p.add_argument("--inputs", type=int, default=20, help="number of seeded random inputs (default 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the inputs and the noise (default 0)")
    p.add_argument(
        "--per-layer",
        action="store_true",
        help="also put each MAC layer alone on the IMC model (the rest exact): output SNR per layer and setting",
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import compile_notice

    with compile_notice():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import each
    from tinysim.engine.imc_numerics import MAC_KINDS, ImcNumerics
    from tinysim.engine.imc_run import imc_fidelity
    from tinysim.report.imc_fidelity_report import as_data, fidelity_table, layer_table
    from tinysim.workload import load_workload

    graph = load_workload(args.workload)
    ops, unit = _imc_ops(args.arch, graph) if args.arch else (None, None)
    _defaults(args, unit)
    adc_bits = [_adc_bits(v) for v in args.adc_bits]
    fraction, percentile = _full_scale(args.full_scale)
    settings = [
        ImcNumerics(
            weight_bits=wb, input_bits=args.input_bits, adc_bits=ab, rows_per_array=args.rows,
            bit_sliced=args.bit_sliced, full_scale_fraction=fraction, calibrate_percentile=percentile,
            noise_sigma_lsb=args.noise if ab is not None else 0.0, seed=args.seed,
        )
        for wb in args.weight_bits
        for ab in adc_bits
    ]  # fmt: skip
    reports = [imc_fidelity(graph, n, n_inputs=args.inputs, seed=args.seed, ops=ops)
               for n in each(settings, "imc-fidelity", "setting")]  # fmt: skip
    layers: dict[int, list[FidelityReport]] = {}
    if args.per_layer:
        chosen = ops if ops is not None else [k for k, op in enumerate(graph.ops) if op.kind in MAC_KINDS]
        for k in each(list(chosen), "per layer", "layer"):
            layers[k] = [imc_fidelity(graph, n, n_inputs=args.inputs, seed=args.seed, ops=[k]) for n in settings]
    if args.format == "json":
        text = json.dumps(as_data(graph, reports, layers), indent=2)
    else:
        text = fidelity_table(graph.name, reports) + ("\n\n" + layer_table(graph, reports, layers) if layers else "")
    emit(text, args.output)
    return 0


def _imc_ops(path: str, graph) -> tuple[list[int], object]:
    """Indices of the MAC ops ARCH places on a `kind: imc` unit, and the first such unit."""
    from tinysim.arch import load_arch
    from tinysim.cost.placement import place
    from tinysim.engine.imc_numerics import MAC_KINDS

    placed = place(graph, load_arch(path))
    ops = [k for k, unit in enumerate(placed) if unit.kind == "imc" and graph.ops[k].kind in MAC_KINDS]
    if not ops:
        raise TinysimError(f"no layer of {graph.name} is placed on a `kind: imc` unit", file=path, field="compute")
    return ops, placed[ops[0]]


def _defaults(args: argparse.Namespace, unit) -> None:
    """Fill the options left unset: from the arch's IMC unit if given, else the command's defaults."""
    if unit is not None:
        analog = unit.mode.value == "analog"
        args.weight_bits = args.weight_bits or [unit.weight_bits]
        args.adc_bits = args.adc_bits or [str(unit.adc_bits) if analog else "exact"]
        args.input_bits = args.input_bits or min(unit.input_bits, 8)
        args.rows = args.rows or unit.rows_per_activation
        args.bit_sliced = True
    args.weight_bits = args.weight_bits or [4, 8]
    args.adc_bits = args.adc_bits or ["4", "6", "8", "exact"]
    args.input_bits = args.input_bits or 8
    args.rows = args.rows or 64
    args.bit_sliced = bool(args.bit_sliced)


def _adc_bits(value: str) -> int | None:
    if value.lower() in ("exact", "none", "digital"):
        return None
    try:
        return int(value)
    except ValueError:
        raise TinysimError(f"expected an integer or 'exact', got {value!r}", field="--adc-bits") from None


def _full_scale(value: str) -> tuple[float, float | None]:
    """'max' -> (1, None); '0.25' -> (0.25, None); 'p99.9' -> (1, 99.9)."""
    text = value.strip().lower()
    try:
        if text == "max":
            return 1.0, None
        if text.startswith("p"):
            return 1.0, float(text[1:])
        return float(text), None
    except ValueError:
        raise TinysimError(f"expected 'max', a fraction or pNN.N, got {value!r}", field="--full-scale") from None
