"""The `npu` compute kind: hand-computed conv and FC layers, CPU fallback, and Arm Vela's estimates.

The Vela figures live in tinysim/validation/vela_reference.yaml, written by benchmarks/vela_compare.py
(Vela 5.2.0, ethos-u55-64/128/256 and ethos-u65-256/512, all in system config Ethos_U55_High_End_Embedded).
The per-size table tinysim/arch/ethos_u_configs.yaml is checked against Vela's own tables when Vela is
installed (../venvs/vela or $TINYSIM_VELA_VENV).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from tinysim.arch import load_arch, parse_arch
from tinysim.arch.compute_npu import CONFIGS_FILE, configs
from tinysim.cost import simulate
from tinysim.errors import SpecError
from tinysim.explore.design import DesignSpace
from tinysim.explore.sweep_spec import load_sweep
from tinysim.ops import OpKind
from tinysim.schema.yamlio import load_yaml
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


@pytest.mark.parametrize("model", MODELS)
def test_ethos_u55_128_within_5_percent_of_vela(model, require_model):
    graph = load_workload(require_model(f"{model}.tflite"))
    vela = VELA["results"]["ethos-u55-128"][model]["cycles_total"]
    assert _price(_arch_with("ethos-u55-128"), graph).cycles == pytest.approx(vela, rel=0.05)


def _image_conv_graph(channels: int) -> Graph:
    """The graph input 1x96x96xC, CONV_2D 3x3 stride 2 SAME -> 1x48x48x8 (VWW's first layer when C = 3)."""
    w = np.ones((8, 3, 3, channels), np.int8)
    tensors = (
        Tensor("x", (1, 96, 96, channels), DType.INT8, Q),
        Tensor("w", w.shape, DType.INT8, Q, w),
        Tensor("b", (8,), DType.INT32, Q, np.zeros(8, np.int32)),
        Tensor("y", (1, 48, 48, 8), DType.INT8, Q),
        Tensor("z", (1, 48, 48, 8), DType.INT8, Q),
    )
    attrs = OpAttrs(stride_h=2, stride_w=2)
    ops = (Op(OpKind.CONV_2D, "conv", (0, 1, 2), (3,), attrs), Op(OpKind.MAX_POOL_2D, "pool", (3,), (4,)))
    return Graph("image", tensors, ops, (0,), (4,))


def test_sram_traffic_follows_velas_layout_and_burst_rule():
    """Vela 5.2.0 (regor ethos_u55_performance.cpp EstimateMemoryTransfer): a graph input is NHWC; with 3
    channels per pixel (not the 8-channel IFM block depth) each SRAM burst carries 8 of its 32 bytes, so the
    bus moves 4x the image; the 8-channel result, kept for the next NPU op, occupies 16-channel NHCWB16 bricks."""
    from tinysim.cost.npu import activation_bytes

    npu = _arch_with("ethos-u55-256").compute_unit("npu")
    assert (npu.brick_depth, npu.ifm_block_depth_step, npu.burst_bytes) == (16, 8, 32)
    image = _image_conv_graph(3)
    assert activation_bytes(image, image.ops[0], npu) == (96 * 96 * 3 * 4, 48 * 48 * 16)
    # The graph output is written NHWC, packed; the brick-layout input is read whole.
    assert activation_bytes(image, image.ops[1], npu) == (48 * 48 * 16, 48 * 48 * 8)
    # 8 channels per pixel = one IFM block depth: full bursts.
    eight = _image_conv_graph(8)
    assert activation_bytes(eight, eight.ops[0], npu)[0] == 96 * 96 * 8


def test_vww_first_conv_is_sram_bound_as_in_vela(require_model):
    """Vela 5.2.0 --verbose-performance, VWW on ethos-u55-256: the first convolution's SRAM access takes
    20,614 cycles against 10,119 NPU cycles (SRAM bound); tinysim must find it SRAM-bound within 15 %."""
    graph = load_workload(require_model("vww_96_int8.tflite"))
    first = _price(_arch_with("ethos-u55-256"), graph).layers[0]
    assert first.bound == "sram" and first.cycles == pytest.approx(20_614, rel=0.15)


def test_vela_reference_provenance():
    assert VELA["generated_by"] == "benchmarks/vela_compare.py"
    assert VELA["vela_version"].startswith("5.") and VELA["system_config"] == "Ethos_U55_High_End_Embedded"


CONFIG_NAMES = ["ethos-u55-64", "ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u65-512"]


def _arch_with(config: str, **fields):
    """archs/ethos-u55-128.yaml with `compute.npu.config` (and any explicit unit fields) replaced."""
    path = ROOT / "archs" / "ethos-u55-128.yaml"
    data = load_yaml(path)
    data["compute"]["npu"] = {**data["compute"]["npu"], "config": config, **fields}
    return parse_arch(data, file=str(path))


def test_config_names_are_the_five_vela_sizes():
    assert sorted(configs()) == sorted(CONFIG_NAMES)


@pytest.mark.parametrize("config, model", [(c, m) for c in CONFIG_NAMES for m in MODELS])
def test_every_config_within_10_percent_of_vela(config, model, require_model):
    graph = load_workload(require_model(f"{model}.tflite"))
    vela = VELA["results"][config][model]["cycles_total"]
    cycles = _price(_arch_with(config), graph).cycles
    assert cycles == pytest.approx(vela, rel=0.10), f"{config} {model}: tinysim {cycles:.0f} vs Vela {vela} cycles"


def test_shipped_arch_is_the_128_mac_config():
    npu = load_arch(ROOT / "archs" / "ethos-u55-128.yaml").compute_unit("npu")
    assert npu.config == "ethos-u55-128" and npu.macs_per_cycle == 128
    assert (npu.ublock_width, npu.ublock_height, npu.ublock_depth) == (2, 1, 8)


def test_explicit_unit_fields_override_the_config():
    npu = _arch_with("ethos-u55-256", macs_per_cycle=64).compute_unit("npu")
    assert npu.macs_per_cycle == 64  # written in the unit
    assert (npu.ublock_width, npu.ublock_height) == (2, 2)  # still the 256 config's micro-block


def test_unknown_config_is_one_line_listing_the_valid_names():
    with pytest.raises(SpecError) as info:
        _arch_with("ethos-u55-96")
    message = str(info.value)
    assert "\n" not in message and "compute.npu.config" in message
    assert all(name in message for name in CONFIG_NAMES)


def test_every_number_in_the_config_table_carries_source_or_assumed():
    def unsourced(node, path: str, covered: bool) -> list[str]:
        if isinstance(node, dict):
            covered = covered or "source" in node or "assumed" in node
            return [
                p
                for k, v in node.items()
                if k not in ("source", "assumed", "version")
                for p in unsourced(v, f"{path}.{k}", covered)
            ]
        return [path] if isinstance(node, (int, float)) and not isinstance(node, bool) and not covered else []

    assert unsourced(yaml.safe_load(CONFIGS_FILE.read_text()), "", False) == []


def test_sweep_config_axis_sets_every_table_field():
    spec = load_sweep(ROOT / "workloads" / "sweeps" / "npu_macs.yaml")
    space = DesignSpace(spec)
    axis = "compute.npu.config"
    assert [a.values for a in spec.axes if a.path == axis] == [("ethos-u55-64", "ethos-u55-128", "ethos-u55-256")]
    others = {a.path: a.values[0] for a in spec.axes if a.path != axis}
    units = {c: space.arch({**others, axis: c}).compute_unit("npu") for c in ("ethos-u55-64", "ethos-u55-256")}
    assert units["ethos-u55-64"].macs_per_cycle == 64 and units["ethos-u55-64"].ublock_width == 1
    assert units["ethos-u55-256"].macs_per_cycle == 256 and units["ethos-u55-256"].ublock_height == 2
    assert units["ethos-u55-64"].cycles_per_output_for(OpKind.CONV_2D) == 1.0


_VELA_TABLES = """
import json
from ethosu.vela.architecture_features import Accelerator, ArchitectureFeatures as A
out = {}
for acc, cfg in A.accelerator_configs.items():
    a = A.__new__(A)
    a._generate_output_perf_tables(acc)
    out[acc.value] = {"macs": cfg.macs * cfg.cores, "cores": cfg.cores, "ublock": cfg.ofm_ublock.to_hwc(),
                      "out": a.output_cycles_per_elem, "act": a.activation_cycles_per_elem}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def vela_tables():
    venv = Path(os.environ.get("TINYSIM_VELA_VENV") or ROOT.parent / "venvs" / "vela")
    python = venv / "bin" / "python"
    if not python.is_file():
        pytest.skip(f"Vela not installed in {venv} (pip install ethos-u-vela==5.2.0 there)")
    run = subprocess.run([str(python), "-c", _VELA_TABLES], capture_output=True, text=True, check=True)
    return json.loads(run.stdout)


@pytest.mark.parametrize("config", CONFIG_NAMES)
def test_config_table_matches_velas_own_tables(config, vela_tables):
    vela = vela_tables[config]
    npu = _arch_with(config).compute_unit("npu")
    assert npu.macs_per_cycle == vela["macs"]
    assert [npu.ublock_height, npu.ublock_width, npu.ublock_depth] == vela["ublock"]
    # A micro-block step: 32 input channels x ublock outputs at the array's rate = Vela's 4 cycles / cores.
    assert npu.step_cycles == pytest.approx(4 / vela["cores"])
    assert npu.weight_fetch_cycles == 32 * vela["ublock"][2] // 8 / vela["cores"]
    relu = vela["act"][1]
    assert npu.cycles_per_output_for(OpKind.CONV_2D) == max(vela["out"][7], relu)
    assert npu.cycles_per_output_for(OpKind.ADD) == max(vela["out"][5], relu)
    assert npu.cycles_per_output_for(OpKind.MAX_POOL_2D) == vela["out"][6]


def test_validate_lists_every_vela_config(require_model):
    """`tinysim validate` compares every config of vela_reference.yaml, each on its own config's arch."""
    from tinysim.validation.peers import compare_vela, vela_arch

    rows, missing = compare_vela(ROOT, require_model("kws_ref_model_int8.tflite").parent)
    assert not missing
    assert [(r.config, r.workload) for r in rows] == [(c, m) for c in VELA["results"] for m in VELA["results"][c]]
    assert all(abs(r.error) <= 0.10 for r in rows)
    npu = vela_arch(ROOT, "ethos-u65-512").compute_unit("npu")
    assert npu.config == "ethos-u65-512" and npu.macs_per_cycle == 512
