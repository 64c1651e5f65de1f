"""Differential fuzz of the elementwise binary ops against LiteRT, bit for bit, with broadcasting.

ADD, SUB, MUL, MAXIMUM, MINIMUM in int8, legacy uint8, int16 (ADD / SUB with PotScaleInt16 on and off,
power-of-two scales or not), float32 and int32; SQUARED_DIFFERENCE int8; PRELU int8 and uint8 (alpha a
constant that broadcasts); DIV and FLOOR_DIV float32 and int32. Hypothesis draws the output shape
(up to 5-D), each input's shape broadcasting to it (dims dropped from the left or set to 1), whether
the second input is a constant, the quantization and a data seed into a `BinaryCase`; a failure
prints it, and `BinaryCase(...).build()` rebuilds the model and inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import naive
import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_op_fuzz import log2_uniform, run_litert
from tflite_builder import FLOAT32, INT8, INT16, INT32, UINT8, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.workload.tflite_import import parse_tflite

Op = tflite.BuiltinOperator
EXAMPLES = int(__import__("os").environ.get("BIN_EXAMPLES", 200))
TYPES = {"int8": INT8, "uint8": UINT8, "int16": INT16, "float32": FLOAT32, "int32": INT32}
OPTIONS = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions", "DIV": "DivOptions"}
RANGE = {"int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "int32": (-1000, 1000)}


@dataclass(frozen=True)
class BinaryCase:
    """One generated model: op, dtype, shapes, quantization ((scale, zp) per a, b, y), options, seed."""

    op: str
    dtype: str
    a_shape: tuple[int, ...]
    b_shape: tuple[int, ...]
    quant: tuple[tuple[float, int], ...] = ()
    activation: int = 0
    b_const: bool = False
    pot: bool = True
    seed: int = 0

    def build(self) -> tuple[bytes, list[np.ndarray]]:
        rng = np.random.default_rng(self.seed)
        a, b = (self._data(rng, s) for s in (self.a_shape, self.b_shape))
        if self.op in ("DIV", "FLOOR_DIV"):
            b = np.where(b == 0, 1, b).astype(b.dtype)
        y_shape = tuple(np.broadcast_shapes(self.a_shape, self.b_shape))
        t, q = TYPES[self.dtype], self.quant or ((), (), ())
        specs = [TensorSpec(n, s, t, *((qq[0],), (qq[1],)) if qq else ()) for n, s, qq in
                 zip("aby", (self.a_shape, self.b_shape, y_shape), q)]  # fmt: skip
        if self.b_const:
            specs[1] = TensorSpec("b", self.b_shape, t, specs[1].scale, specs[1].zero_point, data=b)
        fields = {"FusedActivationFunction": self.activation} if self.op in OPTIONS else {}
        if self.op in ("ADD", "SUB"):
            fields["PotScaleInt16"] = self.pot
        options = Options(OPTIONS[self.op], fields) if fields else None
        model = single_op_model(getattr(Op, self.op), specs, op_inputs=(0, 1), op_outputs=(2,), options=options)
        return model, [a] if self.b_const else [a, b]

    def _data(self, rng, shape) -> np.ndarray:
        if self.dtype == "float32":
            return (rng.standard_normal(shape) * 4).astype(np.float32)
        lo, hi = RANGE[self.dtype]
        return rng.integers(lo, hi + 1, size=shape).astype(self.dtype)


def check(case: BinaryCase) -> None:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    got = run_graph(parse_tflite(model, file=f"{case.op}.tflite"), inputs, count_events=False).outputs[0]
    if got.shape != expected.shape or not np.array_equal(got, expected, equal_nan=True):
        pytest.fail(f"tinysim != LiteRT; rebuild with {case!r}")


# --- strategies ------------------------------------------------------------------------------------------


@st.composite
def broadcast_shapes(draw) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Same shape half the time, else each input drops leading dims and sets some dims to 1."""
    out = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=5)))
    if draw(st.booleans()):
        return out, out

    def one() -> tuple[int, ...]:
        rank = draw(st.integers(0 if len(out) > 1 else 1, len(out)))
        return tuple(1 if draw(st.integers(0, 2)) == 0 else d for d in out[len(out) - rank :])

    return one(), one()


seeds = st.integers(0, 2**31 - 1)


def _zp(draw, dtype: str) -> int:
    return 0 if dtype == "int16" else draw(st.integers(*RANGE[dtype]))


