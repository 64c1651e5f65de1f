"""Differential fuzz of the MAC ops beyond int8: int16x8 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED,
legacy uint8 FULLY_CONNECTED, TRANSPOSE_CONV in int8 and int16x8, int8 BATCH_MATMUL; LiteRT against
tinysim, bit for bit.

As tests/test_op_fuzz.py: hypothesis draws a `MacCase` (builder name and its keyword parameters), the
model is built in memory and run by LiteRT (builtin kernels, no delegates) and `run_graph`; a failure
prints the case, which rebuilds the model: `MacCase("conv16", {...}).build()`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import naive
import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_op_fuzz import ACTIVATIONS, _f32, log2_uniform, pairs_1_3, run_litert, seeds
from tflite_builder import INT8, INT16, INT32, INT64, UINT8, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.ops import window
from tinysim.workload.tflite_import import parse_tflite

Op = tflite.BuiltinOperator
SAME, VALID = tflite.Padding.SAME, tflite.Padding.VALID
EXAMPLES = int(__import__("os").environ.get("MAC_EXAMPLES", 200))
RANGE = {INT8: (-128, 127), INT16: (-32768, 32767), UINT8: (0, 255)}


@dataclass(frozen=True)
class MacCase:
    """One generated model: the builder (a key of BUILDERS) and its keyword parameters."""

    kind: str
    params: dict[str, Any]

    def build(self) -> tuple[bytes, list[np.ndarray]]:
        return BUILDERS[self.kind](**self.params)


# --- model builders ------------------------------------------------------------------------------------


def _act(name, shape, dtype, scale, zp) -> TensorSpec:
    return TensorSpec(name, tuple(shape), dtype, scale=(scale,), zero_point=(zp,))


def _input(seed: int, shape, dtype: int, spread: int) -> np.ndarray:
    """Values uniform over the dtype's range narrowed to `spread` bits around 0 (int16: small inputs
    and zeros exercise exact ties and the zero-operand count)."""
    rng = np.random.default_rng(seed)
    lo, hi = RANGE[dtype]
    mid = (lo + hi + 1) // 2
    half = min(1 << spread, hi - mid + 1)
    x = rng.integers(mid - half, mid + half, size=shape).clip(lo, hi)
    x[rng.random(shape) < 0.1] = mid
    return x.astype(tflite_builder_numpy(dtype))


def tflite_builder_numpy(dtype: int) -> np.dtype:
    return {INT8: np.dtype(np.int8), INT16: np.dtype(np.int16), UINT8: np.dtype(np.uint8)}[dtype]


def _weights(seed, shape, axis, w_scales, w_max, w_dtype=INT8, w_zp=0) -> tuple[TensorSpec, np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    w = rng.integers(-w_max, w_max + 1, size=shape) + w_zp
    w[rng.random(shape) < 0.2] = w_zp  # some zero weights, as pruned models have
    w = w.clip(*RANGE[w_dtype]).astype(tflite_builder_numpy(w_dtype))
    scales = tuple(np.float32(s) for s in w_scales)
    return TensorSpec("w", tuple(shape), w_dtype, scales, (w_zp,) * len(scales), axis=axis, data=w), w


def _bias(seed, oc, in_scale, w_scales, bits, dtype) -> tuple[TensorSpec, np.ndarray]:
    rng = np.random.default_rng(seed + 2)
    b = rng.integers(-(1 << bits), 1 << bits, size=oc)
    scales = tuple(float(np.float32(in_scale) * np.float32(s)) for s in w_scales)
    return TensorSpec("b", (oc,), dtype, scales, (0,) * len(scales), data=b), b


def build_conv(depthwise, n, h, wd, c, oc, kh, kw, stride, dilation, padding, activation, in_scale, out_scale,
               w_scales, w_max, bias, spread, seed):  # fmt: skip
    """int16x8 CONV_2D (OHWI weights) or DEPTHWISE_CONV_2D (1HW(C*M)); `bias`: None, "int64" or "int32"."""
    oh, _ = window(h, kh, stride[0], dilation[0], padding == SAME)
    ow, _ = window(wd, kw, stride[1], dilation[1], padding == SAME)
    shape, axis = ((1, kh, kw, oc), 3) if depthwise else ((oc, kh, kw, c), 0)
    w, _ = _weights(seed, shape, axis, w_scales, w_max)
    tensors = [_act("x", (n, h, wd, c), INT16, in_scale, 0), w, _act("y", (n, oh, ow, oc), INT16, out_scale, 0)]
    if bias:
        tensors.append(_bias(seed, oc, in_scale, w_scales, 20, INT64 if bias == "int64" else INT32)[0])
    fields = {"Padding": padding, "StrideH": stride[0], "StrideW": stride[1], "DilationHFactor": dilation[0],
              "DilationWFactor": dilation[1], "FusedActivationFunction": activation}  # fmt: skip
    if depthwise:
        options = Options("DepthwiseConv2DOptions", {**fields, "DepthMultiplier": oc // c})
    else:
        options = Options("Conv2DOptions", fields)
    code = Op.DEPTHWISE_CONV_2D if depthwise else Op.CONV_2D
    model = single_op_model(code, tensors, op_inputs=(0, 1, 3 if bias else -1), op_outputs=(2,), options=options)
    return model, [_input(seed, (n, h, wd, c), INT16, spread)]


def build_fc(dtype, in_shape, n_out, activation, in_scale, in_zp, out_scale, out_zp, w_scales, w_max, w_zp, bias,
             spread, seed):  # fmt: skip
    """FULLY_CONNECTED in int16x8 (dtype INT16) or legacy uint8 (UINT8 input, weights and output)."""
    n_in = in_shape[-1]
    batches = math.prod(in_shape) // n_in
    w, _ = _weights(seed, (n_out, n_in), 0, w_scales, w_max, INT8 if dtype == INT16 else UINT8, w_zp)
    tensors = [_act("x", in_shape, dtype, in_scale, in_zp), w, _act("y", (batches, n_out), dtype, out_scale, out_zp)]
    if bias:
        tensors.append(_bias(seed, n_out, in_scale, w_scales[:1], 16, INT64 if bias == "int64" else INT32)[0])
    options = Options("FullyConnectedOptions", {"FusedActivationFunction": activation})
    model = single_op_model(Op.FULLY_CONNECTED, tensors, op_inputs=(0, 1, 3 if bias else -1), op_outputs=(2,),
                            options=options)  # fmt: skip
    return model, [_input(seed, in_shape, dtype, spread)]


def build_transpose_conv(dtype, n, h, wd, c, oc, kh, kw, stride, extra, padding, activation, in_scale, in_zp,
                         out_scale, out_zp, w_scales, w_max, bias, spread, seed):  # fmt: skip
    """TRANSPOSE_CONV: output size h * s (SAME) or (h - 1) * s + k (VALID), less / plus `extra` < s."""
    same = padding == SAME
    oh = h * stride[0] - extra[0] if same else (h - 1) * stride[0] + kh + extra[0]
    ow = wd * stride[1] - extra[1] if same else (wd - 1) * stride[1] + kw + extra[1]
    w, _ = _weights(seed, (oc, kh, kw, c), 0, w_scales, w_max)
    out_shape = np.array([n, oh, ow, oc], np.int32)
    tensors = [TensorSpec("shape", (4,), INT32, data=out_shape), w, _act("x", (n, h, wd, c), dtype, in_scale, in_zp),
               _act("y", (n, oh, ow, oc), dtype, out_scale, out_zp)]  # fmt: skip
    if bias:
        tensors.append(_bias(seed, oc, in_scale, w_scales, 16, INT64 if bias == "int64" else INT32)[0])
    options = Options("TransposeConvOptions", {"Padding": padding, "StrideH": stride[0], "StrideW": stride[1],
                                               "FusedActivationFunction": activation})  # fmt: skip
    model = single_op_model(Op.TRANSPOSE_CONV, tensors, op_inputs=(0, 1, 2, 4 if bias else -1), op_outputs=(3,),
                            options=options)  # fmt: skip
    return model, [_input(seed, (n, h, wd, c), dtype, spread)]


def build_batch_matmul(lhs_batch, rhs_batch, m, k, n, adj_x, adj_y, const_rhs, scales, out_scale, zps, seed):
    """int8 BATCH_MATMUL; the rhs a constant or a second input."""
    rng = np.random.default_rng(seed)
    ls = (*lhs_batch, k, m) if adj_x else (*lhs_batch, m, k)
    rs = (*rhs_batch, n, k) if adj_y else (*rhs_batch, k, n)
    ys = (*np.broadcast_shapes(lhs_batch, rhs_batch), m, n)
    rhs = rng.integers(-128, 128, rs).astype(np.int8)
    tensors = [_act("l", ls, INT8, scales[0], zps[0]), TensorSpec("r", rs, INT8, (scales[1],), (zps[1],),
               data=rhs if const_rhs else None), _act("y", ys, INT8, out_scale, zps[2])]  # fmt: skip
    options = Options("BatchMatMulOptions", {"AdjX": adj_x, "AdjY": adj_y})
    model = single_op_model(Op.BATCH_MATMUL, tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    lhs = rng.integers(-128, 128, ls).astype(np.int8)
    return model, [lhs] if const_rhs else [lhs, rhs]


BUILDERS = {
    "batch_matmul8": build_batch_matmul,
    "conv16": lambda **p: build_conv(False, **p),
    "depthwise16": lambda **p: build_conv(True, **p),
    "fc16": lambda **p: build_fc(INT16, **p),
    "fc_uint8": lambda **p: build_fc(UINT8, **p),
    "transpose_conv8": lambda **p: build_transpose_conv(INT8, **p),
    "transpose_conv16": lambda **p: build_transpose_conv(INT16, **p),
}


# --- parameter strategies ------------------------------------------------------------------------------


def _window_ok(size: int, k: int, stride: int, dilation: int, padding: int) -> bool:
    return window(size, k, stride, dilation, padding == SAME)[0] >= 1


def _scales(draw, k: int, oc: int, spread: int, per_channel_ok: bool = True) -> dict[str, Any]:
    """Input, weight and output scales whose multiplier in_scale * w_scale / out_scale spreads outputs
    over the output type (sums ~ 2**spread * 2**6 * sqrt(k)); powers of two half the time (exact ties)."""
    exact = draw(st.booleans())
    w_max = draw(st.sampled_from([1, 3, 15, 127])) if exact else 127
    in_scale, w_base = draw(log2_uniform(-12, -2)), draw(log2_uniform(-10, -2))
    out_bits = 14 if spread > 7 else 6
    if exact:
        target = 2.0 ** draw(st.integers(-14, 0))
    else:
        target = 2.0 ** min(6.0, draw(st.floats(-4, 4)) + out_bits - 6 - spread - 0.5 * math.log2(k))
    per_channel = per_channel_ok and draw(st.booleans())
    factor = st.integers(-2, 2) if exact else st.floats(-2, 2)
    factors = draw(st.lists(factor, min_size=oc, max_size=oc)) if per_channel else [0.0]
    return {"in_scale": in_scale, "out_scale": _f32(in_scale * w_base / target),
            "w_scales": [_f32(w_base * 2.0**f) for f in factors], "w_max": w_max}  # fmt: skip


@st.composite
def conv16_cases(draw, depthwise: bool) -> MacCase:
    n, c, h = draw(st.integers(1, 2)), draw(st.integers(1, 8)), draw(st.integers(1, 10))
    wd, kh, kw = draw(st.integers(1, 12)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, dilation, padding = draw(pairs_1_3), draw(pairs_1_3), draw(st.sampled_from([SAME, VALID]))
    if not (_window_ok(h, kh, stride[0], dilation[0], padding) and _window_ok(wd, kw, stride[1], dilation[1], padding)):
        padding = SAME
    oc = c * draw(st.integers(1, 16 // c)) if depthwise else draw(st.integers(1, 12))
    spread = draw(st.sampled_from([15, 15, 8, 3]))
    params = {"n": n, "h": h, "wd": wd, "c": c, "oc": oc, "kh": kh, "kw": kw, "stride": stride, "dilation": dilation,
              "padding": padding, "activation": draw(st.sampled_from(ACTIVATIONS)), "bias": "int64",
              "spread": spread, "seed": draw(seeds), **_scales(draw, kh * kw * (1 if depthwise else c), oc, spread)}  # fmt: skip
    return MacCase("depthwise16" if depthwise else "conv16", params)


@st.composite
def fc_mac_cases(draw, legacy: bool) -> MacCase:
    n_in, n_out = draw(st.integers(1, 32)), draw(st.integers(1, 16))
    lead = draw(st.sampled_from([(1,), (2,), (4,), (2, 3), (1, 2, 2)]))
    spread = 7 if legacy else draw(st.sampled_from([15, 15, 8, 3]))
    zps = st.integers(0, 255) if legacy else st.just(0)
    biases = [None, "int32"] if legacy else [None, "int64", "int32"]
    params = {"in_shape": (*lead, n_in), "n_out": n_out, "activation": draw(st.sampled_from(ACTIVATIONS)),
              "in_zp": draw(zps), "out_zp": draw(zps), "w_zp": draw(zps), "bias": draw(st.sampled_from(biases)),
              "spread": spread, "seed": draw(seeds), **_scales(draw, n_in, n_out, spread, per_channel_ok=not legacy)}  # fmt: skip
    return MacCase("fc_uint8" if legacy else "fc16", params)


@st.composite
def transpose_conv_cases(draw, wide: bool) -> MacCase:
    n, c, h = draw(st.integers(1, 2)), draw(st.integers(1, 8)), draw(st.integers(1, 6))
    wd, kh, kw, oc = draw(st.integers(1, 8)), draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 10))
    stride = draw(pairs_1_3)
    extra = (draw(st.integers(0, stride[0] - 1)), draw(st.integers(0, stride[1] - 1)))
    spread = draw(st.sampled_from([15, 15, 8, 3])) if wide else 7
    zps = st.just(0) if wide else st.integers(-128, 127)
    taps = max(1, kh // stride[0]) * max(1, kw // stride[1]) * c
    params = {"n": n, "h": h, "wd": wd, "c": c, "oc": oc, "kh": kh, "kw": kw, "stride": stride, "extra": extra,
              "padding": draw(st.sampled_from([SAME, VALID])), "activation": draw(st.sampled_from(ACTIVATIONS)),
              "in_zp": draw(zps), "out_zp": draw(zps), "bias": draw(st.sampled_from([None, "int64" if wide else "int32"])),
              "spread": spread, "seed": draw(seeds), **_scales(draw, taps, oc, spread)}  # fmt: skip
    return MacCase("transpose_conv16" if wide else "transpose_conv8", params)


BATCH_PAIRS = [((), ()), ((2,), ()), ((), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((1, 3), (2, 1)), ((2, 1), (3,))]


@st.composite
def batch_matmul_cases(draw) -> MacCase:
    lhs_batch, rhs_batch = draw(st.sampled_from(BATCH_PAIRS))
    m, k, n = draw(st.integers(1, 8)), draw(st.integers(1, 16)), draw(st.integers(1, 8))
    scales = (draw(log2_uniform(-8, 0)), draw(log2_uniform(-8, 0)))
    target = 2.0 ** (draw(st.one_of(st.integers(-4, 4), st.floats(-4, 4))) - 7 - 0.5 * math.log2(k))
    return MacCase("batch_matmul8", {
        "lhs_batch": lhs_batch, "rhs_batch": rhs_batch, "m": m, "k": k, "n": n, "adj_x": draw(st.booleans()),
        "adj_y": draw(st.booleans()), "const_rhs": draw(st.booleans()), "scales": scales,
        "out_scale": _f32(scales[0] * scales[1] / target), "zps": tuple(draw(st.integers(-128, 127)) for _ in range(3)),
        "seed": draw(seeds),
    })  # fmt: skip


STRATEGIES = {
    "batch_matmul8": batch_matmul_cases(),
    "conv16": conv16_cases(depthwise=False),
    "depthwise16": conv16_cases(depthwise=True),
    "fc16": fc_mac_cases(legacy=False),
    "fc_uint8": fc_mac_cases(legacy=True),
    "transpose_conv8": transpose_conv_cases(wide=False),
    "transpose_conv16": transpose_conv_cases(wide=True),
}


# --- the differential check ----------------------------------------------------------------------------


def check_case(case: MacCase) -> None:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    got = run_graph(parse_tflite(model, file=f"{case.kind}.tflite"), inputs, count_events=False).outputs[0]
    if got.shape != expected.shape or not np.array_equal(got, expected):
        diff = np.abs(got.astype(np.int64) - expected.astype(np.int64)) if got.shape == expected.shape else None
        detail = f"{int((diff > 0).sum())} of {diff.size} differ, max by {int(diff.max())}" if diff is not None else ""
        pytest.fail(f"tinysim != LiteRT ({detail or f'shape {got.shape} vs {expected.shape}'}); rebuild with {case!r}")


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mac_op_matches_litert(kind, data):
    check_case(data.draw(STRATEGIES[kind], label="case"))


# --- the NumPy twins (tests/naive.py) against the kernels, events included --------------------------------


def _twin(kind: str, p: dict[str, Any], graph, x: np.ndarray) -> tuple[np.ndarray, int]:
    """The twin's output and zero-operand MACs for a case of `kind`, from the parsed model's constants."""
    op = graph.ops[0]
    t = graph.tensors
    wi, bi = (1, 3) if kind.startswith("transpose") else (1, 2)
    w = t[op.inputs[wi]].data
    b = t[op.inputs[bi]].data.astype(np.int64) if len(op.inputs) > bi and op.inputs[bi] >= 0 else 0
    w_scales = np.broadcast_to(np.asarray(p["w_scales"], np.float64), (w.shape[0 if kind != "depthwise16" else 3],))
    pairs = [naive.quantize_multiplier(p["in_scale"] * s / p["out_scale"]) for s in w_scales]
    mult, shift = np.array([m for m, _ in pairs]), np.array([s for _, s in pairs])
    if kind.startswith("transpose"):
        out_hw = t[op.outputs[0]].shape[1:3]
        acc, zeros, _ = naive.transpose_conv_acc(x, w, p["in_zp"], out_hw, p["stride"], p["padding"] == SAME)
        wide = kind == "transpose_conv16"
        acc = acc + b if wide else (acc + b).astype(np.int32)
        y = (naive.mbqm_reduced if wide else naive.mbqm_litert_depthwise)(acc, mult, shift) + p["out_zp"]
    else:
        same, dm = p["padding"] == SAME, p["oc"] // p["c"] if kind == "depthwise16" else 0
        acc = naive.conv_acc(x, w, p["stride"], p["dilation"], same, dm) + b
        y = naive.mbqm_reduced(acc, mult, shift)
        zeros = (naive.depthwise_zero_macs(x, w, 0, dm, p["stride"], same, p["dilation"]) if dm
                 else naive.conv_zero_macs(x, w, 0, p["stride"], p["dilation"], same))[0]  # fmt: skip
    lo, hi = RANGE[INT16] if "16" in kind else RANGE[INT8]
    return np.clip(y, lo, hi), zeros


_GEOMETRY = {"n": 2, "h": 5, "wd": 7, "c": 3, "kh": 3, "kw": 2, "activation": 0, "in_scale": 2.0**-10,
             "w_max": 127, "spread": 15, "seed": 5}  # fmt: skip
TWIN_CASES = [
    MacCase("conv16", {**_GEOMETRY, "oc": 5, "stride": (1, 2), "dilation": (2, 1), "padding": SAME, "bias": "int64",
                       "out_scale": 2.0**-6, "w_scales": [0.01, 0.02, 0.03, 0.04, 0.05]}),
    MacCase("depthwise16", {**_GEOMETRY, "oc": 6, "stride": (2, 1), "dilation": (1, 1), "padding": VALID,
                            "bias": "int64", "out_scale": 2.0**-9, "w_scales": [0.02]}),
    MacCase("transpose_conv16", {**_GEOMETRY, "oc": 4, "stride": (2, 3), "extra": (1, 2), "padding": SAME,
                                 "in_zp": 0, "out_zp": 0, "bias": "int64", "out_scale": 2.0**-5,
                                 "w_scales": [0.01, 0.02, 0.03, 0.04]}),
    MacCase("transpose_conv8", {**_GEOMETRY, "oc": 11, "stride": (2, 2), "extra": (0, 1), "padding": VALID,
                                "in_zp": -3, "out_zp": 4, "bias": "int32", "spread": 7, "in_scale": 0.05,
                                "out_scale": 0.8, "w_scales": [0.01]}),
]  # fmt: skip


def test_batch_matmul_matches_naive_twin():
    p = {"lhs_batch": (2, 1), "rhs_batch": (3,), "m": 3, "k": 5, "n": 4, "adj_x": True, "adj_y": False,
         "const_rhs": False, "scales": (0.05, 0.02), "out_scale": 0.01, "zps": (3, -7, 2), "seed": 1}  # fmt: skip
    model, (lhs, rhs) = MacCase("batch_matmul8", p).build()
    r = run_graph(parse_tflite(model, file="bmm.tflite"), [lhs, rhs])
    mult, shift = naive.quantize_multiplier(float(np.float32(0.05) * np.float32(0.02)) / np.float32(0.01))
    y = naive.batch_matmul(lhs, rhs, 3, -7, 2, mult, shift, adj_x=True)
    np.testing.assert_array_equal(r.outputs[0], y)
    a, b = np.swapaxes(lhs, -1, -2)[..., :, :, None] == 3, rhs[..., None, :, :] == -7
    assert r.events[0].zero_macs == int(np.broadcast_to(a | b, (2, 3, 3, 5, 4)).sum())


@pytest.mark.parametrize("case", TWIN_CASES, ids=lambda c: c.kind)
def test_kernel_matches_naive_twin(case):
    model, inputs = case.build()
    graph = parse_tflite(model, file=f"{case.kind}.tflite")
    r = run_graph(graph, inputs)
    y, zero_macs = _twin(case.kind, case.params, graph, inputs[0])
    np.testing.assert_array_equal(r.outputs[0], y)
    assert r.events[0].zero_macs == zero_macs
    assert r.events[0].output_zeros == int((y == case.params.get("out_zp", 0)).sum())
    np.testing.assert_array_equal(run_litert(model, inputs), y)
