"""A compressed workload on hardware: encoded weights only where a decoder is declared, zero-skipping only
where sparsity support is declared, decode cost per weight; `tinysim run` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tinysim.compression import CompressOptions, compress
from tinysim.cost.weights import zero_weight_macs
from tinysim.engine import random_input, run_graph
from tinysim.ops import MAC_OPS, OpKind
from tinysim.report.compress_report import as_data
from tinysim.workload import load_workload
from tinysim.workload.npz_graph import save_graph_npz

ROOT = Path(__file__).resolve().parents[1]
CPM, DECODE_CYCLES, DECODE_ENERGY, EPC = 2.0, 3.0, 1e-12, 1e-10

TOY = """\
version: 1
name: toy
description: one core, flash and SRAM, round numbers
operating_points:
  - {{name: run, voltage: 1 V, frequency: 100 MHz, static_power: {{value: 1 mW, assumed: toy}}}}
compute:
  cpu:
    kind: mcu
    cycles_per_mac: {{default: {cpm}, assumed: toy}}
    cycles_per_element: {{default: 1, assumed: toy}}
    overhead_cycles: {{default: 100, assumed: toy}}
    energy_per_cycle: {{value: {epc} J, assumed: toy}}
    nominal_voltage: 1 V
    weights_in: flash
    activations_in: sram
{extra}
memories:
  sram: {{size: 64 KiB, width: 32 bit, read_energy: 4 pJ, write_energy: 4 pJ, leakage: 0 W, assumed: toy}}
  flash: {{size: 128 KiB, width: 32 bit, read_energy: 40 pJ, write_energy: 0 pJ, leakage: 0 W, assumed: toy}}
power_states:
  sleep: {{power: 1 uW, wake_latency: 1 us, wake_energy: 1 nJ, assumed: toy}}
  idle: {{power: 1 mW, wake_latency: 1 us, wake_energy: 1 nJ, assumed: toy}}
