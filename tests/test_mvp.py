"""The `mvp` kind (packed-pair matrix-vector unit, Silicon Labs MVP style): pairing, programs per op,
its cycle/energy arithmetic and the weight-streaming roofline, worked out by hand."""

from __future__ import annotations

import pytest

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.cost.mvp import macs_per_step, programs
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

ARCH_YAML = """\
version: 1
name: mvp-toy
operating_points:
  - {name: nominal, voltage: 1.0 V, frequency: 100 MHz, static_power: 1 mW}
  - {name: low, voltage: 0.5 V, frequency: 50 MHz, static_power: 1 mW}
compute:
  mvp:
    kind: mvp
    runs: [CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED]
    macs_per_step: 2
    max_dimension: 1024
    cycles_per_instruction: 2
    instructions_per_step: {FULLY_CONNECTED: 2, default: 1}
    instructions_per_input: {CONV_2D: 1, DEPTHWISE_CONV_2D: 1, default: 0}
    instructions_per_element: 4
    cycles_per_program: 20
    overhead_cycles: 50
    energy_per_cycle: 10 pJ
    nominal_voltage: 1.0 V
    weights_in: flash
    activations_in: sram
  cpu:
    kind: mcu
    cycles_per_mac: 4
    overhead_cycles: 100
    cycles_per_element: {SOFTMAX: 20, RESHAPE: 0, default: 10}
    energy_per_cycle: 20 pJ
    nominal_voltage: 1.0 V
    weights_in: flash
    activations_in: sram
memories:
  sram: {size: 1 KiB, width: 4 B, read_energy: 4 pJ, write_energy: 4 pJ, leakage: 0 W}
  flash: {size: 4 KiB, width: 4 B, read_energy: 8 pJ, write_energy: 0 pJ, leakage: 0 W}
power_states:
  sleep: {power: 10 uW, wake_latency: 10 us, wake_energy: 1 nJ}
"""

# 4x4x3 input; 3x3 SAME conv (3 input channels: odd, no pairing) -> 4x4x2; 1x1 depthwise over 2
# channels (even: paired); flatten to 32; FC 32 -> 3 (even depth: paired); softmax on the host.
WORKLOAD_YAML = """\
version: 1
name: mvp-toy
seed: 0
input: {name: x, shape: [1, 4, 4, 3], scale: 0.5, zero_point: 0}
layers:
  - {name: conv, op: conv2d, filters: 2, kernel: 3, padding: same}
  - {name: dw, op: depthwise_conv2d, kernel: 1, padding: valid}
  - {name: flat, op: reshape, shape: [1, 32]}
  - {name: fc, op: fully_connected, units: 3}
  - {name: softmax, op: softmax}
"""


def _toy(tmp_path, arch_yaml=ARCH_YAML):
    (tmp_path / "arch.yaml").write_text(arch_yaml)
    (tmp_path / "net.yaml").write_text(WORKLOAD_YAML)
    graph = load_workload(tmp_path / "net.yaml")
    return load_arch(tmp_path / "arch.yaml"), graph, [estimate_events(graph, op) for op in graph.ops]


@pytest.fixture()
def toy(tmp_path):
    return _toy(tmp_path)


def test_placement_and_pairing(toy):
    arch, graph, events = toy
    assert [layer.unit for layer in simulate(arch, graph, events).layers] == ["mvp", "mvp", "cpu", "mvp", "cpu"]
    mvp = arch.compute[0]
    # conv reduces over 3 input channels (odd: one MAC a step); depthwise over 2 channels, FC over 32.
    assert [macs_per_step(graph, op, mvp) for op in graph.ops] == [1, 2, 1, 2, 1]


def test_programs_per_op(toy):
    arch, graph, _ = toy
    mvp = arch.compute[0]
    # 3x3 SAME on 4x4: per axis the first and last output rows are clipped (2 sub-filters) + 1 interior
    # region = 3; 3 x 3 = 9 programs. 1x1 VALID depthwise and a small FC: one program each.
    assert [programs(graph, op, mvp) for op in graph.ops] == [9, 1, 1, 1, 1]


def test_fc_beyond_the_array_limit_runs_one_program_per_output(tmp_path):
    arch, graph, _ = _toy(tmp_path, ARCH_YAML.replace("max_dimension: 1024", "max_dimension: 8"))
    fc = graph.ops[3]
    # paired depth 32 > 2 x 8: one program per output node (3).
    assert programs(graph, fc, arch.compute[0]) == 3


def test_mvp_cycles_by_hand(toy):
    arch, graph, events = toy
    # shape-estimated events count every tap (16 outputs x 9 taps x 3 ch x 2 filters = 864).
    assert [e.macs for e in events] == [864, 32, 0, 96, 0]
    conv, dw, flat, fc, softmax = simulate(arch, graph, events).layers
    # conv: 50 + 9 programs x 20 + 2 cycles x (864 steps x 1 + 48 inputs x 1 + 32 outputs x 4) = 2310.
    assert conv.cycles == 50 + 9 * 20 + 2 * (864 + 48 + 32 * 4)
    # dw: 50 + 20 + 2 x (32 / 2 = 16 steps + 32 inputs + 32 outputs x 4) = 422.
    assert dw.cycles == 50 + 20 + 2 * (16 + 32 + 32 * 4)
    # fc: 50 + 20 + 2 x (96 / 2 = 48 steps x 2 instructions + 3 outputs x 4) = 286.
    assert fc.cycles == 50 + 20 + 2 * (48 * 2 + 3 * 4)
    assert flat.cycles == 100 and softmax.cycles == 160
    assert all(layer.bound == "compute" for layer in (conv, dw, fc))


def test_mvp_energy_by_hand(toy):
    arch, graph, events = toy
    fc = simulate(arch, graph, events).layers[3]
    assert fc.compute_energy_j == pytest.approx(286 * 10e-12)
    # 96 weight bytes from flash at 2 pJ/B; 96 activation bytes read (one per MAC) + 3 written in sram at 1 pJ/B.
    assert fc.memory_energy_j == pytest.approx({"flash": 192e-12, "sram": 99e-12})
    assert fc.static_energy_j == pytest.approx(1e-3 * 2.86e-6)
    low = simulate(arch, graph, events, operating_point="low").layers[3]
    assert low.cycles == fc.cycles and low.compute_energy_j == pytest.approx(0.25 * fc.compute_energy_j)


def test_weight_streaming_roofline(tmp_path):
    slow = ARCH_YAML.replace("write_energy: 0 pJ, leakage: 0 W}", "write_energy: 0 pJ, leakage: 0 W, bandwidth: 10 MB/s}")
    arch, graph, events = _toy(tmp_path, slow)
    fc = simulate(arch, graph, events).layers[3]
    # 96 weight bytes at 10 MB/s = 9.6 us = 960 cycles at 100 MHz > 286 compute cycles.
    assert fc.bound == "flash" and fc.cycles == pytest.approx(960)
