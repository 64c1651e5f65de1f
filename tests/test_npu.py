"""The `npu` compute kind: hand-computed conv and FC layers, CPU fallback, and Arm Vela's estimates.

The Vela figures live in tinysim/validation/vela_reference.yaml, written by benchmarks/vela_compare.py
(Vela 5.2.0, ethos-u55-128, system config Ethos_U55_High_End_Embedded).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.errors import SpecError
from tinysim.ops import OpKind
from tinysim.workload import load_workload
from tinysim.workload.graph import DType, Graph, Op, OpAttrs, Quantization, Tensor
from tinysim.workload.stats import estimate_events

ROOT = Path(__file__).resolve().parent.parent
VELA = yaml.safe_load((ROOT / "tinysim" / "validation" / "vela_reference.yaml").read_text())
MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8"]

# Round numbers: 16 MACs/cycle; micro-block 2 x 1 pixels x 4 channels (8 outputs), so a step over
# 8 input channels takes 8 x 8 / 16 = 4 cycles. 100 MHz: SRAM 800 MB/s = 8 B/cycle, flash 1 B/cycle.
TOY = """\
version: 1
name: toy-npu
operating_points:
  - {name: nominal, voltage: 1.0 V, frequency: 100 MHz, static_power: 1 mW}
compute:
  npu:
    kind: npu
    macs_per_cycle: 16
    ublock_width: 2
    ublock_height: 1
    ublock_depth: 4
    ifm_depth_per_step: 8
    kernel_elements_per_step: 4
    weight_fetch_cycles: 16
    pool_tap_cycles: 4
    ofm_block_outputs: 64
    cycles_per_output: {default: 0.5}
    overhead_cycles: {default: 10}
    weight_encoding: {encoding}
    scale_bias_bytes_per_channel: 10
    energy_per_mac: 1 pJ
    energy_per_cycle: 2 pJ
    nominal_voltage: 1.0 V
    weights_in: flash
    activations_in: sram
    runs: [CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D]
  host:
    kind: mcu
    cycles_per_mac: {default: 2}
    overhead_cycles: {default: 100}
    cycles_per_element: {default: 10}
    energy_per_cycle: 10 pJ
    nominal_voltage: 1.0 V
    weights_in: flash
    activations_in: sram
memories:
  sram: {size: 64 KiB, width: 8 B, read_energy_per_byte: 1 pJ, write_energy_per_byte: 2 pJ, leakage: 0 W,
         bandwidth: 800 MB/s}
  flash: {size: 1 MiB, width: 8 B, read_energy_per_byte: 10 pJ, write_energy_per_byte: 0 pJ, leakage: 0 W,
          bandwidth: 100 MB/s}
power_states:
  sleep: {power: 10 uW, wake_latency: 10 us, wake_energy: 1 nJ}