"""
DECODER = (
    f"    weight_decoder: {{kind: huffman, cycles_per_weight: {DECODE_CYCLES}, "
    f"energy_per_weight: {DECODE_ENERGY} J, assumed: toy}}\n"
)
SPARSITY = "    sparsity: {skip_zero_weights: true, cycles_per_skipped_mac: 0, assumed: toy}\n"


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    """AD pruned 50 %, shared to 16 values, Huffman-coded, written as a graph-npz workload; and its archs."""
    out = tmp_path_factory.mktemp("compress_hw")
    graph = load_workload(ROOT / "workloads" / "ad.yaml")
    result = compress(graph, CompressOptions(prune=0.5, bits=4, share=True, huffman=True))
    path, _ = save_graph_npz(result.graph, out / "ad_c.yaml", extra={"compression": as_data(result, [])})
    archs = {}
    for name, extra in {"plain": "", "decoder": DECODER, "sparse": SPARSITY}.items():
        archs[name] = out / f"toy_{name}.yaml"
        archs[name].write_text(TOY.format(cpm=CPM, epc=EPC, extra=extra), encoding="utf-8")
    return path, result, archs


def text(arch: Path, workload: Path, *options: str) -> str:
    """`tinysim run ARCH WORKLOAD` in a subprocess; its stdout."""
    proc = subprocess.run(
        [sys.executable, "-m", "tinysim.cli.main", "run", str(arch), str(workload), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def run(arch: Path, workload: Path) -> dict:
    return json.loads(text(arch, workload, "--format", "json"))


def test_loaded_workload_carries_stored_sizes(compressed):
    path, result, _ = compressed
    graph = load_workload(path)
    stored = [graph.tensor(op.inputs[1]) for op in graph.ops if op.kind in MAC_OPS]
    assert [t.stored_bytes for t in stored] == [s.final_bytes for s in result.sizes]
    assert {t.stored_encoding for t in stored} == {"huffman"}


def test_footprint_and_weight_reads_drop_only_with_a_decoder(compressed):
    path, result, archs = compressed
    plain, dec = run(archs["plain"], path), run(archs["decoder"], path)
    graph = load_workload(path)
    decoded_total = sum(t.nbytes for t in graph.tensors if t.is_constant)
    weights = result.total
    assert plain["summary"]["weights_bytes"] == decoded_total
    assert plain["summary"]["weights_encoding"] == "decoded"
    assert dec["summary"]["weights_bytes"] == decoded_total - weights.original_bytes + weights.final_bytes
    assert dec["summary"]["weights_encoding"] == "huffman"
    assert dec["summary"]["weights_fit"] and not plain["summary"]["weights_fit"]  # 264 KiB vs 92 KiB in 128 KiB
    for p, d, size in zip(
        (r for r in plain["layers"] if r["op"] == "FULLY_CONNECTED"),
        (r for r in dec["layers"] if r["op"] == "FULLY_CONNECTED"),
        result.sizes,
    ):
        # batch 1: the reference kernel reads each weight once; with the decoder, its stored bytes
        assert p["bytes_read"] - d["bytes_read"] == size.original_bytes - size.final_bytes
        # hand-computed decode cost: weights x cycles_per_weight, plus weights x energy_per_weight
        assert d["cycles"] - p["cycles"] == pytest.approx(size.weights * DECODE_CYCLES)
        assert d["compute_energy_j"] - p["compute_energy_j"] == pytest.approx(
            size.weights * (DECODE_CYCLES * EPC + DECODE_ENERGY)
        )
    assert "encoded (huffman) of 128 KiB flash" in text(archs["decoder"], path)
    assert "decoded (no weight decoder) of 128 KiB flash: EXCEEDS" in text(archs["plain"], path)


def test_zero_skipping_lowers_cycles_only_with_the_flag(compressed):
    path, _, archs = compressed
    plain, sparse = run(archs["plain"], path), run(archs["sparse"], path)
    graph = load_workload(path)
    zeros = sum(int((graph.tensor(op.inputs[1]).data == 0).sum()) for op in graph.ops if op.kind in MAC_OPS)
    assert zeros >= graph.tensor(graph.ops[0].inputs[1]).size // 2  # pruned 50 %
    assert plain["summary"]["cycles"] - sparse["summary"]["cycles"] == pytest.approx(zeros * CPM)
    assert sparse["summary"]["weights_bytes"] == plain["summary"]["weights_bytes"]  # no decoder: stored decoded
    # the original workload has no pruned weights: the flag saves only its few natural zeros (1.4 % here)
    original = ROOT / "workloads" / "ad.yaml"
    saved = run(archs["plain"], original)["summary"]["cycles"] - run(archs["sparse"], original)["summary"]["cycles"]
    assert 0 <= saved < 0.05 * zeros * CPM


def test_zero_weight_macs_follow_conv_geometry():
    """All-zero weights: every executed MAC (padding taps skipped) has a zero weight; never more than the
    engine's zero-operand count on real weights."""
    graph = load_workload(ROOT / "workloads" / "kws.yaml")
    events = run_graph(graph, random_input(graph, 0)).events
    kinds = set()
    for op, ev in zip(graph.ops, events):
        if op.kind not in MAC_OPS:
            continue
        kinds.add(op.kind)
        assert zero_weight_macs(graph, op) <= ev.zero_macs
        w = graph.tensor(op.inputs[1])
        zeroed = replace(w, data=np.zeros_like(w.data))
        tensors = tuple(zeroed if i == op.inputs[1] else t for i, t in enumerate(graph.tensors))
        assert zero_weight_macs(replace(graph, tensors=tensors), op) == ev.macs
    assert {OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED} <= kinds


def test_shipped_npu_keeps_encoded_weights(compressed):
    path, result, _ = compressed
    out = run(ROOT / "archs" / "ethos-u55-128.yaml", path)["summary"]
    assert out["weights_encoding"] == "huffman"
    graph = load_workload(path)
    decoded_total = sum(t.nbytes for t in graph.tensors if t.is_constant)
    assert out["weights_bytes"] == decoded_total - result.total.original_bytes + result.total.final_bytes
