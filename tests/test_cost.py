"""Cost arithmetic on a hand-computed two-layer example (numbers worked out in the comments)."""

from __future__ import annotations

import numpy as np
import pytest

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.errors import CostError
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Graph, Op, Quantization, Tensor
from tinysim.workload.stats import estimate_events

ARCH_YAML = """\
version: 1
name: toy
description: two memories, one core, round numbers
operating_points:
  - {name: nominal, voltage: 1.0 V, frequency: 100 MHz, static_power: 1 mW}
  - {name: low, voltage: 0.5 V, frequency: 50 MHz, static_power: 1 mW}
compute:
  cpu:
    kind: mcu
    simd_macs_per_cycle: 1
    cycles_per_mac: {FULLY_CONNECTED: 2, default: 3}
    overhead_cycles: {default: 100}
    cycles_per_element: {default: 10}
    energy_per_cycle: 10 pJ
    nominal_voltage: 1.0 V
    weights_in: flash
    activations_in: sram
memories:
  sram: {size: 1 KiB, width: 4 B, read_energy: 4 pJ, write_energy: 8 pJ, leakage: 1 uW}
  flash: {size: 4 KiB, width: 16 B, read_energy: 32 pJ, write_energy: 0 pJ, leakage: 0 W}
power_states:
  sleep: {power: 10 uW, wake_latency: 10 us, wake_energy: 1 nJ}
"""


def _fc_graph() -> Graph:
    """FC 8 -> 4 then FC 4 -> 2, int8 activations and weights."""
    q = Quantization((0.1,), (0,))
    rng = np.random.default_rng(0)
    tensors = (
        Tensor("x", (1, 8), DType.INT8, q),
        Tensor("w1", (4, 8), DType.INT8, q, rng.integers(-127, 128, (4, 8)).astype(np.int8)),
        Tensor("b1", (4,), DType.INT32, q, np.zeros(4, np.int32)),
        Tensor("h", (1, 4), DType.INT8, q),
        Tensor("w2", (2, 4), DType.INT8, q, rng.integers(-127, 128, (2, 4)).astype(np.int8)),
        Tensor("b2", (2,), DType.INT32, q, np.zeros(2, np.int32)),
        Tensor("y", (1, 2), DType.INT8, q),
    )
    ops = (
        Op(OpKind.FULLY_CONNECTED, "fc1", (0, 1, 2), (3,)),
        Op(OpKind.FULLY_CONNECTED, "fc2", (3, 4, 5), (6,)),
    )
    return Graph("toy", tensors, ops, (0,), (6,))


@pytest.fixture()
def toy(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(ARCH_YAML)
    graph = _fc_graph()
    return load_arch(path), graph, [estimate_events(graph, op) for op in graph.ops]


def test_two_layer_cycles_latency_energy(toy):
    arch, graph, events = toy
    result = simulate(arch, graph, events)
    # fc1: 100 overhead + 32 MACs x 2 + 4 outputs x 10 = 204 cycles; fc2: 100 + 8 x 2 + 2 x 10 = 136.
    assert [layer.cycles for layer in result.layers] == [204, 136]
    assert result.latency_s == pytest.approx(340 / 100e6)
    # fc1 energy: core 204 x 10 pJ; flash 32 B x 2 pJ/B; sram 32 B x 1 pJ/B + 4 B x 2 pJ/B;
    # static (1 mW + 1 uW leakage) x 2.04 us.
    fc1 = result.layers[0]
    assert fc1.compute_energy_j == pytest.approx(2040e-12)
    assert fc1.memory_energy_j == pytest.approx({"flash": 64e-12, "sram": 40e-12})
    assert fc1.static_energy_j == pytest.approx(1.001e-3 * 2.04e-6)
    total_pj = 2040 + 64 + 40 + 2042.04 + 1360 + 16 + 12 + 1361.36
    assert result.energy_j == pytest.approx(total_pj * 1e-12)
    # Average power at 1 kHz: (E + P_sleep x (1 ms - 3.4 us)) x 1 kHz.
    assert result.average_power_w(1000.0) == pytest.approx((total_pj * 1e-12 + 10e-6 * (1e-3 - 3.4e-6)) * 1e3)


def test_voltage_scales_core_energy_quadratically(toy):
    arch, graph, events = toy
    nominal = simulate(arch, graph, events, operating_point="nominal")
    low = simulate(arch, graph, events, operating_point="low")
    assert low.cycles == nominal.cycles
    assert low.latency_s == pytest.approx(2 * nominal.latency_s)
    for a, b in zip(nominal.layers, low.layers):
        assert b.compute_energy_j == pytest.approx(0.25 * a.compute_energy_j)


def test_rate_faster_than_inference_is_an_error(toy):
    arch, graph, events = toy
    result = simulate(arch, graph, events)
    with pytest.raises(CostError, match="longer than the period"):
        result.average_power_w(1e6)  # 1 us period < 3.4 us inference


def test_fit_check_reports_weights_and_arena(toy):
    arch, graph, events = toy
    result = simulate(arch, graph, events)
    assert result.weights_bytes == 4 * 8 + 4 * 4 + 2 * 4 + 2 * 4  # int8 weights + int32 biases
    assert result.weights_fit and result.arena_fits
    assert result.weights_memory == "flash" and result.arena_memory == "sram"


def test_stored_weight_bytes_packs_low_bit_weights():
    from types import SimpleNamespace

    from tinysim.cost.weights import stored_weight_bytes

    graph = _fc_graph()
    four_bit = SimpleNamespace(weight_bits=4)
    # w1 32 and w2 8 int8 weights at 4 bits -> 16 + 4 bytes; int32 biases stay 16 + 8 bytes.
    assert stored_weight_bytes(graph, [four_bit, four_bit]) == 16 + 4 + 16 + 8
    assert stored_weight_bytes(graph, [SimpleNamespace(), SimpleNamespace()]) == 32 + 8 + 16 + 8
