"""The `systolic` kind: fold / fill / drain arithmetic by hand, SCALE-Sim's recorded cycles, the shipped arch."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from tinysim.arch import load_arch
from tinysim.arch.compute_systolic import Dataflow, SystolicUnit
from tinysim.cost import simulate
from tinysim.cost.systolic import Gemm, gemm_of, schedule, traffic
from tinysim.errors import SpecError
from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "archs" / "systolic-16x16.yaml"
REFERENCE = yaml.safe_load((ROOT / "tinysim" / "validation" / "scalesim_reference.yaml").read_text())
OS, WS, IS = Dataflow.OUTPUT_STATIONARY, Dataflow.WEIGHT_STATIONARY, Dataflow.INPUT_STATIONARY


# A tiny layer on a 4 x 4 array: M = 9 output pixels, N = 3 filters, K = 18 (3 x 3 x 2 channels).
@pytest.mark.parametrize(
    ("dataflow", "folds", "fill", "stream", "ifmap_reads", "filter_reads", "passes"),
    [
        # rows M: ceil(9/4) = 3, cols N: ceil(3/4) = 1; no preload, 3 rows of skew; K streams.
        (OS, 3 * 1, 0 + 3, 18, 9 * 18 * 1, 18 * 3 * 3, 1),
        # rows K: ceil(18/4) = 5, cols N: 1; 4 cycles to shift weights in + 3 skew; M streams.
        (WS, 5 * 1, 4 + 3, 9, 9 * 18 * 1, 18 * 3 * 1, 5),
        # rows K: 5, cols M: ceil(9/4) = 3; 4 cycles to shift inputs in + 3 skew; N streams.
        (IS, 5 * 3, 4 + 3, 3, 9 * 18 * 1, 18 * 3 * 3, 5),
    ],
)
def test_fold_fill_drain_by_hand(dataflow, folds, fill, stream, ifmap_reads, filter_reads, passes):
    s = schedule(Gemm(m=9, n=3, k=18), rows=4, cols=4, dataflow=dataflow)
    assert (s.folds, s.fill_cycles, s.stream_cycles, s.drain_cycles) == (folds, fill, stream, 3)
    assert s.cycles == folds * (fill + stream + 3)
    assert (s.ifmap_reads, s.filter_reads, s.output_passes) == (ifmap_reads, filter_reads, passes)


def test_depthwise_is_one_single_channel_gemm_per_channel():
    graph = load_workload(ROOT / "workloads" / "kws.yaml")
    dw = next(op for op in graph.ops if op.kind is OpKind.DEPTHWISE_CONV_2D)
    assert gemm_of(graph, dw) == Gemm(m=25 * 5, n=1, k=9, repeats=64)
    # 16 x 16 OS: ceil(125/16) = 8 folds x (9 + 15 + 15) cycles, 64 times.
    assert schedule(gemm_of(graph, dw), 16, 16, OS).cycles == 64 * 8 * 39


def _reference_runs():
    return [
        pytest.param(r, id=f"{r['workload']}-{r['array'][0]}x{r['array'][1]}-{r['dataflow']}")
        for r in REFERENCE["runs"]
    ]


@pytest.mark.parametrize("run", _reference_runs())
def test_cycles_match_scalesim(run):
    """Within 10 % of SCALE-Sim's recorded compute cycles per layer and per model (SCALE-Sim counts one less)."""
    graph = load_workload(ROOT / "workloads" / f"{run['workload']}.yaml")
    ops = {op.name: op for op in graph.ops if op.kind in MAC_OPS}
    rows, cols = run["array"]
    dataflow = {"os": OS, "ws": WS, "is": IS}[run["dataflow"]]
    ours = [schedule(gemm_of(graph, ops[layer["name"]]), rows, cols, dataflow).cycles for layer in run["layers"]]
    theirs = [layer["cycles"] for layer in run["layers"]]
    assert ours == pytest.approx(theirs, rel=0.10)
    assert sum(ours) == pytest.approx(sum(theirs), rel=0.01)


