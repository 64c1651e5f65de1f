"""tinysim's `npu` model vs Arm Vela's performance estimate on the MLPerf Tiny int8 models.

    python benchmarks/vela_compare.py [--vela PATH] [--models DIR] [--configs 128 64 256] [--no-vela]
    python benchmarks/vela_compare.py --per-layer vww_96_int8 [--configs 256]

Runs `vela MODEL --accelerator-config ethos-u55-<N>` (Vela's default system config
Ethos_U55_High_End_Embedded) on each model, reads `cycles_total` from Vela's summary CSV, prices
the same model with tinysim on archs/ethos-u55-128.yaml (for 64 and 256 MACs/cycle: the same
file with the MAC array, micro-block and output-stage numbers of that configuration, from Vela's
architecture_features.py; nothing re-fitted), prints both and the error, and writes
tinysim/validation/vela_reference.yaml (the figures tests/test_npu.py checks against).
With --no-vela it compares against the figures already in that file; --per-layer MODEL runs Vela
with --verbose-performance and prints Vela's and tinysim's cycles for each weight/pool/add op.
Benchmark-only: Vela lives in its own virtualenv (`pip install ethos-u-vela==5.2.0`).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_tools import peer_executable

from tinysim.arch import load_arch
from tinysim.arch.model import OpTable
from tinysim.cost import simulate
from tinysim.ops import OpKind
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

REPO = Path(__file__).resolve().parents[1]
ARCH = REPO / "archs" / "ethos-u55-128.yaml"
REFERENCE = REPO / "tinysim" / "validation" / "vela_reference.yaml"
MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8"]
SYSTEM_CONFIG = "Ethos_U55_High_End_Embedded"

# Ethos-U55 configurations as Vela models them (architecture_features.py): micro-block W x H x C,
# output-stage cycles per element (conv/FC with ReLU, ADD, MAX_POOL_2D), and the OFM block size,
# scaled from the 128-MAC file's 1,536 outputs by the SHRAM banks (16 / 24 / 48).
CONFIGS = {
    64: {"ublock": (1, 1, 8), "out": (1.0, 3.0, 0.5), "block": 1024},
    128: {"ublock": (2, 1, 8), "out": (0.5, 1.5, 0.25), "block": 1536},
    256: {"ublock": (2, 2, 8), "out": (0.25, 0.75, 0.125), "block": 3072},
}


def run_vela(vela: str, model: Path, macs: int, out_dir: Path) -> dict[str, float]:
    """Compile `model` for ethos-u55-<macs>; the summary CSV's cycle and time figures."""
    subprocess.run(
        [vela, str(model), "--accelerator-config", f"ethos-u55-{macs}", "--output-dir", str(out_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    with open(out_dir / f"{model.stem}_summary_{SYSTEM_CONFIG}.csv", newline="") as f:
        row = next(csv.DictReader(f))
    keys = ("cycles_total", "cycles_npu", "cycles_off_chip_flash_access", "inference_time")
    return {k: int(float(row[k])) if k.startswith("cycles") else float(row[k]) for k in keys} | {
        "total_npu_encoded_weights": int(float(row["total_npu_encoded_weights"]))
    }


_LAYER_OPS = {
    "Conv2D": "CONV_2D",
    "DepthwiseConv2D": "DEPTHWISE_CONV_2D",
    "FullyConnected": "FULLY_CONNECTED",
    "AvgPool": "AVERAGE_POOL_2D",
    "Add": "ADD",
}


def per_layer(vela: str, model: Path, macs: int) -> None:
    """Vela's per-op cycles next to tinysim's, for the ops that map one to one (softmax is split by Vela)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [vela, str(model), "--accelerator-config", f"ethos-u55-{macs}", "--output-dir", tmp]
        subprocess.run([*cmd, "--verbose-performance"], check=True, capture_output=True, text=True)
        with open(Path(tmp) / f"{model.stem}_per-layer.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["NNG Operator"] in _LAYER_OPS]
    graph = load_workload(model)
    result = simulate(arch_for(macs), graph, [estimate_events(graph, op) for op in graph.ops])
    ours = [(op, layer) for op, layer in zip(graph.ops, result.layers) if op.kind.value in _LAYER_OPS.values()]
    print(f"| {model.stem} ethos-u55-{macs} op | output | Vela cycles | tinysim cycles | tinysim bound |")
    print("|---|---|---|---|---|")
    for row, (op, layer) in zip(rows, ours):
        shape = "x".join(map(str, graph.op_outputs(op)[0].shape[1:]))
        print(f"| {op.kind.value} | {shape} | {int(row['Op Cycles']):,} | {layer.cycles:,.0f} | {layer.bound} |")


def arch_for(macs: int):
    """archs/ethos-u55-128.yaml with the MAC array of ethos-u55-<macs>."""
    arch = load_arch(ARCH)
    cfg = CONFIGS[macs]
    npu = arch.compute_unit("npu")
    w, h, d = cfg["ublock"]
    conv, add, maxpool = cfg["out"]
    table = OpTable(default=conv, per_op={OpKind.ADD: add, OpKind.MAX_POOL_2D: maxpool, OpKind.RESHAPE: 0.0})
    npu = dataclasses.replace(
        npu,
        macs_per_cycle=macs,
        ublock_width=w,
        ublock_height=h,
        ublock_depth=d,
        cycles_per_output=table,
        ofm_block_outputs=cfg["block"],
    )
    compute = tuple(npu if u.name == "npu" else u for u in arch.compute)
    return dataclasses.replace(arch, name=f"ethos-u55-{macs}", compute=compute)


def tinysim_cycles(arch, model: Path) -> float:
    graph = load_workload(model)
    return simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops]).cycles


def vela_version(vela: str) -> str:
    return subprocess.run([vela, "--version"], check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vela", default=shutil.which("vela") or peer_executable("vela", "vela"))
    ap.add_argument("--models", default=str(REPO.parent / "shared" / "models"))
    ap.add_argument("--configs", type=int, nargs="+", default=[128, 64, 256], choices=sorted(CONFIGS))
    ap.add_argument("--no-vela", action="store_true", help="compare with tinysim/validation/vela_reference.yaml")
    ap.add_argument("--per-layer", metavar="MODEL", help="per-op table for one model (first of --configs)")
    args = ap.parse_args()
    models = Path(args.models)
    if args.per_layer:
        per_layer(args.vela, models / f"{args.per_layer}.tflite", args.configs[0])
        return

    if args.no_vela:
        reference = yaml.safe_load(REFERENCE.read_text())
    else:
        reference = {
            "generated_by": "benchmarks/vela_compare.py",
            "date": datetime.date.today().isoformat(),
            "vela_version": vela_version(args.vela),
            "system_config": SYSTEM_CONFIG,
            "memory_mode": "Shared_Sram",
            "core_clock_hz": 500_000_000,
            "results": {},
        }
        with tempfile.TemporaryDirectory() as tmp:
            for macs in args.configs:
                config = f"ethos-u55-{macs}"
                reference["results"][config] = {
                    name: run_vela(args.vela, models / f"{name}.tflite", macs, Path(tmp) / config / name)
                    for name in MODELS
                }
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        header = "# Arm Vela performance estimates; written by benchmarks/vela_compare.py, do not edit by hand.\n"
        REFERENCE.write_text(header + yaml.safe_dump(reference, sort_keys=False))

    print(f"Vela {reference['vela_version']}, {reference['system_config']}, {reference['date']}")
    print("| config | model | Vela cycles | tinysim cycles | error |\n|---|---|---|---|---|")
    for config, rows in reference["results"].items():
        macs = int(config.rsplit("-", 1)[1])
        if macs not in args.configs:
            continue
        arch = arch_for(macs)
        for name, row in rows.items():
            ours = tinysim_cycles(arch, models / f"{name}.tflite")
            vela = row["cycles_total"]
            print(f"| {config} | {name} | {vela:,} | {ours:,.0f} | {100 * (ours / vela - 1):+.1f} % |")


if __name__ == "__main__":
    main()
