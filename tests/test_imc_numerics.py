"""In-memory-compute numerics: exact when digital, a hand-computed ADC case, monotone in ADC bits, seeded noise."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from conftest import REPO_ROOT, require_model

from tinysim.cli.main import main
from tinysim.engine import random_input, run_graph
from tinysim.engine.fixedpoint import RUY, TFLITE, quantize_multipliers, requantize
from tinysim.engine.imc_numerics import ImcNumerics, prepare_layer, requantize_weights
from tinysim.engine.imc_run import imc_fidelity, prepare_imc, run_graph_imc
from tinysim.errors import TinysimError
from tinysim.ops import OpKind
from tinysim.workload import load_workload
from tinysim.workload.graph import DType, Graph, Op, Quantization, Tensor
from tinysim.workload.tflite_import import load_tflite

WORKLOADS = ["kws", "vww", "ic", "ad", "fc4_audio"]
MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8"]


def _workload(name: str) -> Graph:
    return load_workload(REPO_ROOT / "workloads" / f"{name}.yaml")


def _assert_same_as_engine(graph: Graph, numerics: ImcNumerics, seeds=(0, 1)) -> None:
    program = prepare_imc(graph, numerics)
    for seed in seeds:
        x = random_input(graph, seed)
        exact, imc = run_graph(graph, x), run_graph_imc(program, x)
        for a, b in zip(exact.outputs, imc.outputs):
            np.testing.assert_array_equal(a, b)
        assert [e.__class__(**{**vars(e), "adc_conversions": 0}) for e in imc.events] == list(exact.events)


@pytest.mark.parametrize("name", WORKLOADS)
def test_digital_8bit_is_bit_identical_to_engine(name):
    _assert_same_as_engine(_workload(name), ImcNumerics(weight_bits=8, adc_bits=None))


@pytest.mark.parametrize("name", MODELS)
def test_digital_8bit_is_bit_identical_on_real_models(name):
    _assert_same_as_engine(load_tflite(require_model(f"{name}.tflite")), ImcNumerics(), seeds=(0,))


@pytest.mark.parametrize("name", ["kws", "ic"])
def test_bit_serial_path_with_an_ideal_adc_is_exact(name):
    # 24-bit ADC: LSB clamps to one cell current and nothing clips, so the bit-plane path must be exact
    graph = _workload(name)
    x = random_input(graph, 3)
    got = run_graph_imc(graph, x, ImcNumerics(adc_bits=24, rows_per_array=16)).outputs[0]
    np.testing.assert_array_equal(got, run_graph(graph, x).outputs[0])


def _tiny_fc() -> Graph:
    """1x4 input (scale 1, zp -128, so u = x + 128), 2x4 weights (scale 1), no bias, output scale 1."""
    q = Quantization((1.0,), (-128,))
    w = np.array([[2, 1, 1, -2], [3, 3, -3, -3]], np.int8)
    tensors = (
        Tensor("x", (1, 4), DType.INT8, q),
        Tensor("w", (2, 4), DType.INT8, Quantization((1.0,), (0,)), w),
        Tensor("b", (2,), DType.INT32, Quantization((1.0,), (0,)), np.zeros(2, np.int32)),
        Tensor("y", (1, 2), DType.INT8, Quantization((1.0,), (0,))),
    )
    return Graph("tiny_fc", tensors, (Op(OpKind.FULLY_CONNECTED, "fc", (0, 1, 2), (3,)),), (0,), (3,))


def test_hand_computed_fc_with_a_2bit_adc():
    graph = _tiny_fc()
    x = (np.array([[3, 1, 2, 0]]) - 128).astype(np.int8)  # u = 3 1 2 0
    np.testing.assert_array_equal(run_graph(graph, x).outputs[0], [[9, 6]])  # 6+1+2-0, 9+3-6-0
    # rows 2 -> chunks {0,1}, {2,3}; 2-bit ADC codes -2..1, LSB = 2 * full scale / 4.
    # Column 0: full scale 2 rows x 2 = 4, LSB 2. Chunk 0: plane 0 bits (1,1) sum 3 -> 1.5 -> 2 -> clip 1;
    #   plane 1 bits (1,0) sum 2 -> 1. Chunk 1: plane 1 bits (1,0) sum 1 -> 0.5 -> 1. Codes 1 + 2*1 + 2*1 = 5 -> 10.
    # Column 1: full scale 2 x 3 = 6, LSB 3. Chunk 0: plane 0 sum 6 -> 2 -> clip 1; plane 1 sum 3 -> 1.
    #   Chunk 1: plane 1 sum -3 -> -1. Codes 1 + 2 - 2 = 1 -> 3.
    numerics = ImcNumerics(adc_bits=2, rows_per_array=2)
    result = run_graph_imc(graph, x, numerics)
    np.testing.assert_array_equal(result.outputs[0], [[10, 3]])
    assert result.events[0].adc_conversions == 2 * 8 * 2  # outputs x input bit-planes x chunks


def _reduction(graph: Graph, op: Op) -> int | None:
    """K: weight rows one output sums over (None for ops without weights)."""
    if op.kind is OpKind.CONV_2D:
        return int(np.prod(graph.tensors[op.inputs[1]].shape[1:]))
    if op.kind is OpKind.DEPTHWISE_CONV_2D:
        return int(np.prod(graph.tensors[op.inputs[1]].shape[1:3]))
    if op.kind is OpKind.FULLY_CONNECTED:
        return graph.tensors[op.inputs[1]].shape[1]
    return None


def _fc_graph(w: np.ndarray, out_scale: float = 1.0) -> Graph:
    """FC with input scale 1 and zp -128 (u = x + 128), weights scale 1, no bias, output zp 0."""
    n_out, n_in = w.shape
    tensors = (
        Tensor("x", (1, n_in), DType.INT8, Quantization((1.0,), (-128,))),
        Tensor("w", w.shape, DType.INT8, Quantization((1.0,), (0,)), w.astype(np.int8)),
        Tensor("b", (n_out,), DType.INT32, Quantization((1.0,), (0,)), np.zeros(n_out, np.int32)),
        Tensor("y", (1, n_out), DType.INT8, Quantization((out_scale,), (0,))),
    )
    return Graph("fc", tensors, (Op(OpKind.FULLY_CONNECTED, "fc", (0, 1, 2), (3,)),), (0,), (3,))


def _naive_dot(w: np.ndarray, u: np.ndarray, adc_bits: int, rows: int, sliced: bool) -> int:
    """The documented ADC model in plain NumPy: one output's sum of w * u (8-bit w and u) read in chunks."""
    k = w.size
    if sliced:
        cells = [((w.astype(np.int64) & 0xFF) >> j) & 1 for j in range(8)]
        weights = [2**j for j in range(7)] + [-128]
        lsb = max(min(rows, k) / (2**adc_bits - 1), 1.0)
        lo, hi = 0, 2**adc_bits - 1
    else:
        cells, weights = [w.astype(np.int64)], [1]
        lsb = max(min(rows, k) * np.abs(w).max() / 2 ** (adc_bits - 1), 1.0)
        lo, hi = -(2 ** (adc_bits - 1)), 2 ** (adc_bits - 1) - 1
    total = 0
    for q0 in range(0, k, rows):
        for cell, weight in zip(cells, weights):
            for b in range(8):
                ps = int((cell[q0 : q0 + rows] * ((u[q0 : q0 + rows] >> b) & 1)).sum())
                total += weight * 2**b * int(np.clip(np.floor(ps / lsb + 0.5), lo, hi))
    return int(np.floor(lsb * total + 0.5))


