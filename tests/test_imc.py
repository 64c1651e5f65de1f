"""`kind: imc`: hand-computed array arithmetic, unmappable layers, the Syntiant NDP archs and their figures."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.cost.imc import allocation, map_layer
from tinysim.errors import CostError, SpecError
from tinysim.validation import compare, load_references
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

ROOT = Path(__file__).resolve().parents[1]

# 8 rows x 16 one-bit cell columns; 4-bit weights -> 4 weights per row; 4 input bit-planes; 8 arrays,
# 2 firing per slot, 2 cycles per activation. Energy per activation: 10 pJ fixed + 0.5 pJ per cell read
# (driven row x read column) + 1 pJ per read column (accumulate) [+ 5 pJ per read column, analog ADC].
# Activation buffer: 1 pJ per byte read, 2 pJ per byte written.
ARCH_YAML = """\
version: 1
name: toy_imc
operating_points:
  - {name: nominal, voltage: 1.0 V, frequency: 100 MHz, static_power: 1 mW}
  - {name: low, voltage: 0.5 V, frequency: 50 MHz, static_power: 1 mW}
compute:
  arrays:
    kind: imc
    mode: {mode}
    rows: 8
    columns: 16
    arrays: 8
    active_arrays: 2
    weight_bits: 4
    input_bits: 4
    adc_bits: 2
    cycles_per_activation: 2
    energy_per_activation: 10 pJ
    energy_per_cell: 0.5 pJ
    energy_per_conversion: 5 pJ
    energy_per_accumulate: 1 pJ
    nominal_voltage: 1.0 V
    weights_in: cells
    activations_in: sram
    runs: [FULLY_CONNECTED, DEPTHWISE_CONV_2D]
  cpu:
    kind: mcu
    cycles_per_mac: 1
    overhead_cycles: 0
    cycles_per_element: 1
    energy_per_cycle: 1 pJ
    nominal_voltage: 1.0 V
    weights_in: cells
    activations_in: sram
memories:
  sram: {size: 1 KiB, width: 4 B, read_energy: 4 pJ, write_energy: 8 pJ, leakage: 0 W}
  cells: {size: 256 B, width: 2 B, read_energy: 0 pJ, write_energy: 0 pJ, leakage: 0 W}
power_states:
  sleep: {power: 10 uW, wake_latency: 10 us, wake_energy: 1 nJ}