def test_reference_records_its_provenance():
    assert REFERENCE["generated_by"].startswith("benchmarks/scalesim_compare.py")
    assert REFERENCE["scalesim"].startswith("scalesim 3.")
    assert REFERENCE["config"]["interface_bandwidth"] == "CALC"
    assert {r["workload"] for r in REFERENCE["runs"]} >= {"ad", "ic", "kws"}


def test_arch_loads_with_buffers_and_mac_ops_only():
    arch = load_arch(ARCH)
    array = arch.compute_unit("array")
    assert isinstance(array, SystolicUnit)
    assert (array.rows, array.cols, array.dataflow) == (16, 16, OS)
    assert array.runs == MAC_OPS and array.accumulator_bytes == 4
    assert arch.provenance("compute.array.mac_energy").startswith("source: horowitz-2014")


@pytest.mark.parametrize("workload", ["kws", "ic", "ad"])
def test_arch_runs_workload(workload):
    arch = load_arch(ARCH)
    graph = load_workload(ROOT / "workloads" / f"{workload}.yaml")
    result = simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops])
    array = arch.compute_unit("array")
    for op, layer in zip(graph.ops, result.layers):
        assert layer.unit == ("array" if op.kind in MAC_OPS else "host")
        if layer.unit == "array":
            compute = schedule(gemm_of(graph, op), 16, 16, OS).cycles
            assert layer.cycles == compute if layer.bound == "compute" else layer.cycles > compute
            assert layer.compute_energy_j >= gemm_of(graph, op).macs * array.mac_energy_j
    assert result.weights_fit and result.arena_fits and result.energy_j > 0


def test_traffic_reads_operands_from_buffers_and_fills_them_once():
    arch = load_arch(ARCH)
    unit = arch.compute_unit("array")
    graph = load_workload(ROOT / "workloads" / "kws.yaml")
    pw = next(op for op in graph.ops if op.name == "pw1")  # 1x1 conv 64 -> 64 on 25 x 5
    s = schedule(gemm_of(graph, pw), 16, 16, OS)
    reads, writes = traffic(graph, pw, s, unit, arch)
    assert reads["ifmap_sram"] == 125 * 64 * 4  # re-read once per fold of N (64 / 16)
    assert reads["filter_sram"] == 64 * 64 * 8  # re-read once per fold of M (ceil(125 / 16))
    assert reads["flash"] == 64 * 64 + 64 * 4  # int8 weights + int32 bias, once: they fit the buffer
    assert writes["ifmap_sram"] == reads["sram"] == 125 * 64  # the input, once
    assert writes["ofmap_sram"] == writes["sram"] == 125 * 64  # outputs, no partial sums in OS


def test_partial_sums_when_k_is_folded():
    arch = load_arch(ARCH)
    unit = dataclasses.replace(arch.compute_unit("array"), dataflow=WS)
    graph = load_workload(ROOT / "workloads" / "kws.yaml")
    pw = next(op for op in graph.ops if op.name == "pw1")
    s = schedule(gemm_of(graph, pw), 16, 16, WS)  # K = 64 on 16 rows: 4 passes
    reads, writes = traffic(graph, pw, s, unit, arch)
    assert s.output_passes == 4
    assert reads["ofmap_sram"] == 3 * 125 * 64 * 4 + 125 * 64  # int32 partials read back, then the result out
    assert writes["ofmap_sram"] == 3 * 125 * 64 * 4 + 125 * 64


def test_runs_must_be_mac_ops(tmp_path):
    text = ARCH.read_text().replace("runs: [CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED]", "runs: [CONV_2D, SOFTMAX]")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SpecError, match=r"bad.yaml:\d+: compute.array.runs: a systolic array runs only"):
        load_arch(path)


def test_unknown_dataflow_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(ARCH.read_text().replace("dataflow: output_stationary", "dataflow: row_stationary"))
    with pytest.raises(SpecError, match=r"compute.array.dataflow: expected a Dataflow \(output_stationary"):
        load_arch(path)