def _naive_imc_fc(w: np.ndarray, u: np.ndarray, adc_bits: int, rows: int, sliced: bool) -> np.ndarray:
    return np.clip([_naive_dot(row, u, adc_bits, rows, sliced) for row in w], -128, 127)


@pytest.mark.parametrize("sliced", [False, True])
@pytest.mark.parametrize(("adc_bits", "rows"), [(2, 3), (3, 2), (4, 5), (1, 4)])
def test_fc_matches_a_numpy_reference_of_the_adc_model(sliced, adc_bits, rows):
    rng = np.random.default_rng(adc_bits * 10 + rows)
    w = rng.integers(-3, 4, size=(5, 7))
    u = rng.integers(0, 6, size=7)  # |acc| <= 7 * 3 * 5 < 128: the output is the accumulator
    graph = _fc_graph(w)
    x = (u - 128).astype(np.int8)[None, :]
    got = run_graph_imc(graph, x, ImcNumerics(adc_bits=adc_bits, rows_per_array=rows, bit_sliced=sliced))
    np.testing.assert_array_equal(got.outputs[0][0], _naive_imc_fc(w, u, adc_bits, rows, sliced))
    np.testing.assert_array_equal(run_graph(graph, x).outputs[0][0], w @ u)


CONV_YAML = """
version: 1
name: one_{op}
input: {{name: x, shape: [1, 6, 5, 3], scale: 0.05, zero_point: 10}}
layers:
  - {{name: layer, op: {op}, {args}, kernel: 3, stride: 2, padding: same}}
"""


