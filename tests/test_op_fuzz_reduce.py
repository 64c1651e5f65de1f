"""Differential fuzz of the resize and reduction ops: random single-op models, LiteRT against tinysim, bit for bit.

RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR (AlignCorners, HalfPixelCenters), MEAN / SUM (axes, KeepDims)
and ARG_MAX / ARG_MIN (int32/int64 output) in int8, uint8, int16 and float32. A failure prints the
`Case`, which rebuilds the model: `Case("MEAN", {...}).build()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import tflite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_op_fuzz import run_litert
from tflite_builder import FLOAT32, INT8, INT16, INT32, INT64, UINT8, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.workload.tflite_import import parse_tflite

Op = tflite.BuiltinOperator
EXAMPLES = int(os.environ.get("TINYSIM_FUZZ_EXAMPLES", "200"))
DTYPES = {"int8": INT8, "uint8": UINT8, "int16": INT16, "float32": FLOAT32}


@dataclass(frozen=True)
class Case:
    op: str
    params: dict[str, Any]

    def build(self) -> tuple[bytes, list[np.ndarray]]:
        return BUILDERS[self.op](self.op, **self.params)


def _spec(name, shape, dtype, q):
    if dtype == "float32":
        return TensorSpec(name, tuple(shape), FLOAT32)
    return TensorSpec(name, tuple(shape), DTYPES[dtype], scale=(q[0],), zero_point=(q[1],))


def _data(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return (rng.standard_normal(shape) * 4).astype(np.float32)
    info = np.iinfo(np.dtype(dtype))
    return rng.integers(info.min, info.max + 1, size=shape).astype(dtype)


def build_resize(op, shape, size, align, half, dtype, q, seed):
    out = (shape[0], size[0], size[1], shape[3])
    tensors = [_spec("x", shape, dtype, q), TensorSpec("size", (2,), INT32, data=np.array(size, np.int32)),
               _spec("y", out, dtype, q)]  # fmt: skip
    table = "ResizeBilinearOptions" if op == "RESIZE_BILINEAR" else "ResizeNearestNeighborOptions"
    options = Options(table, {"AlignCorners": align, "HalfPixelCenters": half})
    model = single_op_model(getattr(Op, op), tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    return model, [_data(seed, shape, dtype)]


def build_reduce(op, shape, axes, keep, dtype, q_in, q_out, seed):
    out = [1 if d in [a % len(shape) for a in axes] else s for d, s in enumerate(shape)
           if keep or d not in [a % len(shape) for a in axes]]  # fmt: skip
    tensors = [_spec("x", shape, dtype, q_in), TensorSpec("axis", (len(axes),), INT32, data=np.array(axes, np.int32)),
               _spec("y", out, dtype, q_out)]  # fmt: skip
    options = Options("ReducerOptions", {"KeepDims": keep})
    model = single_op_model(getattr(Op, op), tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    return model, [_data(seed, shape, dtype)]


def build_arg(op, shape, axis, out64, dtype, seed):
    out = [s for d, s in enumerate(shape) if d != axis % len(shape)]
    tensors = [_spec("x", shape, dtype, (0.5, 3 if dtype in ("int8", "uint8") else 0)),
               TensorSpec("axis", (), INT32, data=np.array(axis, np.int32)), TensorSpec("y", out, INT64 if out64 else INT32)]  # fmt: skip
    table = "ArgMaxOptions" if op == "ARG_MAX" else "ArgMinOptions"
    options = Options(table, {"OutputType": INT64 if out64 else INT32})
    model = single_op_model(getattr(Op, op), tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    x = _data(seed, shape, dtype)
    if dtype != "float32":  # few distinct values so that ties happen
        x = (x // 64).astype(dtype)
    return model, [x]


BUILDERS = {"RESIZE_BILINEAR": build_resize, "RESIZE_NEAREST_NEIGHBOR": build_resize, "MEAN": build_reduce,
            "SUM": build_reduce, "ARG_MAX": build_arg, "ARG_MIN": build_arg}  # fmt: skip


def _quant(draw, dtype):
    s = draw(st.sampled_from([0.01, 0.05, 0.1, 0.3, 1.0, 2.5]))
    if dtype == "int16":
        return (s, 0)
    lo, hi = (0, 255) if dtype == "uint8" else (-128, 127)
    return (s, draw(st.integers(lo, hi)))


@st.composite
def resize_cases(draw, op, dtype):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 9)))
    mode = draw(st.sampled_from(["none", "align", "half"]))
    if draw(st.booleans()):
        size = (2 * shape[1], 2 * shape[2])
    else:
        size = (draw(st.integers(1, 13)), draw(st.integers(1, 13)))
    return Case(op, {"shape": shape, "size": size, "align": mode == "align", "half": mode == "half",
                     "dtype": dtype, "q": _quant(draw, dtype), "seed": draw(st.integers(0, 2**16))})  # fmt: skip


@st.composite
def reduce_cases(draw, op, dtype):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    if rank == 4 and draw(st.booleans()):
        axes, keep = draw(st.sampled_from([[1, 2], [2, 1], [-3, -2]])), draw(st.booleans())
        shape = (shape[0], shape[1], shape[2], draw(st.integers(1, 40)))
    else:
        axes = draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank))
        keep = draw(st.booleans())
    last = max((d for d, n in enumerate(shape) if n > 1), default=rank - 1)
    if op == "MEAN" and dtype == "float32" and any(a % rank >= last for a in axes):
        # the last axis (trailing size-1 dims aside) is refused (Eigen's summation order): add a kept one
        shape, axes = (*shape, 2), [a % rank for a in axes]
    q_in = _quant(draw, dtype)
    q_out = q_in if draw(st.booleans()) else _quant(draw, dtype)
    return Case(op, {"shape": shape, "axes": axes, "keep": keep, "dtype": dtype, "q_in": q_in, "q_out": q_out,
                     "seed": draw(st.integers(0, 2**16))})  # fmt: skip


@st.composite
def arg_cases(draw, op, dtype):
    rank = draw(st.integers(1, 4))
    shape = tuple(draw(st.integers(1, 6)) for _ in range(rank))
    return Case(op, {"shape": shape, "axis": draw(st.integers(-rank, rank - 1)), "out64": draw(st.booleans()),
                     "dtype": dtype, "seed": draw(st.integers(0, 2**16))})  # fmt: skip


def check_case(case: Case) -> None:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    got = run_graph(parse_tflite(model, file=f"{case.op}.tflite"), inputs, count_events=False).outputs[0]
    if got.shape != expected.shape or not np.array_equal(got, expected, equal_nan=got.dtype.kind == "f"):
        pytest.fail(f"tinysim != LiteRT ({got.ravel()[:8]} vs {expected.ravel()[:8]}); rebuild with {case!r}")


STRATEGIES = {
    **{(op, d): resize_cases(op, d) for op in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR") for d in DTYPES},
    **{
        (op, d): reduce_cases(op, d)
        for op in ("MEAN", "SUM")
        for d in DTYPES
        if d != "int16" and (op, d) != ("SUM", "uint8")
    },  # refused
    **{(op, d): arg_cases(op, d) for op in ("ARG_MAX", "ARG_MIN") for d in DTYPES if d != "int16"},  # LiteRT: no int16
}


@pytest.mark.parametrize("key", list(STRATEGIES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_fuzz(key):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(STRATEGIES[key])
    def run(case):
        check_case(case)

    run()


@pytest.mark.parametrize("seed", range(4))
def test_kernels_match_naive_twins(seed):
    from naive import arg_minmax_naive, resize_bilinear_int_naive

    from tinysim.engine.ops.arg_minmax import arg_minmax
    from tinysim.engine.ops.resize import _int_positions, bilinear_int

    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=(1, 3 + seed, 4, 3)).astype(np.int8)
    rows, cols = _int_positions(7, x.shape[1], seed % 2 == 0, seed % 2 == 1), _int_positions(5, 4, False, True)
    y = np.zeros((1, 7, 5, 3), np.int8)
    bilinear_int(x, y, rows.astype(np.int32), cols.astype(np.int32))
    np.testing.assert_array_equal(y, resize_bilinear_int_naive(x, rows, cols))
    a = (rng.integers(-3, 3, size=(2, 5, 3))).astype(np.int8)
    for is_max in (True, False):
        out = np.zeros((2, 3), np.int64)
        arg_minmax(a, out, is_max)
        np.testing.assert_array_equal(out, arg_minmax_naive(a, 1, is_max))
