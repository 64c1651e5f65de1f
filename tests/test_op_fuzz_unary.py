"""Differential fuzz of the unary ops (QUANTIZE, DEQUANTIZE, CAST, LOGISTIC, TANH, LEAKY_RELU int16/uint8,
RELU/RELU6/RELU_N1_TO_1 uint8, RELU_N1_TO_1 int8, float SQRT/RSQRT/EXP): LiteRT against tinysim, bit for bit.

Each test draws `Case`s of one op kind and scheme; `Case.build()` gives the .tflite bytes and inputs, and a
failure prints the Case, which rebuilds the model. Float outputs are compared bit for bit (NaN payloads too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive import (
    naive_cast,
    naive_dequantize,
    naive_hard_swish,
    naive_interpolated_sigmoid16,
    naive_lut,
    naive_quantize,
    naive_requantize,
    naive_sigmoid16_op,
)
from test_op_fuzz import log2_uniform, run_litert
from tflite_builder import FLOAT32, INT8, INT16, INT32, INT64, UINT8, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.engine.ops.logistic_tanh import SIGMOID_Q16, lookup_table
from tinysim.errors import UnsupportedOpError
from tinysim.ops import OpKind
from tinysim.workload.tflite_import import parse_tflite

EXAMPLES = 200
TYPES = {"int8": INT8, "uint8": UINT8, "int16": INT16, "int32": INT32, "int64": INT64, "float32": FLOAT32}


@dataclass(frozen=True)
class Case:
    """One single-op model: op name, input/output dtype names, shape, (scale, zp) or None each, data seed."""

    op: str
    src: str
    dst: str
    shape: tuple[int, ...]
    qin: tuple[float, int] | None
    qout: tuple[float, int] | None
    seed: int
    alpha: float | None = None
    spread: float = 1.0  # float inputs: magnitude

    def build(self) -> tuple[bytes, list[np.ndarray]]:
        def spec(name, dtype, q):
            return TensorSpec(name, self.shape, TYPES[dtype], (q[0],) if q else (), (q[1],) if q else ())

        options = Options("LeakyReluOptions", {"Alpha": self.alpha}) if self.op == "LEAKY_RELU" else None
        model = single_op_model(getattr(tflite.BuiltinOperator, self.op), [spec("x", self.src, self.qin),
                                spec("y", self.dst, self.qout)], op_inputs=(0,), op_outputs=(1,), options=options)  # fmt: skip
        return model, [self.inputs()]

    def inputs(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        dtype = np.dtype(self.src)
        if dtype.kind != "f":
            info = np.iinfo(dtype)
            return rng.integers(info.min, int(info.max) + 1, size=self.shape, dtype=dtype)
        if self.op == "QUANTIZE":  # near the grid of the output scale: many exact ties, some saturation
            grid = rng.integers(-2 * 40000, 2 * 40000, size=self.shape) * 0.5 * rng.choice([1e-3, 0.01, 0.1, 1])
            x = (grid * self.qout[0]).astype(np.float32)
            return np.where(rng.random(self.shape) < 0.3, np.nextafter(x, np.float32(rng.normal())), x)
        x = (rng.normal(size=self.shape) * self.spread).astype(np.float32)
        special = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 2.5, 127.5], np.float32)
        return np.where(rng.random(self.shape) < 0.1, rng.choice(special, size=self.shape), x).astype(np.float32)


def check(case: Case) -> None:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    got = run_graph(parse_tflite(model, file=f"{case.op}.tflite"), inputs, count_events=False).outputs[0]
    same = got.dtype == expected.dtype and got.shape == expected.shape
    if not same or not np.array_equal(got.view(np.uint8), expected.view(np.uint8)):
        pytest.fail(f"tinysim != LiteRT: {got.ravel()[:8]} vs {expected.ravel()[:8]}; rebuild with {case!r}")


# --- strategies -----------------------------------------------------------------------------------------------

shapes = st.lists(st.integers(1, 9), min_size=1, max_size=4).map(tuple)
seeds = st.integers(0, 2**31 - 1)


def _zp(dtype: str) -> st.SearchStrategy[int]:
    return {"int8": st.integers(-128, 127), "uint8": st.integers(0, 255)}.get(dtype, st.just(0))


@st.composite
def quantize_cases(draw, pairs) -> Case:
    src, dst = draw(st.sampled_from(pairs))
    s_in = draw(log2_uniform(-12 if src != "int32" else -20, 0)) if src != "float32" else None
    s_out = draw(log2_uniform(-12, 2))
    if src in ("int8", "int16", "uint8"):  # ratio within 2**-8..2**8 (int16 -> int32: below 2**14, where the
        up = 14 if dst == "int32" else 8  # shifted int16 would leave int32: the engine refuses it, as documented)
        exponent = st.integers(-8, up - 1) if dst == "int32" else st.integers(-8, up)
        s_out = float(np.float32(s_in * 2.0 ** -draw(st.one_of(exponent, st.floats(-8, up, exclude_max=True)))))
    if src == "int32":  # a ratio < 1 (a left shift of int32 is refused)
        s_out = float(np.float32(s_in * 2.0 ** draw(st.floats(0.5, 20))))
    qin = (s_in, draw(_zp(src))) if s_in else None
    return Case("QUANTIZE", src, dst, draw(shapes), qin, (s_out, draw(_zp(dst))), draw(seeds))


@st.composite
def dequantize_cases(draw, src: str) -> Case:
    q = (draw(log2_uniform(-12, 4)), draw(_zp(src)))
    return Case("DEQUANTIZE", src, "float32", draw(shapes), q, None, draw(seeds))


CAST_TYPES = ("float32", "int8", "int16", "int32", "int64")


@st.composite
def cast_cases(draw, with_uint8: bool) -> Case:
    types = ("uint8", *CAST_TYPES) if with_uint8 else CAST_TYPES
    src, dst = draw(st.sampled_from(types)), draw(st.sampled_from(types))
    if with_uint8 and "uint8" not in (src, dst):
        src = "uint8"
    spread = draw(st.sampled_from([1.0, 100.0, 1e5, 1e10]))
    return Case("CAST", src, dst, draw(shapes), None, None, draw(seeds), spread=spread)


@st.composite
def lut_cases(draw, op: str, dtype: str) -> Case:
    out = {"LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}[op]
    out = (out[0], out[1] + 128) if dtype == "uint8" else out
    qin = (draw(log2_uniform(-10, 1)), draw(_zp(dtype)))
    return Case(op, dtype, dtype, draw(shapes), qin, out, draw(seeds))


@st.composite
def lut16_cases(draw, op: str) -> Case:
    """int16: an input scale that is not a power of two (pot16_cases draws those)."""
    s_in = float(np.float32(2.0 ** draw(st.floats(-15, -4).filter(lambda u: abs(u - round(u)) > 0.01))))
    return Case(op, "int16", "int16", draw(shapes), (s_in, 0), (2.0**-15, 0), draw(seeds))


@st.composite
def pot16_cases(draw, op: str) -> Case:
    """int16, a power-of-two input scale (CheckedLog2 accepts 1e-3 of an octave off): 2**-12 (and 2**-11 for TANH)
    runs gemmlowp's fixed point, the others the interpolated table."""
    u = draw(st.integers(-16, -6)) + draw(st.sampled_from([0.0, 0.0, 0.0, 4e-4, -4e-4]))
    return Case(op, "int16", "int16", draw(shapes), (float(np.float32(2.0**u)), 0), (2.0**-15, 0), draw(seeds))


