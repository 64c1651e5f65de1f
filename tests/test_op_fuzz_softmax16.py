"""Differential fuzz of int16x8 SOFTMAX: random single-op int16 models, LiteRT against tinysim, bit for bit.

LiteRT (builtin kernels, no delegates) runs reference_ops::SoftmaxInt16 for int16 input and output
(zero points 0, output scale 1/32768, rank 1..4); tinysim reproduces its two interpolated tables and
integer arithmetic (tinysim/engine/ops/softmax_int16.py). A failure prints the `Case`, which rebuilds
the model: `Case({...}).build()`. A NumPy twin (tests/naive.py `softmax_int16`) checks the kernel too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import tflite
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import softmax_int16 as naive_softmax_int16
from test_op_fuzz import run_litert
from tflite_builder import INT16, Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.errors import UnsupportedOpError
from tinysim.workload.tflite_import import parse_tflite

EXAMPLES = 200


@dataclass(frozen=True)
class Case:
    """One generated SOFTMAX model: shape, beta, input scale, data seed (and data spread in bits)."""

    params: dict[str, Any]

    def build(self, out_scale: float = 1.0 / 32768, in_zp: int = 0) -> tuple[bytes, list[np.ndarray]]:
        p = self.params
        shape = tuple(p["shape"])
        tensors = [
            TensorSpec("x", shape, INT16, scale=(p["in_scale"],), zero_point=(in_zp,)),
            TensorSpec("y", shape, INT16, scale=(out_scale,), zero_point=(0,)),
        ]
        options = Options("SoftmaxOptions", {"Beta": p["beta"]})
        model = single_op_model(
            tflite.BuiltinOperator.SOFTMAX, tensors, op_inputs=(0,), op_outputs=(1,), options=options
        )
        rng = np.random.default_rng(p["seed"])
        spread = 1 << p["bits"]  # small spreads give many near-max values, large ones the exp table's tail
        x = rng.integers(-spread, spread, size=shape).clip(-32768, 32767).astype(np.int16)
        return model, [x]


def _f32(v: float) -> float:
    return float(np.float32(v))


@st.composite
def cases(draw) -> Case:
    lead = draw(st.lists(st.integers(1, 3), max_size=3))
    shape = (*lead, draw(st.integers(1, 300)))
    beta = draw(st.one_of(st.sampled_from([1.0, 0.5, 2.0]), st.floats(0.05, 4.0).map(_f32)))
    in_scale = _f32(10.0 ** draw(st.floats(-4.0, -1.0)))
    return Case({"shape": shape, "beta": beta, "in_scale": in_scale, "seed": draw(st.integers(0, 2**16)),
                 "bits": draw(st.integers(0, 15))})  # fmt: skip


def check(case: Case) -> np.ndarray:
    model, inputs = case.build()
    expected = run_litert(model, inputs)
    got = run_graph(parse_tflite(model, file="SOFTMAX.tflite"), inputs, count_events=False).outputs[0]
    if got.shape != expected.shape or not np.array_equal(got, expected):
        diff = np.abs(got.astype(np.int32) - expected.astype(np.int32)) if got.shape == expected.shape else None
        detail = f"{int((diff > 0).sum())} of {diff.size} differ, max by {int(diff.max())}" if diff is not None else ""
        pytest.fail(f"tinysim != LiteRT ({detail or f'shape {got.shape} vs {expected.shape}'}); rebuild with {case!r}")
    return got


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(case=cases())
def test_softmax_int16_matches_litert(case: Case) -> None:
    check(case)


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0, 0.3])
@pytest.mark.parametrize("in_scale", [1e-4, 3e-3, 0.1])
def test_softmax_int16_naive_twin(beta: float, in_scale: float) -> None:
    case = Case({"shape": (2, 37), "beta": beta, "in_scale": _f32(in_scale), "seed": 7, "bits": 12})
    got = check(case)
    _, (x,) = case.build()
    assert np.array_equal(got, naive_softmax_int16(x, case.params["in_scale"], beta))


@pytest.mark.parametrize(
    "what", [{"out_scale": 1.0 / 65536}, {"in_zp": 3}, {"shape": (1, 1, 1, 1, 4)}, {"in_scale": 10.0}]
)
def test_softmax_int16_refusals(what: dict) -> None:
    """What LiteRT refuses (zero points, rank 5) or tinysim did not verify is refused in prepare."""
    params = {"shape": (1, 4), "beta": 1.0, "in_scale": 1e-3, "seed": 0, "bits": 8}
    params |= {k: v for k, v in what.items() if k in params}
    model, _ = Case(params).build(what.get("out_scale", 1.0 / 32768), what.get("in_zp", 0))
    with pytest.raises(UnsupportedOpError):
        run_graph(parse_tflite(model, file="SOFTMAX.tflite"), [np.zeros(params["shape"], np.int16)])


def test_tables_end_points() -> None:
    from tinysim.engine.ops import softmax_int16

    exp_lut, recip_lut = softmax_int16.tables()
    assert exp_lut[512] == 32767 and recip_lut[0] == 32767 and recip_lut[512] == 16384
    assert abs(int(exp_lut[0]) - round(math.exp(-10) * 32768)) <= 1