"""


def _arch(tmp_path: Path, mode: str = "digital"):
    path = tmp_path / f"toy_{mode}.yaml"
    path.write_text(ARCH_YAML.replace("{mode}", mode))
    return load_arch(path)


def _fc_graph(tmp_path: Path, *widths: int):
    """FC layers widths[0] -> widths[1] -> ..., int8, from a layer-list YAML."""
    layers = "\n".join(f"  - {{name: fc{i + 1}, op: fully_connected, units: {n}}}" for i, n in enumerate(widths[1:]))
    path = tmp_path / "fc.yaml"
    path.write_text(
        f"version: 1\nname: fc\ninput: {{name: x, shape: [1, {widths[0]}], scale: 0.1, zero_point: 0}}\n"
        f"layers:\n{layers}\n"
    )
    return load_workload(path)


def _price(arch, graph):
    return simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops])


def test_fc_on_one_array(tmp_path):
    # FC 8 -> 4: K = 8 rows, N = 4 weights = 16 cell columns: exactly one array (one tile).
    # Per bit-plane: 1 activation, 1 slot. 4 planes -> 4 activations, 4 x 1 x 2 = 8 cycles = 80 ns.
    # Per plane the activation reads 8 rows x 16 columns = 128 cells. Compute: 4 x 10 pJ fixed
    # + 4 x 128 cells x 0.5 pJ = 256 pJ + 4 planes x 16 columns x 1 pJ = 64 pJ -> 40 + 256 + 64 = 360 pJ;
    # buffer 8 B read x 1 pJ + 4 B written x 2 pJ = 16 pJ; static 1 mW x 80 ns = 80 pJ. Total 456 pJ.
    layer = _price(_arch(tmp_path), _fc_graph(tmp_path, 8, 4)).layers[0]
    assert layer.unit == "arrays"
    assert layer.cycles == pytest.approx(8)
    assert layer.latency_s == pytest.approx(80e-9)
    assert layer.compute_energy_j == pytest.approx(360e-12)
    assert layer.memory_energy_j["sram"] == pytest.approx(16e-12)
    assert layer.static_energy_j == pytest.approx(80e-12)
    assert layer.energy_j == pytest.approx(456e-12)
    assert layer.memory_energy_j.get("cells", 0.0) == 0.0  # weights never move per inference


def test_array_energy_scales_with_voltage_squared(tmp_path):
    # FC 8 -> 4 at 0.5 V, 50 MHz: 8 cycles = 160 ns; compute 360 pJ x (0.5 / 1.0)^2 = 90 pJ; the buffer's
    # per-byte energies are not rescaled (16 pJ); static 1 mW x 160 ns = 160 pJ. Total 266 pJ.
    arch, graph = _arch(tmp_path), _fc_graph(tmp_path, 8, 4)
    result = simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops], operating_point="low")
    layer = result.layers[0]
    assert layer.latency_s == pytest.approx(160e-9)
    assert layer.compute_energy_j == pytest.approx(90e-12)
    assert layer.energy_j == pytest.approx(266e-12)


def test_fc_tiled_over_four_arrays(tmp_path):
    # FC 12 -> 6: ceil(12 / 8) = 2 row tiles x ceil(6 / 4) = 2 column tiles = 4 arrays; 2 fire per slot
    # -> 2 slots per bit-plane: 4 planes x 2 slots x 2 cycles = 16 cycles = 160 ns.
    # Tiles: rows 8 | 4, cell columns 16 (4 weights) | 8 (2 weights): cells per plane 8 x 16 + 8 x 8
    # + 4 x 16 + 4 x 8 = 288 (= 12 x 6 x 4 bits). Activations 4 planes x 4 = 16 x 10 pJ = 160 pJ; cells
    # 4 x 288 x 0.5 pJ = 576 pJ; read columns per plane 6 x 4 bits x 2 row tiles = 48 -> 192 x 1 pJ =
    # 192 pJ; compute 928 pJ. Buffer 12 B x 1 pJ + 6 B x 2 pJ = 24 pJ; static 160 pJ. Total 1112 pJ.
    arch, graph = _arch(tmp_path), _fc_graph(tmp_path, 12, 6)
    m = map_layer(graph, graph.ops[0], arch.compute[0])
    assert (m.tiles, m.activations, m.slots, m.cell_columns, m.cells) == (4, 4, 2, 48, 288)
    assert m.utilisation(arch.compute[0]) == pytest.approx(72 / 128)
    layer = _price(arch, graph).layers[0]
    assert layer.cycles == pytest.approx(16)
    assert layer.compute_energy_j == pytest.approx(928e-12)
    assert layer.memory_energy_j["sram"] == pytest.approx(24e-12)
    assert layer.energy_j == pytest.approx(1112e-12)


def test_analog_mode_is_adc_limited(tmp_path):
    # A 2-bit ADC resolves at most 3 one-bit products: the 8 rows of FC 8 -> 4 take ceil(8 / 3) = 3
    # activations per plane (rows 3, 3, 2), in turn on the one array: 4 planes x 3 x 2 cycles = 24 cycles.
    # 12 activations x 10 pJ = 120 pJ; cells (3 + 3 + 2) rows x 16 columns = 128 per plane -> 4 x 128 x
    # 0.5 pJ = 256 pJ; 4 planes x 3 x 16 columns x (1 pJ accumulate + 5 pJ conversion) = 1152 pJ. 1528 pJ.
    layer = _price(_arch(tmp_path, "analog"), _fc_graph(tmp_path, 8, 4)).layers[0]
    assert layer.cycles == pytest.approx(24)
    assert layer.compute_energy_j == pytest.approx(1528e-12)


@pytest.mark.parametrize(
    "channels, tiles, cells",
    [
        # 9 taps per channel: 32 // 9 = 3 channels per array along the diagonal -> 2 arrays for 6 channels.
        # An activation drives 3 x 9 = 27 rows and reads 3 x 4 bits = 12 columns: 324 cells per array,
        # 648 per pixel and plane, of which 6 x 9 x 4 = 216 hold weights and 432 are zeros off the diagonal.
        (6, 2, 648),
        # 7 channels: arrays of 3, 3 and 1 channels -> 324 + 324 + (9 x 4 = 36) = 684 cells.
        (7, 3, 684),
    ],
)
def test_depthwise_maps_block_diagonally(tmp_path, channels, tiles, cells):
    path = tmp_path / "dw.yaml"
    path.write_text(
        f"version: 1\nname: dw\ninput: {{name: x, shape: [1, 4, 4, {channels}], scale: 0.1, zero_point: 0}}\n"
        "layers:\n  - {name: dw, op: depthwise_conv2d, kernel: 3}\n"
    )
    graph = load_workload(path)
    unit = dataclasses.replace(_arch(tmp_path).compute[0], rows=32)
    m = map_layer(graph, graph.ops[0], unit)
    # 2 x 2 output pixels; one activation per array per plane, 2 arrays firing per slot.
    assert (m.pixels, m.tiles, m.activations, m.cells) == (4, tiles, tiles, cells)
    assert m.cell_columns == channels * 4
    assert m.utilisation(unit) == pytest.approx(channels * 9 / (tiles * 32 * 4))


def test_energy_does_not_depend_on_zero_operands(tmp_path):
    # No zero skipping is assumed: an all-zero run (every MAC has a zero operand) costs what a dense one does.
    arch, graph = _arch(tmp_path), _fc_graph(tmp_path, 12, 6)
    dense = [estimate_events(graph, op) for op in graph.ops]
    zeros = [dataclasses.replace(e, zero_macs=e.macs, output_zeros=e.output_elements) for e in dense]
    assert simulate(arch, graph, zeros).energy_j == simulate(arch, graph, dense).energy_j
    assert simulate(arch, graph, zeros).latency_s == simulate(arch, graph, dense).latency_s


def test_layer_larger_than_all_arrays_is_unmappable(tmp_path):
    # FC 40 -> 6 needs 5 x 2 = 10 arrays; the unit has 8.
    with pytest.raises(CostError) as err:
        _price(_arch(tmp_path), _fc_graph(tmp_path, 40, 6))
    text = str(err.value)
    assert "layer 'fc1'" in text and "needs 10 arrays" in text and "not reloaded" in text
    assert "compute.arrays.arrays" in text


def test_network_larger_than_all_arrays_is_unmappable(tmp_path):
    # 12 -> 6 takes 4 arrays, 6 -> 16 another 4 (8 in all), 16 -> 4 two more: the third layer does not fit.
    with pytest.raises(CostError, match=r"layer 'fc3' .* needs 2 arrays but the layers before it took 8 of 8"):
        _price(_arch(tmp_path), _fc_graph(tmp_path, 12, 6, 16, 4))


@pytest.mark.parametrize(
    "snippet, message",
    [
        ("weight_bits: 4", "weight_bits: expected 1 to 8 bits per weight, got 9"),
        ("active_arrays: 2", "active_arrays: expected at most arrays (8), got 9"),
    ],
)
def test_bad_fields_are_one_line_errors(tmp_path, snippet, message):
    path = tmp_path / "bad.yaml"
    path.write_text(ARCH_YAML.replace("{mode}", "digital").replace(snippet, snippet.split(":")[0] + ": 9"))
    with pytest.raises(SpecError, match=re.escape(message)):
        load_arch(path)


def test_energy_per_cell_is_required(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(ARCH_YAML.replace("{mode}", "digital").replace("    energy_per_cell: 0.5 pJ\n", ""))
    with pytest.raises(SpecError, match='missing required key "energy_per_cell"'):
        load_arch(path)


def test_analog_needs_an_adc(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(ARCH_YAML.replace("{mode}", "analog").replace("    adc_bits: 2\n", ""))
    with pytest.raises(SpecError, match='missing required key "adc_bits"'):
        load_arch(path)


@pytest.mark.parametrize(
    "arch, workload",
    [
        ("ndp100", "kws_fc"),
        ("ndp101", "kws_fc"),
        ("ndp120", "kws"),
    ],
)
def test_ndp_archs_check_and_run(arch, workload):
    args = [f"archs/{arch}.yaml", f"workloads/{workload}.yaml"]
    for command in (["check", *args], ["run", *args, "--events", "shapes"]):
        proc = subprocess.run(
            [sys.executable, "-m", "tinysim.cli.main", *command],
            check=False,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
    assert "TOTAL" in proc.stdout or "energy per inference" in proc.stdout


def test_ndp101_always_on_power_is_on_the_order_of_140_uw():
    """Energy per inference x 100 inferences/s + the always-on floor, against the published ~140 uW.

    The NDP101 runs its network on a sliding window of filter-bank frames; we take a 10 ms frame hop
    (the usual keyword-spotting hop), i.e. one inference per new frame = 100 inferences/s. Between
    inferences the chip draws its sleep power (audio front end + weight SRAM leakage, 30 uW assumed).
    The published figure is the whole chip running a 570k-parameter wake-word network always on
    (figures.md table C); kws_fc has 544k weights. Nothing in archs/ndp101.yaml was fitted to it.
    Measured: 195.3 uW = 100 x 1.662 uJ (17.4 M cell reads x 0.0925 pJ from the NDP120 KWS fit = 1.61 uJ,
    1,088 activations x 5 pJ, 0.27 M column accumulates x 0.1 pJ, controller, buffer) + ~30 uW static:
    +40 % over the published 140 uW (the flat per-activation model gave 176.8 uW).
    """
    arch = load_arch(ROOT / "archs" / "ndp101.yaml")
    graph = load_workload(ROOT / "workloads" / "kws_fc.yaml")
    result = _price(arch, graph)
    power_w = result.average_power_w(100.0)
    assert 70e-6 <= power_w <= 280e-6, f"{power_w * 1e6:.1f} uW vs published 140 uW"  # within a factor of 2
    assert result.latency_s < 10e-3  # keeps up with the hop


def test_kws_fc_fills_the_ndp101_arrays():
    # 1600 -> 256: 25 x 4 tiles; 256 -> 256: 4 x 4 twice; 256 -> 12: 4 x 1 -> 136 of the 144 arrays (288 KiB
    # of 4-bit cells, sized for the ~570k-weight network the NDP101 runs).
    arch = load_arch(ROOT / "archs" / "ndp101.yaml")
    graph = load_workload(ROOT / "workloads" / "kws_fc.yaml")
    taken = allocation(graph, arch, arch.compute[0])
    assert taken == {"fc1": 100, "fc2": 16, "fc3": 16, "fc4": 4}
    assert sum(taken.values()) <= arch.compute[0].arrays == 144


@pytest.fixture(scope="module")
def ndp120_comparisons():
    refs = [r for r in load_references() if r.arch == "archs/ndp120.yaml"]
    return {Path(c.reference.workload).stem: c for c in compare(ROOT, refs)}


def test_ndp120_is_calibrated_on_kws_only():
    refs = [r for r in load_references() if r.arch == "archs/ndp120.yaml"]
    assert sorted(Path(r.workload).stem for r in refs) == ["ic", "kws", "vww"]
    assert [Path(r.workload).stem for r in refs if r.calibration] == ["kws"]


@pytest.mark.parametrize("workload", ["kws", "vww", "ic"])
def test_ndp120_latency_within_20_percent(ndp120_comparisons, workload):
    """KWS is the calibration (cycles per activation fitted); VWW +19.4 %, IC -14.3 %. The array geometry is
    assumed but was fixed after seeing a geometry sweep (see the caveat in archs/ndp120.yaml)."""
    c = ndp120_comparisons[workload]
    assert abs(c.latency_error) <= 0.20, c


@pytest.mark.parametrize("workload", ["kws", "vww", "ic"])
def test_ndp120_energy_within_30_percent(ndp120_comparisons, workload):
    """KWS is the calibration (energy per cell read fitted); VWW +26.8 %, IC -10.2 % are predictions. The energy
    follows the cells each activation reads plus a small fixed part (5 pJ, 1.3 % of KWS), so VWW's poorly filled
    activations are cheap. VWW's margin is thin: a fixed share above ~10 % of KWS's array energy would push it
    past 30 % (the split's sensitivity is disclosed in archs/ndp120.yaml)."""
    c = ndp120_comparisons[workload]
    assert abs(c.energy_error) <= 0.30, c
