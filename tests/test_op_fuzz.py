"""Differential operator fuzz: random single-op int8 models, LiteRT against tinysim, bit for bit.

Hypothesis draws an op's parameters (shapes, strides, padding, dilation, fused activation,
per-tensor or per-channel weight scales, zero points, input/output scales, data seed) into a
`Case`; `Case.build()` turns them into `.tflite` bytes (tests/tflite_builder.py) and int8 inputs.
Each case runs in LiteRT (builtin kernels, no delegates) and in `tinysim.engine.run_graph`
(semantics "litert") and the outputs must be equal. A failure prints the `Case`, which rebuilds
the model: `Case("CONV_2D", {...}).build()`.

Not generated here: ADD, SUB, MUL, MAXIMUM, MINIMUM with broadcasting, int16, uint8, float32 or int32 (see
tests/test_op_fuzz_binary.py). Not generated (tinysim documents them as unsupported):
MAXIMUM / MINIMUM with different quantizations, weight zero points other than 0, pooling with different
input/output quantization, FULLY_CONNECTED keep_num_dims.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tflite_builder import INT32, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.ops import window
from tinysim.workload.tflite_import import parse_tflite

Op = tflite.BuiltinOperator
SAME, VALID = tflite.Padding.SAME, tflite.Padding.VALID
ACTIVATIONS = (0, 1, 2, 3)  # NONE, RELU, RELU_N1_TO_1, RELU6
EXAMPLES = 200


@dataclass(frozen=True)
class Case:
    """One generated model: the op kind and the keyword parameters of its builder."""

    op: str
    params: dict[str, Any]

    def build(self) -> tuple[bytes, list[np.ndarray]]:
        return BUILDERS[self.op](**self.params)


# --- model builders: parameters -> (.tflite bytes, inputs) -------------------------------------------


def _act(name: str, shape, scale: float, zp: int) -> TensorSpec:
    return TensorSpec(name, tuple(shape), scale=(scale,), zero_point=(zp,))


def _inputs(seed: int, *shapes) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(-128, 128, size=s, dtype=np.int8) for s in shapes]


def _weights_and_bias(seed, w_shape, axis, in_scale, w_scales, w_max, bias_bits, with_bias):
    """int8 weights in [-w_max, w_max] (zero point 0, per-channel along `axis` when several scales), int32 bias."""
    rng = np.random.default_rng(seed + 1)
    w = rng.integers(-w_max, w_max + 1, size=w_shape, dtype=np.int8)
    w[rng.random(w_shape) < 0.2] = 0  # some zero weights, as pruned models have
    w_scales = tuple(np.float32(s) for s in w_scales)
    oc = w_shape[axis]
    weights = TensorSpec("w", tuple(w_shape), scale=w_scales, zero_point=(0,) * len(w_scales), axis=axis, data=w)
    if not with_bias:
        return weights, None
    b_scales = tuple(float(np.float32(in_scale) * s) for s in np.broadcast_to(np.array(w_scales), (oc,)))
    bias = rng.integers(-(1 << bias_bits), 1 << bias_bits, size=oc).astype(np.int32)
    per_channel = len(w_scales) > 1
    spec = TensorSpec("b", (oc,), INT32, b_scales if per_channel else b_scales[:1], data=bias)
    return weights, spec


def build_conv(n, h, wd, c, oc, kh, kw, stride, dilation, padding, activation, in_scale, in_zp, out_scale, out_zp,
               w_scales, w_max, bias_bits, with_bias, seed):  # fmt: skip
    oh, _ = window(h, kh, stride[0], dilation[0], padding == SAME)
    ow, _ = window(wd, kw, stride[1], dilation[1], padding == SAME)
    w, b = _weights_and_bias(seed, (oc, kh, kw, c), 0, in_scale, w_scales, w_max, bias_bits, with_bias)
    tensors = [_act("x", (n, h, wd, c), in_scale, in_zp), w, _act("y", (n, oh, ow, oc), out_scale, out_zp)]
    if b is not None:
        tensors.append(b)
    options = Options("Conv2DOptions", {"Padding": padding, "StrideH": stride[0], "StrideW": stride[1],
                                        "DilationHFactor": dilation[0], "DilationWFactor": dilation[1],
                                        "FusedActivationFunction": activation})  # fmt: skip
    model = single_op_model(Op.CONV_2D, tensors, op_inputs=(0, 1, 3 if b else -1), op_outputs=(2,), options=options)
    return model, _inputs(seed, (n, h, wd, c))


def build_depthwise(n, h, wd, c, m, kh, kw, stride, dilation, padding, activation, in_scale, in_zp, out_scale,
                    out_zp, w_scales, w_max, bias_bits, with_bias, seed):  # fmt: skip
    oh, _ = window(h, kh, stride[0], dilation[0], padding == SAME)
    ow, _ = window(wd, kw, stride[1], dilation[1], padding == SAME)
    w, b = _weights_and_bias(seed, (1, kh, kw, c * m), 3, in_scale, w_scales, w_max, bias_bits, with_bias)
    tensors = [_act("x", (n, h, wd, c), in_scale, in_zp), w, _act("y", (n, oh, ow, c * m), out_scale, out_zp)]
    if b is not None:
        tensors.append(b)
    options = Options("DepthwiseConv2DOptions", {"Padding": padding, "StrideH": stride[0], "StrideW": stride[1],
                                                 "DilationHFactor": dilation[0], "DilationWFactor": dilation[1],
                                                 "DepthMultiplier": m, "FusedActivationFunction": activation})  # fmt: skip
    model = single_op_model(Op.DEPTHWISE_CONV_2D, tensors, op_inputs=(0, 1, 3 if b else -1), op_outputs=(2,),
                            options=options)  # fmt: skip
    return model, _inputs(seed, (n, h, wd, c))


def build_fc(in_shape, n_out, activation, in_scale, in_zp, out_scale, out_zp, w_scales, w_max, bias_bits, with_bias,
             seed):  # fmt: skip
    n_in = in_shape[-1]
    batches = math.prod(in_shape) // n_in
    w, b = _weights_and_bias(seed, (n_out, n_in), 0, in_scale, w_scales, w_max, bias_bits, with_bias)
    tensors = [_act("x", in_shape, in_scale, in_zp), w, _act("y", (batches, n_out), out_scale, out_zp)]
    if b is not None:
        tensors.append(b)
    options = Options("FullyConnectedOptions", {"FusedActivationFunction": activation})
    model = single_op_model(Op.FULLY_CONNECTED, tensors, op_inputs=(0, 1, 3 if b else -1), op_outputs=(2,),
                            options=options)  # fmt: skip
    return model, _inputs(seed, in_shape)


def build_pool(kind, n, h, wd, c, fh, fw, stride, padding, activation, scale, zp, seed):
    oh, _ = window(h, fh, stride[0], 1, padding == SAME)
    ow, _ = window(wd, fw, stride[1], 1, padding == SAME)
    tensors = [_act("x", (n, h, wd, c), scale, zp), _act("y", (n, oh, ow, c), scale, zp)]
    options = Options("Pool2DOptions", {"Padding": padding, "StrideH": stride[0], "StrideW": stride[1],
                                        "FilterHeight": fh, "FilterWidth": fw, "FusedActivationFunction": activation})  # fmt: skip
    model = single_op_model(getattr(Op, kind), tensors, op_inputs=(0,), op_outputs=(1,), options=options)
    return model, _inputs(seed, (n, h, wd, c))


def build_add(shape, activation, a_scale, a_zp, b_scale, b_zp, out_scale, out_zp, seed):
    tensors = [_act("a", shape, a_scale, a_zp), _act("b", shape, b_scale, b_zp), _act("y", shape, out_scale, out_zp)]
    options = Options("AddOptions", {"FusedActivationFunction": activation})
    model = single_op_model(Op.ADD, tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    return model, _inputs(seed, shape, shape)


def build_reshape(in_shape, out_shape, scale, zp, seed):
    new_shape = np.array(out_shape, np.int32)
    tensors = [_act("x", in_shape, scale, zp), TensorSpec("shape", (len(out_shape),), INT32, data=new_shape),
               _act("y", out_shape, scale, zp)]  # fmt: skip
    options = Options("ReshapeOptions", {"NewShape": list(out_shape)})
    model = single_op_model(Op.RESHAPE, tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    return model, _inputs(seed, in_shape)


def build_softmax(shape, beta, in_scale, in_zp, seed):
    tensors = [_act("x", shape, in_scale, in_zp), _act("y", shape, 1.0 / 256, -128)]
    options = Options("SoftmaxOptions", {"Beta": beta})
    model = single_op_model(Op.SOFTMAX, tensors, op_inputs=(0,), op_outputs=(1,), options=options)
    return model, _inputs(seed, shape)


def build_arith(kind, shape, activation, a_scale, a_zp, b_scale, b_zp, out_scale, out_zp, seed):
    """SUB or MUL of two same-shape tensors with a fused activation."""
    tensors = [_act("a", shape, a_scale, a_zp), _act("b", shape, b_scale, b_zp), _act("y", shape, out_scale, out_zp)]
    options = Options(f"{kind.capitalize()}Options", {"FusedActivationFunction": activation})
    model = single_op_model(getattr(Op, kind), tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    return model, _inputs(seed, shape, shape)


def build_minmax(kind, shape, scale, zp, seed):
    tensors = [_act("a", shape, scale, zp), _act("b", shape, scale, zp), _act("y", shape, scale, zp)]
    model = single_op_model(getattr(Op, kind), tensors, op_inputs=(0, 1), op_outputs=(2,))
    return model, _inputs(seed, shape, shape)


def build_unary(kind, shape, in_scale, in_zp, out_scale, out_zp, seed, alpha=None):
    """RELU, RELU6 or (with `alpha`) LEAKY_RELU."""
    tensors = [_act("x", shape, in_scale, in_zp), _act("y", shape, out_scale, out_zp)]
    options = Options("LeakyReluOptions", {"Alpha": alpha}) if alpha is not None else None
    model = single_op_model(getattr(Op, kind), tensors, op_inputs=(0,), op_outputs=(1,), options=options)
    return model, _inputs(seed, shape)


BUILDERS = {
    "CONV_2D": build_conv,
    "DEPTHWISE_CONV_2D": build_depthwise,
    "FULLY_CONNECTED": build_fc,
    "AVERAGE_POOL_2D": lambda **p: build_pool("AVERAGE_POOL_2D", **p),
    "MAX_POOL_2D": lambda **p: build_pool("MAX_POOL_2D", **p),
    "ADD": build_add,
    "RESHAPE": build_reshape,
    "SOFTMAX": build_softmax,
    "SUB": lambda **p: build_arith("SUB", **p),
    "MUL": lambda **p: build_arith("MUL", **p),
    "MAXIMUM": lambda **p: build_minmax("MAXIMUM", **p),
    "MINIMUM": lambda **p: build_minmax("MINIMUM", **p),
    "LEAKY_RELU": lambda **p: build_unary("LEAKY_RELU", **p),
    "RELU": lambda **p: build_unary("RELU", **p),
    "RELU6": lambda **p: build_unary("RELU6", **p),
}


# --- parameter strategies ------------------------------------------------------------------------------


def _f32(x: float) -> float:
    return float(np.float32(x))


def log2_uniform(lo: float, hi: float) -> st.SearchStrategy[float]:
    """2**u for u in [lo, hi], rounded to float32 (what the flatbuffer stores); u is an integer a
    third of the time, since power-of-two scales make exact rounding ties common."""
    exponents = st.one_of(st.integers(math.ceil(lo), math.floor(hi)), st.floats(lo, hi), st.floats(lo, hi))
    return exponents.map(lambda u: _f32(2.0**u))


zero_points = st.integers(-128, 127)
seeds = st.integers(0, 2**31 - 1)
pairs_1_3 = st.tuples(st.integers(1, 3), st.integers(1, 3))


def _window_ok(size: int, k: int, stride: int, dilation: int, padding: int) -> bool:
    return window(size, k, stride, dilation, padding == SAME)[0] >= 1


def _conv_quant(draw, k: int, oc: int) -> dict[str, Any]:
    """Scales that keep the requantization multiplier in_scale * w_scale / out_scale in a useful
    range (outputs spread over int8, sometimes saturating, sometimes > 1); per-channel or per-tensor."""
    exact = draw(st.booleans())  # powers of two only, a right shift of 1..10 and small weights: many exact ties
    w_max = draw(st.sampled_from([1, 3, 15, 127])) if exact else 127
    if exact:
        in_scale, w_base = 2.0 ** draw(st.integers(-10, 0)), 2.0 ** draw(st.integers(-10, -2))
        target = 2.0 ** -draw(st.integers(1, 10))
    else:
        in_scale, w_base = draw(log2_uniform(-10, 0)), draw(log2_uniform(-10, -2))
        target = 2.0 ** (draw(st.floats(-6, 10)) - 7 - 0.5 * math.log2(k))  # ~ 100 / (128 * 64 * sqrt(k))
    spread = draw(st.sampled_from([0, 0, 2]))  # 0: no per-channel spread
    per_channel = draw(st.booleans())
    factor = st.integers(-spread, spread) if exact else st.floats(-spread, spread)
    factors = draw(st.lists(factor, min_size=oc, max_size=oc)) if per_channel else [0.0]
    w_scales = [_f32(w_base * 2.0**f) for f in factors]
    return {
        "in_scale": in_scale, "in_zp": draw(zero_points),
        "out_scale": _f32(in_scale * w_base / target), "out_zp": draw(zero_points),
        "w_scales": w_scales, "w_max": w_max, "bias_bits": draw(st.integers(0, 20 if not exact else 8)),
        "with_bias": draw(st.booleans()),
        "activation": draw(st.sampled_from(ACTIVATIONS)), "seed": draw(seeds),
    }  # fmt: skip


@st.composite
def conv_cases(draw, depthwise: bool = False) -> Case:
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 16 if not depthwise else 8))
    h = draw(st.integers(1, 12))
    wd = draw(st.one_of(st.integers(1, 12), st.integers(16, 20)))  # >= 16: conv's pixel-major path
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    stride, dilation, padding = draw(pairs_1_3), draw(pairs_1_3), draw(st.sampled_from([SAME, VALID]))
    if not (_window_ok(h, kh, stride[0], dilation[0], padding) and _window_ok(wd, kw, stride[1], dilation[1], padding)):
        padding = SAME  # VALID with a window larger than the image has no output
    geometry = {"n": n, "h": h, "wd": wd, "c": c, "kh": kh, "kw": kw, "stride": stride, "dilation": dilation,
                "padding": padding}  # fmt: skip
    biased = {"with_bias": True}  # LiteRT's int8 CONV_2D and DEPTHWISE_CONV_2D require a bias
    if depthwise:
        m = draw(st.integers(1, 16 // c if c <= 8 else 1))
        return Case("DEPTHWISE_CONV_2D", {**geometry, "m": m, **_conv_quant(draw, kh * kw, c * m), **biased})
    oc = draw(st.integers(1, 16))
    return Case("CONV_2D", {**geometry, "oc": oc, **_conv_quant(draw, kh * kw * c, oc), **biased})


@st.composite
def fc_cases(draw) -> Case:
    n_in, n_out = draw(st.integers(1, 32)), draw(st.integers(1, 16))
    lead = draw(st.sampled_from([(1,), (2,), (4,), (2, 3), (1, 2, 2)]))
    return Case("FULLY_CONNECTED", {"in_shape": (*lead, n_in), "n_out": n_out, **_conv_quant(draw, n_in, n_out)})


@st.composite
def pool_cases(draw, kind: str) -> Case:
    n, h, wd, c = draw(st.integers(1, 2)), draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 16))
    fh, fw = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    stride, padding = draw(pairs_1_3), draw(st.sampled_from([SAME, VALID]))
    if not (_window_ok(h, fh, stride[0], 1, padding) and _window_ok(wd, fw, stride[1], 1, padding)):
        padding = SAME
    return Case(kind, {"n": n, "h": h, "wd": wd, "c": c, "fh": fh, "fw": fw, "stride": stride, "padding": padding,
                       "activation": draw(st.sampled_from(ACTIVATIONS)), "scale": draw(log2_uniform(-8, 0)),
                       "zp": draw(zero_points), "seed": draw(seeds)})  # fmt: skip


shapes = st.lists(st.integers(1, 8), min_size=1, max_size=4).map(tuple)


@st.composite
def add_cases(draw) -> Case:
    a_scale, b_scale = draw(log2_uniform(-10, 0)), draw(log2_uniform(-10, 0))
    out_scale = _f32(max(a_scale, b_scale) * 2.0 ** draw(st.floats(-3, 3)))
    return Case("ADD", {"shape": draw(shapes), "activation": draw(st.sampled_from(ACTIVATIONS)),
                        "a_scale": a_scale, "a_zp": draw(zero_points), "b_scale": b_scale, "b_zp": draw(zero_points),
                        "out_scale": out_scale, "out_zp": draw(zero_points), "seed": draw(seeds)})  # fmt: skip


@st.composite
def reshape_cases(draw) -> Case:
    in_shape = draw(shapes)
    dims = draw(st.permutations([*in_shape, *draw(st.lists(st.just(1), max_size=2))]))
    cuts = sorted(draw(st.sets(st.integers(1, max(len(dims) - 1, 1)), max_size=3)) - {len(dims)})
    bounds = [0, *cuts, len(dims)]
    out_shape = tuple(math.prod(dims[i:j]) for i, j in itertools.pairwise(bounds))
    return Case("RESHAPE", {"in_shape": in_shape, "out_shape": out_shape, "scale": draw(log2_uniform(-8, 0)),
                            "zp": draw(zero_points), "seed": draw(seeds)})  # fmt: skip


@st.composite
def softmax_cases(draw) -> Case:
    shape = draw(st.sampled_from([(1,), (2,), (1, 1), (2, 3)]).map(lambda lead: (*lead, draw(st.integers(1, 40)))))
    shape = shape if len(shape) != 2 or draw(st.booleans()) else (1, 1, *shape)  # 2-D and 4-D
    return Case("SOFTMAX", {"shape": shape, "beta": _f32(draw(st.floats(0.05, 4.0))),
                            "in_scale": draw(log2_uniform(-8, 0)), "in_zp": draw(zero_points),
                            "seed": draw(seeds)})  # fmt: skip


@st.composite
def arith_cases(draw, kind: str) -> Case:
    """SUB: output scale near the larger input scale; MUL: near the product of the input scales (x 2**9)."""
    a_scale, b_scale = draw(log2_uniform(-10, 0)), draw(log2_uniform(-10, 0))
    base, spread = (max(a_scale, b_scale), 3) if kind == "SUB" else (a_scale * b_scale * 2.0**9, 8)
    out_scale = _f32(base * 2.0 ** draw(st.one_of(st.integers(-spread, spread), st.floats(-spread, spread))))
    return Case(kind, {"shape": draw(shapes), "activation": draw(st.sampled_from(ACTIVATIONS)),
                       "a_scale": a_scale, "a_zp": draw(zero_points), "b_scale": b_scale, "b_zp": draw(zero_points),
                       "out_scale": out_scale, "out_zp": draw(zero_points), "seed": draw(seeds)})  # fmt: skip


@st.composite
def minmax_cases(draw, kind: str) -> Case:
    return Case(kind, {"shape": draw(shapes), "scale": draw(log2_uniform(-8, 0)), "zp": draw(zero_points),
                       "seed": draw(seeds)})  # fmt: skip


alphas = st.one_of(st.sampled_from([0.0, 0.01, 0.1, 0.2, 0.3, 0.5, 1.0, -0.25]), st.floats(-2.0, 2.0)).map(_f32)


@st.composite
def unary_cases(draw, kind: str) -> Case:
    """Output scale within 2**-3..2**3 of the input's (powers of two a third of the time: exact ties)."""
    in_scale = draw(log2_uniform(-8, 0))
    out_scale = _f32(in_scale * 2.0 ** draw(st.one_of(st.integers(-3, 3), st.floats(-3, 3))))
    params = {"shape": draw(shapes), "in_scale": in_scale, "in_zp": draw(zero_points), "out_scale": out_scale,
              "out_zp": draw(zero_points), "seed": draw(seeds)}  # fmt: skip
    return Case(kind, {**params, "alpha": draw(alphas)} if kind == "LEAKY_RELU" else params)