@pytest.mark.parametrize("sliced", [False, True])
@pytest.mark.parametrize(("op", "args"), [("conv2d", "filters: 4"), ("depthwise_conv2d", "depth_multiplier: 2")])
def test_conv_and_depthwise_match_a_numpy_reference(tmp_path, op, args, sliced):
    """im2col (pad = zero point), per-channel requantization and the ADC model, checked from scratch."""
    path = tmp_path / "one.yaml"
    path.write_text(CONV_YAML.format(op=op, args=args))
    graph = load_workload(path)
    conv = graph.ops[0]
    x_t, w_t, b_t, y_t = (graph.tensors[i] for i in (*conv.inputs, conv.outputs[0]))
    x = random_input(graph, 4)[0]
    sx, zx, sy, zy = x_t.quant.scale[0], x_t.quant.zero_point[0], y_t.quant.scale[0], y_t.quant.zero_point[0]
    # SAME, stride 2 on 6 x 5: TFLite pads 0 rows on top (1 below), 1 column left and right
    u = np.pad(x[0].astype(np.int64) + 128, ((0, 1), (1, 1), (0, 0)), constant_values=zx + 128)
    w = w_t.data.astype(np.int64)
    oc = y_t.shape[3]
    mult, shift = quantize_multipliers(sx * np.broadcast_to(np.asarray(w_t.quant.scale), (oc,)) / sy)
    mode = RUY if op == "conv2d" else TFLITE
    want = np.zeros(y_t.shape[1:], np.int64)
    for oy, ox, o in np.ndindex(*y_t.shape[1:]):
        patch = u[2 * oy : 2 * oy + 3, 2 * ox : 2 * ox + 3]
        if op == "conv2d":
            col, row = patch.reshape(-1), w[o].reshape(-1)
        else:
            col, row = patch[:, :, o // 2].reshape(-1), w[0, :, :, o].reshape(-1)
        acc = int(b_t.data[o]) - (zx + 128) * int(row.sum()) + _naive_dot(row, col, 3, 9, sliced)
        want[oy, ox, o] = np.clip(requantize(acc, int(mult[o]), int(shift[o]), mode) + zy, -128, 127)
    got = run_graph_imc(graph, x, ImcNumerics(adc_bits=3, rows_per_array=9, bit_sliced=sliced))
    np.testing.assert_array_equal(got.outputs[0][0], want)
    assert not np.array_equal(want, run_graph(graph, x).outputs[0][0])  # the 3-bit ADC does change the layer


def test_fewer_input_bits_round_the_input_to_its_top_bits():
    rng = np.random.default_rng(7)
    w = rng.integers(-1, 2, size=(4, 7))
    u = rng.integers(0, 256, size=7)
    graph = _fc_graph(w, out_scale=16.0)  # acc = 16 * sum(w * v): the output is sum(w * v) exactly
    x = (u - 128).astype(np.int8)[None, :]
    v = np.minimum((u + 8) >> 4, 15)  # u rounded to its top 4 bits
    for numerics in (ImcNumerics(input_bits=4), ImcNumerics(input_bits=4, adc_bits=12, bit_sliced=True)):
        result = run_graph_imc(graph, x, numerics)
        np.testing.assert_array_equal(result.outputs[0][0], w @ v)
    assert result.total.adc_conversions == 4 * 4 * 1 * 8  # outputs x 4 bit-planes x 1 chunk x 8 weight slices


@pytest.mark.parametrize("name", ["kws", "fc4_audio"])
def test_bit_sliced_array_is_exact_when_the_adc_resolves_its_rows(name):
    # one-bit cells: a column sum counts at most `rows` products; 2**6 - 1 = 63 rows fit a 6-bit ADC
    graph = _workload(name)
    x = random_input(graph, 2)
    exact = run_graph(graph, x).outputs[0]
    fits = run_graph_imc(graph, x, ImcNumerics(adc_bits=6, rows_per_array=63, bit_sliced=True))
    np.testing.assert_array_equal(fits.outputs[0], exact)
    digital4 = run_graph_imc(graph, x, ImcNumerics(weight_bits=4, bit_sliced=True)).outputs[0]
    sliced4 = run_graph_imc(graph, x, ImcNumerics(weight_bits=4, adc_bits=6, rows_per_array=63, bit_sliced=True))
    np.testing.assert_array_equal(sliced4.outputs[0], digital4)
    assert sliced4.total.adc_conversions == fits.total.adc_conversions // 2  # 4 columns per weight, not 8


def test_adc_conversions_formula_on_kws():
    graph = _workload("kws")
    numerics = ImcNumerics(adc_bits=6, rows_per_array=48, input_bits=4)
    result = run_graph_imc(graph, random_input(graph), numerics)
    for op, events in zip(graph.ops, result.events):
        want = (
            0 if _reduction(graph, op) is None else events.output_elements * 4 * math.ceil(_reduction(graph, op) / 48)
        )
        assert events.adc_conversions == want, op.name
    assert result.total.adc_conversions > 0
    assert run_graph_imc(graph, random_input(graph), ImcNumerics()).total.adc_conversions == 0


def test_error_does_not_grow_with_adc_bits_and_vanishes_when_the_adc_resolves_every_sum():
    graph = _workload("fc4_audio")
    errors, snrs = [], []
    for bits in (2, 4, 6, 8, 10, 12, 14):  # 14 bits: LSB = 2*64*127/2**14 < 1 cell current -> exact
        report = imc_fidelity(graph, ImcNumerics(adc_bits=bits), n_inputs=8)
        errors.append(report.mean_abs_error)
        snrs.append(report.output_snr_db)
    assert all(b <= a for a, b in itertools.pairwise(errors)), errors
    assert all(b >= a - 0.5 for a, b in itertools.pairwise(snrs)), snrs  # both ends of 2 and 4 bits are noise
    assert errors[0] > 0 and errors[-1] == 0


def test_calibrated_full_scale_beats_worst_case_at_low_resolution():
    graph = _workload("fc4_audio")
    worst = imc_fidelity(graph, ImcNumerics(adc_bits=6), n_inputs=8)
    calibrated = imc_fidelity(graph, ImcNumerics(adc_bits=6, calibrate_percentile=99.9), n_inputs=8)
    assert calibrated.mean_abs_error < worst.mean_abs_error
    program = prepare_imc(graph, ImcNumerics(adc_bits=6, calibrate_percentile=99.9))
    for k, layer in program.layers.items():  # calibrated range is below the worst case
        assert (program.lsb[k] <= 2 * layer.worst_case / 2**6).all()


def test_noise_is_reproducible_from_the_seed():
    graph = _workload("ad")  # an autoencoder: a 640-value output that noise visibly moves
    x = random_input(graph, 5)

    def out(seed: int, key: int = 0) -> np.ndarray:
        numerics = ImcNumerics(adc_bits=8, noise_sigma_lsb=2.0, seed=seed, calibrate_percentile=99.9)
        return run_graph_imc(graph, x, numerics, noise_key=key).outputs[0]

    np.testing.assert_array_equal(out(1), out(1))
    assert not np.array_equal(out(1), out(2))
    assert not np.array_equal(out(1), out(1, key=7))
    a = imc_fidelity(graph, ImcNumerics(adc_bits=6, noise_sigma_lsb=0.5, seed=3), n_inputs=3)
    b = imc_fidelity(graph, ImcNumerics(adc_bits=6, noise_sigma_lsb=0.5, seed=3), n_inputs=3)
    assert a == b and a.top1_agreement is None


def test_weight_requantization():
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, size=(6, 20))
    w[2] = 0
    scales = np.linspace(0.01, 0.06, 6)
    q8, s8 = requantize_weights(w, scales, 8)
    np.testing.assert_array_equal(q8, w)
    np.testing.assert_array_equal(s8, scales)
    q4, s4 = requantize_weights(w, scales, 4)
    assert np.abs(q4).max() == 7 and not q4[2].any() and s4[2] == scales[2]
    real, approx = w * scales[:, None], q4 * s4[:, None]
    assert (np.abs(real - approx) <= s4[:, None] / 2 + 1e-12).all()  # within half a 4-bit step
    layer = prepare_layer(_workload("kws"), 0, ImcNumerics(weight_bits=3))
    assert np.abs(layer.w).max() <= 3