@st.composite
def cases(draw, op: str, dtype: str) -> BinaryCase:
    a_shape, b_shape = draw(broadcast_shapes())
    if op == "PRELU":
        a_shape = tuple(np.broadcast_shapes(a_shape, b_shape))[-4:]
        b_shape = b_shape[-len(a_shape) :] if len(b_shape) > len(a_shape) else b_shape
        b_shape = tuple(np.broadcast_shapes(b_shape, (1,) * len(b_shape)))
    activation = draw(st.sampled_from((0, 1, 2, 3))) if op in OPTIONS else 0
    common = {"op": op, "dtype": dtype, "a_shape": a_shape, "b_shape": b_shape, "activation": activation,
              "b_const": draw(st.booleans()) if op != "PRELU" else draw(st.sampled_from([True, True, False])),
              "seed": draw(seeds)}  # fmt: skip
    if dtype in ("float32", "int32"):
        return BinaryCase(**common)
    pot = draw(st.booleans())
    if dtype == "int16" and op in ("ADD", "SUB") and draw(st.booleans()):  # power-of-two scales
        e, k = draw(st.integers(-14, -4)), draw(st.integers(0, 6))
        fine, same = 2.0 ** (e - k), 2.0**e
        sa, sb = (same, fine) if draw(st.booleans()) else (fine, same)
        if op == "ADD" and pot:  # LiteRT aborts on its power-of-two int16 ADD with broadcasting
            common["b_shape"] = common["a_shape"] = tuple(np.broadcast_shapes(a_shape, b_shape))
        return BinaryCase(**common, quant=((sa, 0), (sb, 0), (same, 0)), pot=pot)
    lo_exp = -14 if dtype == "int16" else -10
    sa, sb = draw(log2_uniform(lo_exp, 0)), draw(log2_uniform(lo_exp, 0))
    if op in ("MAXIMUM", "MINIMUM"):
        z = _zp(draw, dtype)
        return BinaryCase(**common, quant=((sa, z), (sa, z), (sa, z)))
    if op == "MUL":
        base = sa * sb * (2.0**15 if dtype == "int16" else 2.0**9)
        so = base * 2.0 ** draw(st.floats(-8 if dtype != "int16" else 0, 8))
    elif op == "SQUARED_DIFFERENCE":
        so = max(sa, sb) ** 2 * 2.0 ** draw(st.floats(-4, 9))
    elif op == "PRELU":
        so = sa * 2.0 ** draw(st.floats(-3, 3))
    else:
        so = max(sa, sb) * 2.0 ** draw(st.floats(-3, 3))
    so = float(np.float32(so))
    q = ((sa, _zp(draw, dtype)), (sb, _zp(draw, dtype)), (so, _zp(draw, dtype)))
    if all(math.log2(s).is_integer() for s in (sa, sb, so)):
        pot = False  # the power-of-two path is drawn above (LiteRT refuses some of these scales on it)
    return BinaryCase(**common, quant=q, pot=pot)


KINDS = [(op, dt) for op in ("ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM") for dt in ("int8", "uint8", "int16")]
KINDS += [(op, "float32") for op in ("ADD", "SUB", "MUL", "DIV", "FLOOR_DIV", "MAXIMUM", "MINIMUM")]
KINDS += [(op, "int32") for op in ("ADD", "SUB", "MUL", "DIV", "FLOOR_DIV", "MAXIMUM", "MINIMUM")]
KINDS += [("SQUARED_DIFFERENCE", "int8"), ("PRELU", "int8"), ("PRELU", "uint8")]


@pytest.mark.parametrize(("op", "dtype"), KINDS, ids=[f"{o}-{d}" for o, d in KINDS])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_binary_matches_litert(op, dtype, data):
    check(data.draw(cases(op, dtype), label="case"))


# --- kernels against their NumPy twins (tests/naive.py) ----------------------------------------------------


@pytest.mark.parametrize(("a_shape", "b_shape"), [((2, 3, 4), (4,)), ((1, 2, 12, 64), (64,)), ((3, 1, 5), (1, 4, 1)),
                                                  ((2, 1, 1, 3, 1, 2), (1, 5, 1, 1, 2, 1))])  # fmt: skip
