"""The `dsp` kind: placement by `runs:`, and its cycle/energy arithmetic worked out by hand."""

from __future__ import annotations

import pytest

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.cost.dsp import inner_loop_length
from tinysim.errors import SpecError
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

ARCH_YAML = """\
version: 1
name: dsp-toy
operating_points:
  - {name: nominal, voltage: 1.0 V, frequency: 100 MHz, static_power: 1 mW}
  - {name: low, voltage: 0.5 V, frequency: 50 MHz, static_power: 1 mW}
compute:
  dsp:
    kind: dsp
    runs: [CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED]
    macs_per_cycle: 2
    cycles_per_issue: {FULLY_CONNECTED: 2, default: 1}
    cycles_per_loop: 3
    cycles_per_element: 5
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

# 4x4x3 input; conv 1x3 valid -> 4x2x2 (filter row 3 taps x 3 channels = 9 MACs per loop);
# depthwise 1x1 over 2 channels; flatten to 16; FC 16 -> 3; softmax.
WORKLOAD_YAML = """\
version: 1
name: dsp-toy
seed: 0
input: {name: x, shape: [1, 4, 4, 3], scale: 0.5, zero_point: 0}
layers:
  - {name: conv, op: conv2d, filters: 2, kernel: [1, 3], padding: valid}
  - {name: dw, op: depthwise_conv2d, kernel: 1, padding: valid}
  - {name: flat, op: reshape, shape: [1, 16]}
  - {name: fc, op: fully_connected, units: 3}
  - {name: softmax, op: softmax}
"""


@pytest.fixture()
def toy(tmp_path):
    (tmp_path / "arch.yaml").write_text(ARCH_YAML)
    (tmp_path / "net.yaml").write_text(WORKLOAD_YAML)
    graph = load_workload(tmp_path / "net.yaml")
    return load_arch(tmp_path / "arch.yaml"), graph, [estimate_events(graph, op) for op in graph.ops]


def test_placement_follows_runs_lists(toy):
    arch, graph, events = toy
    result = simulate(arch, graph, events)
    assert [layer.unit for layer in result.layers] == ["dsp", "dsp", "cpu", "dsp", "cpu"]


def test_inner_loop_lengths(toy):
    _, graph, _ = toy
    assert [inner_loop_length(graph, op) for op in graph.ops] == [9, 2, 0, 16, 0]


def test_dsp_cycles_by_hand(toy):
    arch, graph, events = toy
    assert [e.macs for e in events] == [144, 16, 0, 48, 0]
    result = simulate(arch, graph, events)
    conv, dw, flat, fc, softmax = result.layers
    # conv: 144 MACs / 9 per loop = 16 loops x (ceil(9/2) = 5 issues x 1 + 3) + 16 outputs x 5 + 50 = 258.
    assert conv.cycles == 16 * (5 * 1 + 3) + 16 * 5 + 50
    # dw: 16 MACs / 2 channels = 8 loops x (1 issue + 3) + 16 outputs x 5 + 50 = 162.
    assert dw.cycles == 8 * (1 + 3) + 16 * 5 + 50
    # fc: 48 / 16 = 3 loops x (8 issues x 2 cycles + 3) + 3 outputs x 5 + 50 = 122.
    assert fc.cycles == 3 * (8 * 2 + 3) + 3 * 5 + 50
    # On the mcu: reshape = overhead only; softmax = 100 + 3 elements x 20.
    assert flat.cycles == 100 and softmax.cycles == 160
    assert result.latency_s == pytest.approx((258 + 162 + 100 + 122 + 160) / 100e6)


def test_dsp_energy_by_hand(toy):
    arch, graph, events = toy
    conv = simulate(arch, graph, events).layers[0]
    assert conv.compute_energy_j == pytest.approx(258 * 10e-12)
    # 144 weight bytes from flash at 2 pJ/B; 144 activation bytes read + 16 written in sram at 1 pJ/B.
    assert conv.memory_energy_j == pytest.approx({"flash": 288e-12, "sram": 160e-12})
    assert conv.static_energy_j == pytest.approx(1e-3 * 2.58e-6)
    low = simulate(arch, graph, events, operating_point="low").layers[0]
    assert low.cycles == conv.cycles and low.latency_s == pytest.approx(2 * conv.latency_s)
    assert low.compute_energy_j == pytest.approx(0.25 * conv.compute_energy_j)  # (0.5 V / 1.0 V)^2


def test_no_unit_for_an_op_is_a_spec_error(tmp_path):
    (tmp_path / "arch.yaml").write_text(
        ARCH_YAML.replace("  cpu:\n    kind: mcu", "  cpu:\n    kind: mcu\n    runs: [SOFTMAX]")
    )
    (tmp_path / "net.yaml").write_text(WORKLOAD_YAML)
    graph = load_workload(tmp_path / "net.yaml")
    with pytest.raises(SpecError, match="no compute unit runs RESHAPE"):
        simulate(load_arch(tmp_path / "arch.yaml"), graph, [estimate_events(graph, op) for op in graph.ops])


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("macs_per_cycle: 2", "macs_per_cycle: 0", "compute.dsp.macs_per_cycle"),
        ("macs_per_cycle: 2", "macs_per_cycle: 1.5", "whole number"),
        ("    cycles_per_loop: 3\n", "", 'missing required key "cycles_per_loop"'),
        ("cycles_per_loop: 3", "cycles_per_lop: 3", 'did you mean "cycles_per_loop"'),
    ],
)
def test_bad_dsp_block_is_one_clear_line(tmp_path, old, new, fragment):
    path = tmp_path / "arch.yaml"
    path.write_text(ARCH_YAML.replace(old, new, 1))
    with pytest.raises(SpecError) as err:
        load_arch(path)
    assert fragment in str(err.value) and str(err.value).startswith(str(path)) and "\n" not in str(err.value)
