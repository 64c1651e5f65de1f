"""tinysim's `npu` model vs Arm Vela's performance estimate on the MLPerf Tiny int8 models.

    python benchmarks/vela_compare.py [--vela PATH] [--models DIR] [--configs u55-128 u65-256 ...] [--no-vela]
    python benchmarks/vela_compare.py --per-layer vww_96_int8 [--configs u55-256]

Runs `vela MODEL --accelerator-config ethos-<config> --system-config Ethos_U55_High_End_Embedded
--memory-mode Shared_Sram` on each model (the same system for every size, the U55's default; the U65's
own default is a DRAM server system), reads `cycles_total` from Vela's summary CSV, prices the same
model with tinysim on archs/ethos-u55-128.yaml with `compute.npu.config` set to that configuration
(tinysim/arch/ethos_u_configs.yaml; nothing re-fitted), prints both and the error, and writes tinysim/validation/vela_reference.yaml (the figures tests/test_npu.py checks against).
With --no-vela it compares against the figures already in that file; --per-layer MODEL runs Vela
with --verbose-performance and prints Vela's and tinysim's cycles for each weight/pool/add op.
Benchmark-only: Vela lives in its own virtualenv (`pip install ethos-u-vela==5.2.0`).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_tools import peer_executable

from tinysim.cost import simulate
from tinysim.validation.peers import vela_arch
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tinysim" / "validation" / "vela_reference.yaml"
MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8"]
SYSTEM_CONFIG = "Ethos_U55_High_End_Embedded"
MEMORY_MODE = "Shared_Sram"

CONFIGS = ("ethos-u55-128", "ethos-u55-64", "ethos-u55-256", "ethos-u65-256", "ethos-u65-512")


def config_name(text: str) -> str:
    """The full Vela name: u55-64 or ethos-u55-64 -> ethos-u55-64."""
    return text if text.startswith("ethos-") else f"ethos-{text}"


def vela_command(vela: str, model: Path, config: str, out_dir: Path) -> list[str]:
    system = ["--system-config", SYSTEM_CONFIG, "--memory-mode", MEMORY_MODE]
    return [vela, str(model), "--accelerator-config", config, *system, "--output-dir", str(out_dir)]


def run_vela(vela: str, model: Path, config: str, out_dir: Path) -> dict[str, float]:
    """Compile `model` for `config`; the summary CSV's cycle and time figures."""
    subprocess.run(vela_command(vela, model, config, out_dir), check=True, capture_output=True, text=True)
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


def per_layer(vela: str, model: Path, config: str) -> None:
    """Vela's per-op cycles next to tinysim's, for the ops that map one to one (softmax is split by Vela)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = vela_command(vela, model, config, Path(tmp))
        subprocess.run([*cmd, "--verbose-performance"], check=True, capture_output=True, text=True)
        with open(Path(tmp) / f"{model.stem}_per-layer.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["NNG Operator"] in _LAYER_OPS]
    graph = load_workload(model)
    result = simulate(arch_for(config), graph, [estimate_events(graph, op) for op in graph.ops])
    ours = [(op, layer) for op, layer in zip(graph.ops, result.layers) if op.kind.value in _LAYER_OPS.values()]
    print(f"| {model.stem} {config} op | output | Vela cycles | tinysim cycles | tinysim bound |")
    print("|---|---|---|---|---|")
    for row, (op, layer) in zip(rows, ours):
        shape = "x".join(map(str, graph.op_outputs(op)[0].shape[1:]))
        print(f"| {op.kind.value} | {shape} | {int(row['Op Cycles']):,} | {layer.cycles:,.0f} | {layer.bound} |")


def arch_for(config: str):
    """The arch tinysim prices `config` on (the one `tinysim validate` uses: validation.peers.vela_arch)."""
    return vela_arch(REPO, config)


def tinysim_cycles(arch, model: Path) -> float:
    graph = load_workload(model)
    return simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops]).cycles


def vela_version(vela: str) -> str:
    return subprocess.run([vela, "--version"], check=True, capture_output=True, text=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vela", default=shutil.which("vela") or peer_executable("vela", "vela"))
    ap.add_argument("--models", default=str(REPO.parent / "shared" / "models"))
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), help="u55-64 ... u65-512 (or ethos-u55-64 ...)")
    ap.add_argument("--no-vela", action="store_true", help="compare with tinysim/validation/vela_reference.yaml")
    ap.add_argument("--per-layer", metavar="MODEL", help="per-op table for one model (first of --configs)")
    args = ap.parse_args()
    args.configs = [config_name(c) for c in args.configs]
    if unknown := sorted(set(args.configs) - set(CONFIGS)):
        ap.error(f"unknown configs {unknown}; valid: {', '.join(CONFIGS)}")
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
            "memory_mode": MEMORY_MODE,
            "core_clock_hz": 500_000_000,
            "results": {},
        }
        with tempfile.TemporaryDirectory() as tmp:
            for config in args.configs:
                reference["results"][config] = {
                    name: run_vela(args.vela, models / f"{name}.tflite", config, Path(tmp) / config / name)
                    for name in MODELS
                }
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        header = "# Arm Vela performance estimates; written by benchmarks/vela_compare.py, do not edit by hand.\n"
        REFERENCE.write_text(header + yaml.safe_dump(reference, sort_keys=False))

    print(f"Vela {reference['vela_version']}, {reference['system_config']}, {reference['date']}")
    print("| config | model | Vela cycles | tinysim cycles | error |\n|---|---|---|---|---|")
    for config, rows in reference["results"].items():
        if config not in args.configs:
            continue
        arch = arch_for(config)
        for name, row in rows.items():
            ours = tinysim_cycles(arch, models / f"{name}.tflite")
            vela = row["cycles_total"]
            print(f"| {config} | {name} | {vela:,} | {ours:,.0f} | {100 * (ours / vela - 1):+.1f} % |")


if __name__ == "__main__":
    main()