STRATEGIES = {
    "CONV_2D": conv_cases(),
    "DEPTHWISE_CONV_2D": conv_cases(depthwise=True),
    "FULLY_CONNECTED": fc_cases(),
    "AVERAGE_POOL_2D": pool_cases("AVERAGE_POOL_2D"),
    "MAX_POOL_2D": pool_cases("MAX_POOL_2D"),
    "ADD": add_cases(),
    "RESHAPE": reshape_cases(),
    "SOFTMAX": softmax_cases(),
    "SUB": arith_cases("SUB"),
    "MUL": arith_cases("MUL"),
    "MAXIMUM": minmax_cases("MAXIMUM"),
    "MINIMUM": minmax_cases("MINIMUM"),
    "LEAKY_RELU": unary_cases("LEAKY_RELU"),
    "RELU": unary_cases("RELU"),
    "RELU6": unary_cases("RELU6"),
}


# --- the differential check --------------------------------------------------------------------------


def run_litert(model: bytes, inputs: list[np.ndarray]) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    interpreter.allocate_tensors()
    for detail, x in zip(interpreter.get_input_details(), inputs):
        interpreter.set_tensor(detail["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def check_case(case: Case) -> None:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    got = run_graph(parse_tflite(model, file=f"{case.op}.tflite"), inputs, count_events=False).outputs[0]
    if got.shape != expected.shape or not np.array_equal(got, expected):
        diff = np.abs(got.astype(np.int32) - expected.astype(np.int32)) if got.shape == expected.shape else None
        detail = f"{int((diff > 0).sum())} of {diff.size} differ, max by {int(diff.max())}" if diff is not None else ""
        pytest.fail(f"tinysim != LiteRT ({detail or f'shape {got.shape} vs {expected.shape}'}); rebuild with {case!r}")


# Cases that once failed, kept whatever the generator draws today.
REGRESSIONS = [
    pytest.param(  # LiteRT's x86 depthwise output stage (optimized_ops::Quantize) requantizes whole blocks
        # of 8 output channels with NEON vqrdmulh + vrshl (negative ties toward +inf, like ruy) and only
        # the oc % 8 tail with MultiplyByQuantizedMultiplier
        Case("DEPTHWISE_CONV_2D", {
            "n": 1, "h": 1, "wd": 3, "c": 7, "kh": 1, "kw": 1, "stride": (1, 1), "dilation": (1, 1),
            "padding": VALID, "m": 2, "in_scale": 1.0, "in_zp": 0, "out_scale": 32.0, "out_zp": 0,
            "w_scales": [0.25], "w_max": 127, "bias_bits": 0, "with_bias": True, "activation": 0, "seed": 0,
        }),
        id="depthwise-8-channel-blocks",
    ),
    pytest.param(  # LiteRT's per-tensor FULLY_CONNECTED multiplies input and weight scales in float32
        Case("FULLY_CONNECTED", {
            "in_shape": (1, 1), "n_out": 6, "in_scale": 0.3535533845424652, "in_zp": 52,
            "out_scale": 7.999999523162842, "out_zp": 0, "w_scales": [0.1767766922712326], "w_max": 127,
            "bias_bits": 0, "with_bias": False, "activation": 0, "seed": 0,
        }),
        id="fc-per-tensor-float32-scale-product",
    ),
    pytest.param(  # a negative alpha multiplier rounds as -MultiplyByQuantizedMultiplier(x, -m): -125 * -0.25 -> 31
        Case("LEAKY_RELU", {"shape": (1,), "in_scale": 1.0, "in_zp": 0, "out_scale": 1.0, "out_zp": 0, "seed": 0,
                            "alpha": -0.25}),
        id="leaky-relu-negative-alpha-ties",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", REGRESSIONS)
def test_regression(case):
    check_case(case)


@pytest.mark.parametrize("op", sorted(STRATEGIES))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_op_matches_litert(op, data):
    check_case(data.draw(STRATEGIES[op], label="case"))