@st.composite
def relu_cases(draw, op: str, dtype: str) -> Case:
    s_in = draw(log2_uniform(-10 if dtype != "int16" else -14, 0))
    s_out = float(np.float32(s_in * 2.0 ** draw(st.one_of(st.integers(-3, 3), st.floats(-3, 3)))))
    alpha = float(np.float32(draw(st.one_of(st.sampled_from([0.0, 0.1, 0.3, 1.0, -0.25]), st.floats(-2, 2)))))
    return Case(op, dtype, dtype, draw(shapes), (s_in, draw(_zp(dtype))), (s_out, draw(_zp(dtype))), draw(seeds),
                alpha=alpha if op == "LEAKY_RELU" else None)  # fmt: skip


@st.composite
def float_cases(draw, op: str) -> Case:
    spread = draw(st.sampled_from([0.1, 1.0, 10.0, 100.0]))
    return Case(op, "float32", "float32", draw(shapes), None, None, draw(seeds), spread=spread)


INT16_REQUANT = [("int16", "int16"), ("int16", "int8"), ("int8", "int16"), ("int16", "int32"), ("int32", "int16"),
                 ("int32", "int8")]  # fmt: skip
STRATEGIES = {
    "QUANTIZE-float32": quantize_cases([("float32", "int8"), ("float32", "uint8"), ("float32", "int16")]),
    "QUANTIZE-int8": quantize_cases([("int8", "int8")]),
    "QUANTIZE-uint8": quantize_cases([("uint8", "int8"), ("int8", "uint8"), ("uint8", "uint8")]),
    "QUANTIZE-int16x8": quantize_cases(INT16_REQUANT),
    "DEQUANTIZE-int8": dequantize_cases("int8"),
    "DEQUANTIZE-uint8": dequantize_cases("uint8"),
    "DEQUANTIZE-int16x8": dequantize_cases("int16"),
    "CAST-float32": cast_cases(with_uint8=False),
    "CAST-uint8": cast_cases(with_uint8=True),
    "LOGISTIC-int8": lut_cases("LOGISTIC", "int8"),
    "LOGISTIC-uint8": lut_cases("LOGISTIC", "uint8"),
    "TANH-int8": lut_cases("TANH", "int8"),
    "TANH-uint8": lut_cases("TANH", "uint8"),
    "LOGISTIC-int16x8": lut16_cases("LOGISTIC"),
    "TANH-int16x8": lut16_cases("TANH"),
    "LOGISTIC-int16x8-pot": pot16_cases("LOGISTIC"),
    "TANH-int16x8-pot": pot16_cases("TANH"),
    "LEAKY_RELU-int16x8": relu_cases("LEAKY_RELU", "int16"),
    "LEAKY_RELU-uint8": relu_cases("LEAKY_RELU", "uint8"),
    "RELU-uint8": relu_cases("RELU", "uint8"),
    "RELU6-uint8": relu_cases("RELU6", "uint8"),
    "RELU_N1_TO_1-int8": relu_cases("RELU_N1_TO_1", "int8"),
    "RELU_N1_TO_1-uint8": relu_cases("RELU_N1_TO_1", "uint8"),
    "HARD_SWISH-int8": relu_cases("HARD_SWISH", "int8"),
    "HARD_SWISH-uint8": relu_cases("HARD_SWISH", "uint8"),
    "SQRT-float32": float_cases("SQRT"),
    "RSQRT-float32": float_cases("RSQRT"),
    "EXP-float32": float_cases("EXP"),
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_unary_matches_litert(name, data):
    check(data.draw(STRATEGIES[name], label="case"))


# Cases that pin a measured LiteRT behaviour, kept whatever the generator draws.
REGRESSIONS = [
    pytest.param(Case("QUANTIZE", "float32", "int8", (11,), None, (0.5, -3), 0), id="avx-blocks-then-scalar-tail"),
    pytest.param(Case("DEQUANTIZE", "uint8", "float32", (9,), (0.3, 77), None, 0), id="dequantize-uint8-avx-block"),
    pytest.param(Case("CAST", "float32", "uint8", (17,), None, None, 1, spread=1e3), id="cast-float-saturates"),
]


@pytest.mark.parametrize("case", REGRESSIONS)
def test_regression(case):
    check(case)


# --- kernels against their NumPy twins (tests/naive.py) ---------------------------------------------------------


def _engine(case: Case) -> np.ndarray:
    model, inputs = case.build()
    return run_graph(parse_tflite(model), inputs, count_events=False).outputs[0]


@pytest.mark.parametrize("n", [1, 8, 13, 40])
def test_quantize_twins(n):
    quant = Case("QUANTIZE", "float32", "int8", (n,), None, (0.05, 3), n)
    np.testing.assert_array_equal(_engine(quant), naive_quantize(quant.inputs(), 0.05, 3, np.int8))
    deq = Case("DEQUANTIZE", "int8", "float32", (n,), (0.07, -5), None, n)
    np.testing.assert_array_equal(_engine(deq).view(np.int32), naive_dequantize(deq.inputs(), 0.07, -5).view(np.int32))
    req = Case("QUANTIZE", "int16", "int8", (n,), (0.001, 0), (0.03, 4), n)
    np.testing.assert_array_equal(_engine(req), naive_requantize(req.inputs(), 0.001, 0, 0.03, 4, np.int8))


@pytest.mark.parametrize(("src", "dst"), [("float32", "int8"), ("int32", "uint8"), ("uint8", "float32"),
                                          ("int64", "float32"), ("float32", "int64")])  # fmt: skip
def test_cast_twin(src, dst):
    case = Case("CAST", src, dst, (5, 7), None, None, 3, spread=300.0)
    np.testing.assert_array_equal(_engine(case), naive_cast(case.inputs(), np.dtype(dst)))


@pytest.mark.parametrize("kind", [OpKind.LOGISTIC, OpKind.TANH])
def test_lut_twin(kind):
    s_out, zp_out = (1 / 256, -128) if kind is OpKind.LOGISTIC else (1 / 128, 0)
    table = lookup_table(kind, 0.1, 3, s_out, zp_out)
    np.testing.assert_array_equal(table, naive_lut(kind.value, 0.1, 3, s_out, zp_out))


@pytest.mark.parametrize(("dtype", "s_in", "zp_in", "s_out", "zp_out"), [("int8", 0.05, -3, 0.04, -100),
                         ("uint8", 0.3, 140, 0.1, 20), ("int8", 0.002, 0, 0.01, 5)])  # fmt: skip
def test_hard_swish_twin(dtype, s_in, zp_in, s_out, zp_out):
    case = Case("HARD_SWISH", dtype, dtype, (300,), (s_in, zp_in), (s_out, zp_out), 5)
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    want = naive_hard_swish(case.inputs(), s_in, zp_in, s_out, zp_out, lo, hi)
    np.testing.assert_array_equal(_engine(case).astype(np.int64), want)


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
def test_int16_sigmoid_twin(op):
    case = Case(op, "int16", "int16", (500,), (0.00041, 0), (2.0**-15, 0), 2)
    want = naive_interpolated_sigmoid16(case.inputs(), 0.00041, op == "TANH", SIGMOID_Q16)
    np.testing.assert_array_equal(_engine(case), want)


@pytest.mark.parametrize("op", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("log2", [-15, -12, -11, -8])
def test_int16_pot_sigmoid_twin(op, log2):
    case = Case(op, "int16", "int16", (300,), (2.0**log2, 0), (2.0**-15, 0), 4)
    want = naive_sigmoid16_op(case.inputs(), 2.0**log2, op == "TANH", SIGMOID_Q16)
    np.testing.assert_array_equal(_engine(case), want)


@pytest.mark.parametrize(("op", "log2"), [("LOGISTIC", -12), ("TANH", -12), ("TANH", -11)])
def test_int16_gemmlowp_every_code(op, log2):
    """Every int16 code through LiteRT's gemmlowp path (input_left_shift 0, or 1 for TANH)."""
    codes = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)
    specs = [
        TensorSpec("x", codes.shape, INT16, (2.0**log2,), (0,)),
        TensorSpec("y", codes.shape, INT16, (2.0**-15,), (0,)),
    ]
    model = single_op_model(getattr(tflite.BuiltinOperator, op), specs, op_inputs=(0,), op_outputs=(1,))
    got = run_graph(parse_tflite(model), [codes], count_events=False).outputs[0]
    np.testing.assert_array_equal(got, run_litert(model, [codes]))


def test_refusals():
    bad = Case("LOGISTIC", "int8", "int8", (4,), (0.1, 0), (0.1, 0), 0)  # LiteRT's Prepare rejects it too
    with pytest.raises(UnsupportedOpError, match="output must have scale"):
        _engine(bad)
    bad16 = Case("TANH", "int16", "int16", (4,), (2.0**-12, 0), (2.0**-14, 0), 0)  # LiteRT needs 2**-15 too
    with pytest.raises(UnsupportedOpError, match="output scale 2"):
        _engine(bad16)
