"""`tinysim compress WORKLOAD`: prune, re-quantize or share, Huffman-code; print sizes and fidelity; write the result."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tinysim.cli.output import emit
from tinysim.errors import TinysimError, WorkloadError

if TYPE_CHECKING:  # the engine loads when the command runs, not when the parser is built
    from tinysim.compression.pipeline import CompressOptions

EXAMPLES = """examples:
  tinysim compress models/ad_autoencoder_int8.tflite --prune 0.9 --bits 4 --share --huffman \\
      --sample models/testdata/ad_normal_id_01_00000000_hist_librosa.bin -o out/ad_c.yaml
  tinysim compress kws --prune 0.5 --bits 4 --share --huffman -o out/kws_c.yaml
  tinysim run stm32l4r5 out/kws_c.yaml
  tinysim compress model.tflite --bits 6 --format json
  tinysim compress models/ad_autoencoder_int8.tflite --prune 0.9 --bits 4 --share --huffman \\
      --arch ethos-u55-128
"""


def register(sub) -> None:
    p = sub.add_parser(
        "compress",
        help="Deep Compression: prune, quantize / share weights, Huffman-code; sizes and fidelity",
        description="Compress a workload's weights (magnitude pruning, n-bit re-quantization or k-means weight "
        "sharing, Huffman coding), print the per-layer size table (bytes measured from the encoded streams) and "
        "the fidelity table (the engine runs original and compressed on the same inputs), and optionally write "
        "the compressed workload (YAML + .npz) that `tinysim run` accepts.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("workload", metavar="WORKLOAD", help="workload: .tflite model or .yaml")
    p.add_argument("--prune", type=float, default=0.0, metavar="S", help="target sparsity 0..1 (default 0: none)")
    p.add_argument(
        "--granularity",
        choices=("weight", "channel"),
        default="weight",
        help="prune single weights (default) or whole output channels",
    )
    p.add_argument(
        "--scope",
        choices=("layer", "global"),
        default="layer",
        help="each layer to the target (default) or one magnitude threshold over all layers",
    )
    p.add_argument(
        "--bits", type=int, metavar="N", help="2..8: re-quantize to N bits, or with --share 2^N shared values"
    )
    p.add_argument("--share", action="store_true", help="k-means weight sharing (needs --bits)")
    p.add_argument("--huffman", action="store_true", help="Huffman-code indices and relative positions")
    p.add_argument(
        "--bias-correction",
        action="store_true",
        help="correct each layer's bias for the mean shift compression causes (calibrated on seeded "
        "random inputs, seeds 1000.., or on --calibrate)",
    )
    p.add_argument("--calibrate", metavar="FILE", help="AD-style sample clip to calibrate the bias correction on")
    p.add_argument("--inputs", type=int, default=16, metavar="N", help="seeded random inputs for fidelity (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first random input (default 0)")
    p.add_argument("--sample", metavar="FILE", help="AD sample clip (float32 200x128 log-mel frames) for fidelity")
    p.add_argument(
        "--sensitivity",
        action="store_true",
        help="also prune each layer alone to --prune and report the fidelity (on --sample if given)",
    )
    p.add_argument("--arch", metavar="ARCH", help="also price original and compressed on this architecture")
    p.add_argument("--operating-point", metavar="NAME", help="operating point of --arch (default: its first)")
    p.add_argument("-o", "--out", metavar="OUT.yaml", help="write the compressed workload (OUT.yaml + OUT.npz)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import compile_notice

    with compile_notice():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from tinysim.compression.fidelity import compare, random_inputs
    from tinysim.compression.pipeline import compress
    from tinysim.report.compress_report import (
        as_data,
        fidelity_table,
        hardware_record,
        hardware_table,
        sensitivity_record,
        sensitivity_table,
        size_table,
    )
    from tinysim.workload import load_workload
    from tinysim.workload.npz_graph import save_graph_npz

    options = _options(args)
    graph = load_workload(args.workload)
    calibration = _windows(args.calibrate, graph, "--calibrate") if args.calibrate else None
    result = compress(graph, options, calibration)
    fidelity = []
    if args.inputs > 0:
        fidelity.append(
            compare(graph, result.graph, random_inputs(graph, args.inputs, args.seed), f"{args.inputs} seeded random")
        )
    if args.sample:
        windows = _windows(args.sample, graph, "--sample")
        fidelity.append(compare(graph, result.graph, windows, f"{Path(args.sample).name} windows"))
    data = as_data(result, fidelity)
    sensitivity = ""
    if args.sensitivity:
        from tinysim.compression.sensitivity import prune_sensitivity

        if not options.prune:
            raise TinysimError("a sensitivity analysis needs a sparsity to prune each layer to", field="--prune")
        label, inputs = (
            (fidelity[-1].inputs, windows)
            if args.sample
            else (f"{max(args.inputs, 1)} seeded random", random_inputs(graph, max(args.inputs, 1), args.seed))
        )
        rows = prune_sensitivity(graph, options.prune, inputs, label, granularity=options.granularity)
        data["sensitivity"] = [sensitivity_record(r) for r in rows]
        sensitivity = "\n\n" + sensitivity_table(rows, options.prune)
    hardware = None
    if args.arch:
        from tinysim.arch import load_arch
        from tinysim.compression.hardware import hardware_effect
        from tinysim.engine import random_input

        hardware = hardware_effect(
            load_arch(args.arch), graph, result, random_input(graph, args.seed), args.operating_point
        )
        data["hardware"] = hardware_record(hardware)
    written = ""
    if args.out:
        try:
            yaml_path, npz_path = save_graph_npz(result.graph, args.out, extra={"compression": data})
        except OSError as err:
            raise TinysimError(f"cannot write: {err.strerror}", file=args.out, field="--out") from err
        written = f"\n\nwrote {yaml_path} and {npz_path.name} (run it: tinysim run ARCH {yaml_path})"
    if args.format == "json":
        text = json.dumps(data, indent=2)
    else:
        text = f"{graph.name}: {options.describe()}\n\n{size_table(result)}"
        if fidelity:
            text += "\n\n" + fidelity_table(fidelity)
        text += sensitivity
        if hardware is not None:
            text += "\n\n" + hardware_table(hardware)
        text += written
    emit(text, args.output)
    return 0


def _options(args: argparse.Namespace) -> CompressOptions:
    from tinysim.compression.pipeline import CompressOptions

    if not 0.0 <= args.prune < 1.0:
        raise TinysimError(f"expected a sparsity in [0, 1), got {args.prune}", field="--prune")
    if args.bits is not None and not 2 <= args.bits <= 8:
        raise TinysimError(f"expected 2..8 bits, got {args.bits}", field="--bits")
    if args.share and args.bits is None:
        raise TinysimError("weight sharing needs --bits N (2^N shared values per layer)", field="--share")
    if args.calibrate and not args.bias_correction:
        raise TinysimError("a calibration sample is only used with --bias-correction", field="--calibrate")
    return CompressOptions(
        args.prune, args.granularity, args.scope, args.bits, args.share, args.huffman, args.bias_correction
    )


def _windows(path: str, graph, option: str) -> list:
    from tinysim.compression.fidelity import ad_windows

    try:
        return ad_windows(path, graph)
    except (OSError, ValueError) as err:
        raise WorkloadError(str(err), file=path, field=option) from err