def test_expand_matches_numpy_broadcast(a_shape, b_shape):
    from tinysim.engine.ops.broadcast import RANK, _merge, _strides, expand

    out = tuple(np.broadcast_shapes(a_shape, b_shape))
    dims = [1] * (RANK - len(out)) + list(out)
    rng = np.random.default_rng(0)
    a, b = rng.integers(-100, 100, a_shape).astype(np.int16), rng.integers(-100, 100, b_shape).astype(np.int16)
    strides = [_strides(None, None, np.empty(s), dims) for s in (a_shape, b_shape)]
    merged, strides = _merge(dims, strides)
    for x, s in zip((a, b), strides):
        dst = np.empty(math.prod(out) * 2, np.int8)
        expand(x.view(np.int8).ravel(), 0, np.array(merged), np.array(s), 2, dst)
        assert np.array_equal(dst.view(np.int16).reshape(out), naive.binary_broadcast_naive(x, np.empty(out))[0])


def test_int16_add_sub_kernels_match_naive():
    from tinysim.engine.fixedpoint import quantize_multiplier
    from tinysim.engine.ops.add import add, add_pot

    rng = np.random.default_rng(1)
    a, b = rng.integers(-32768, 32768, 500).astype(np.int16), rng.integers(-32768, 32768, 500).astype(np.int16)
    for s1, s2, so, negate in [(1e-3, 7e-4, 1.3e-3, False), (2e-4, 9e-4, 5e-4, True)]:
        twice = 2 * max(s1, s2)
        (m1, e1), (m2, e2) = quantize_multiplier(s1 / twice), quantize_multiplier(s2 / twice)
        mo, eo = quantize_multiplier(twice / (2**15 * so))
        out = np.empty(500, np.int16)
        add(a, b, out, 0, m1, e1, 0, -m2 if negate else m2, e2, 0, mo, eo, -32768, 32767, 0, 15)
        assert np.array_equal(out, naive.add_sub_int16_naive(a, b, s1, s2, so, (-32768, 32767), negate))
    out = np.empty(500, np.int16)
    add_pot(a, b, out, 0, 3, -1, -32768, 32767)
    assert np.array_equal(out, naive.add_sub_int16_pot_naive(a, b, 0, -3, (-32768, 32767), negate=True))


def test_squared_difference_and_prelu_kernels_match_naive():
    from tinysim.engine.fixedpoint import quantize_multiplier
    from tinysim.engine.ops.prelu import prelu
    from tinysim.engine.ops.squared_difference import squared_difference

    rng = np.random.default_rng(2)
    a, b = rng.integers(-128, 128, 400).astype(np.int8), rng.integers(-128, 128, 400).astype(np.int8)
    s1, s2, so = 0.02, 0.013, 0.05
    twice = 2 * max(s1, s2)
    (m1, e1), (m2, e2) = quantize_multiplier(s1 / twice), quantize_multiplier(s2 / twice)
    mo, eo = quantize_multiplier(twice * twice / (2**14 * so))
    out = np.empty(400, np.int8)
    squared_difference(a, b, out, 3, m1, e1, -7, m2, e2, -100, mo, eo)
    assert np.array_equal(out, naive.squared_difference_naive(a, b, s1, 3, s2, -7, so, -100))
    (m1, e1), (m2, e2) = quantize_multiplier(s1 / so), quantize_multiplier(s1 * s2 / so)
    prelu(a, b, out, 5, -9, 11, m1, e1, m2, e2)
    assert np.array_equal(out, naive.prelu_naive(a, b, s1, 5, s2, -9, so, 11))


@pytest.mark.parametrize("kind", range(7))
def test_float_int32_kernels_match_naive(kind):
    from tinysim.engine.ops.float_binary import KINDS, float_binary, int_binary

    rng = np.random.default_rng(3)
    fa, fb = rng.standard_normal(300).astype(np.float32), rng.standard_normal(300).astype(np.float32)
    ia, ib = rng.integers(-999, 1000, 300).astype(np.int32), rng.integers(1, 50, 300).astype(np.int32)
    ib *= np.where(rng.random(300) < 0.5, -1, 1).astype(np.int32)
    op = KINDS[kind].value
    out = np.empty(300, np.float32)
    float_binary(fa, fb, out, kind, np.float32(-1.0), np.float32(1.0))
    assert np.array_equal(out, naive.float_binary_naive(op, fa, fb, -1.0, 1.0))
    out32 = np.empty(300, np.int32)
    int_binary(ia, ib, out32, kind, -(2**31), 2**31 - 1)
    assert np.array_equal(out32, naive.float_binary_naive(op, ia, ib))