"""

Q = Quantization((0.1,), (0,))


def _toy(tmp_path, encoding: str = "raw"):
    path = tmp_path / "toy.yaml"
    path.write_text(TOY.replace("{encoding}", encoding))
    return load_arch(path)


def _price(arch, graph: Graph):
    return simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops])


def _conv_graph() -> Graph:
    """CONV_2D 3x3 VALID: 1x10x10x8 -> 1x8x8x8."""
    rng = np.random.default_rng(0)
    tensors = (
        Tensor("x", (1, 10, 10, 8), DType.INT8, Q),
        Tensor("w", (8, 3, 3, 8), DType.INT8, Q, rng.integers(-127, 128, (8, 3, 3, 8)).astype(np.int8)),
        Tensor("b", (8,), DType.INT32, Q, np.zeros(8, np.int32)),
        Tensor("y", (1, 8, 8, 8), DType.INT8, Q),
    )
    return Graph("conv", tensors, (Op(OpKind.CONV_2D, "conv", (0, 1, 2), (3,), OpAttrs()),), (0,), (3,))


def _fc_softmax_graph(weights: np.ndarray) -> Graph:
    """FULLY_CONNECTED 64 -> 32, then SOFTMAX (which the toy NPU does not run)."""
    tensors = (
        Tensor("x", (1, 64), DType.INT8, Q),
        Tensor("w", (32, 64), DType.INT8, Q, weights),
        Tensor("b", (32,), DType.INT32, Q, np.zeros(32, np.int32)),
        Tensor("h", (1, 32), DType.INT8, Q),
        Tensor("y", (1, 32), DType.INT8, Quantization((1 / 256,), (-128,))),
    )
    ops = (Op(OpKind.FULLY_CONNECTED, "fc", (0, 1, 2), (3,)), Op(OpKind.SOFTMAX, "softmax", (3,), (4,)))
    return Graph("fc", tensors, ops, (0,), (4,))


def test_conv_compute_bound(tmp_path):
    layer = _price(_toy(tmp_path), _conv_graph()).layers[0]
    # micro-blocks per plane: ceil(8/2) x ceil(8/1) = 32; channel groups ceil(8/4) = 2;
    # one pass over the plane = max(16, 4 x 32) = 128 cycles; steps: depth first 9 taps x ceil(8/8) = 9
    # (part kernel: ceil(9/4) x ceil(8/2) = 12); array 2 x 128 x 9 = 2304 = 36,864 MACs / 16 (full array).
    # Output stage 512 x 0.5 = 256, overlapped over ceil(512/64) = 8 blocks: 2304 + 256/8 = 2336.
    # Memory: flash 576 + 8 x 10 = 656 B -> 656 cycles; SRAM (800 + 512) B / 8 = 164 cycles. + 10 overhead.
    assert layer.unit == "npu" and layer.bound == "compute"
    assert layer.cycles == pytest.approx(2346)
    assert layer.weight_bytes == 656
    # Energy: 36,864 MACs x 1 pJ + 2346 cycles x 2 pJ; SRAM 800 x 1 + 512 x 2 pJ; flash 656 x 10 pJ;
    # static 1 mW x 23.46 us.
    assert layer.compute_energy_j == pytest.approx((36864 + 2 * 2346) * 1e-12)
    assert layer.memory_energy_j == pytest.approx({"sram": 1824e-12, "flash": 6560e-12})
    assert layer.static_energy_j == pytest.approx(1e-3 * 23.46e-6)


def test_fc_flash_bandwidth_bound(tmp_path):
    weights = np.random.default_rng(1).integers(-127, 128, (32, 64)).astype(np.int8)
    layer = _price(_toy(tmp_path), _fc_softmax_graph(weights)).layers[0]
    # FC = 1x1 conv on one row: 1 micro-block, 8 channel groups, pass = max(16, 4 x 1) = 16 (weight fetch),
    # steps ceil(64/8) = 8: array 8 x 16 x 8 = 1024; output 32 x 0.5 = 16 in one block: 1040 cycles.
    # Flash: 2048 + 32 x 10 = 2368 B at 1 B/cycle = 2368 cycles > 1040, so flash binds: 2368 + 10.
    assert layer.bound == "flash"
    assert layer.cycles == pytest.approx(2378)


def test_entropy_coded_weights_lift_the_flash_bound(tmp_path):
    weights = np.where(np.arange(32 * 64).reshape(32, 64) % 2 == 0, 1, -1).astype(np.int8)
    layer = _price(_toy(tmp_path, "entropy"), _fc_softmax_graph(weights)).layers[0]
    # Two equiprobable values: 1 bit per weight, 2048 / 8 = 256 B + 320 B scale/bias = 576 flash cycles < 1040.
    assert layer.weight_bytes == 576
    assert layer.bound == "compute" and layer.cycles == pytest.approx(1050)


def test_pooling_walks_the_window_tap_by_tap(tmp_path):
    tensors = (Tensor("x", (1, 8, 8, 16), DType.INT8, Q), Tensor("y", (1, 1, 1, 16), DType.INT8, Q))
    attrs = OpAttrs(filter_h=8, filter_w=8, stride_h=8, stride_w=8)
    graph = Graph("pool", tensors, (Op(OpKind.AVERAGE_POOL_2D, "pool", (0,), (1,), attrs),), (0,), (1,))
    layer = _price(_toy(tmp_path), graph).layers[0]
    # 1 micro-block x ceil(16/4) = 4 channel groups x 64 taps x 4 cycles = 1024; output 16 x 0.5 = 8 (one
    # block); + 10 overhead. (SRAM: 1040 B / 8 = 130 cycles, hidden.)
    assert layer.unit == "npu" and layer.cycles == pytest.approx(1042) and layer.weight_bytes == 0


def test_unsupported_op_falls_back_to_the_host_mcu(tmp_path):
    weights = np.ones((32, 64), np.int8)
    fc, softmax = _price(_toy(tmp_path), _fc_softmax_graph(weights)).layers
    assert fc.unit == "npu"
    # SOFTMAX is not in the NPU's `runs:`: the mcu host prices it, 100 overhead + 32 elements x 10.
    assert softmax.unit == "host" and softmax.cycles == pytest.approx(420)


def test_bad_weight_encoding_is_one_line_with_file_and_line(tmp_path):
    with pytest.raises(SpecError, match=r"toy\.yaml:19: compute\.npu\.weight_encoding: .*entropy"):
        _toy(tmp_path, "zip")


@pytest.mark.parametrize("model", MODELS)
def test_ethos_u55_128_within_20_percent_of_vela(model, require_model):
    arch = load_arch(ROOT / "archs" / "ethos-u55-128.yaml")
    graph = load_workload(require_model(f"{model}.tflite"))
    vela = VELA["results"]["ethos-u55-128"][model]["cycles_total"]
    cycles = _price(arch, graph).cycles
    assert cycles == pytest.approx(vela, rel=0.20), f"tinysim {cycles:.0f} vs Vela {vela} cycles"


def test_vela_reference_provenance():
    assert VELA["generated_by"] == "benchmarks/vela_compare.py"
    assert VELA["vela_version"].startswith("5.") and VELA["system_config"] == "Ethos_U55_High_End_Embedded"