def test_numerics_are_validated():
    for bad in ({"weight_bits": 1}, {"adc_bits": 0}, {"rows_per_array": 0}, {"full_scale_fraction": 0.0},
                {"noise_sigma_lsb": 1.0}, {"calibrate_percentile": 0.0}, {"input_bits": 9}):  # fmt: skip
        with pytest.raises(TinysimError):
            ImcNumerics(**bad)
    with pytest.raises(TinysimError, match="not a MAC op"):
        prepare_imc(_workload("kws"), ImcNumerics(), ops=[9])


def test_cli_table_and_json(capsys):
    path = str(REPO_ROOT / "workloads" / "fc4_audio.yaml")
    assert main(["imc-fidelity", path, "--adc-bits", "4", "exact", "--weight-bits", "8", "--inputs", "2"]) == 0
    text = capsys.readouterr().out
    assert "ADC bits" in text and "exact" in text and "100 %" in text
    assert main(["imc-fidelity", path, "--adc-bits", "6", "--weight-bits", "4", "8", "--inputs", "2",
                 "--full-scale", "p99", "--noise", "0.5", "--format", "json"]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["results"]
    assert [(r["weight_bits"], r["adc_bits"]) for r in rows] == [(4, 6), (8, 6)]
    # 8 bit-planes x (256 outputs x 10 chunks of 64 rows + 2 x 256 x 4 + 12 x 4)
    assert [r["adc_conversions_per_inference"] for r in rows] == [8 * (2560 + 2048 + 48)] * 2
    assert main(["imc-fidelity", path, "--full-scale", "huge"]) == 2
    assert main(["imc-fidelity", path, "--per-layer", "--adc-bits", "6", "--weight-bits", "8", "--inputs", "2"]) == 0
    text = capsys.readouterr().out
    assert "one layer at a time" in text and all(f" fc{i} " in text for i in range(1, 5))
    arch = str(REPO_ROOT / "archs" / "ndp120.yaml")
    kws = str(REPO_ROOT / "workloads" / "kws.yaml")
    assert main(["imc-fidelity", kws, "--arch", arch, "--inputs", "1", "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert (row["weight_bits"], row["adc_bits"], row["bit_sliced"], row["max_abs_error_lsb"]) == (8, None, True, 0)
    assert main(["imc-fidelity", kws, "--arch", str(REPO_ROOT / "archs" / "stm32l4r5.yaml")]) == 2
