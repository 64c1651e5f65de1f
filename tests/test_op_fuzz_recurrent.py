"""Recurrent ops (UNIDIRECTIONAL_SEQUENCE_LSTM int8 8x8_16, SVDF int8) against LiteRT and TFLite Micro, bit for bit.

Hypothesis draws sizes, scales, zero points, CIFG, peephole weights, cell clip, time-major layout, rank
and data seeds into the plain parameters of tests/recurrent_builder.py. Every case runs several
invocations on one LiteRT interpreter (its variable tensors carry the state) and as many
`run_graph` calls with `state=` the previous RunResult.state: outputs and states must be equal
at every invocation. A failure prints the builder call that rebuilds the model.

LiteRT refuses SVDF int8 unless its fused activation is RELU (which its integer kernel then does
not apply); TFLite Micro takes any activation and computes the same, so the SVDF fuzz also runs
TFLite Micro. TFLite Micro's integer LSTM is its own implementation (interpolated int16 sigmoid/tanh,
MulElementwise products, no CIFG or peephole): it is fuzzed under semantics="tflm" against TFLite Micro.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive import naive_logistic16, naive_lstm_int8, naive_svdf_int8, naive_tanh16
from recurrent_builder import build_lstm, build_svdf

from tinysim.engine import random_input, run_graph
from tinysim.engine.interpreter import prepared
from tinysim.engine.jit import kernel
from tinysim.engine.ops.lstm_math import logistic16, tanh16
from tinysim.errors import UnsupportedOpError
from tinysim.workload.tflite_import import load_tflite, parse_tflite

EXAMPLES = int(__import__("os").environ.get("REC_EX", 200))
INVOCATIONS = 3
LSTM_MODEL = "corpus/coral/keras_lstm_mnist_ptq.tflite"


def _litert(model: bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(
        model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    it.allocate_tensors()
    return it


def _frames(x: np.ndarray, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(int(x.view(np.uint8).sum()))
    return [x] + [rng.integers(-128, 128, size=x.shape, dtype=np.int8) for _ in range(n - 1)]


def check_stateful(builder, params: dict, semantics: str = "litert") -> None:
    """INVOCATIONS runs of the model, state carried: LiteRT (or TFLite Micro) vs tinysim at every step."""
    model, inputs = builder(**params)
    graph = parse_tflite(model)
    if semantics == "litert":
        it = _litert(model)
        variables = [d["index"] for d in it.get_tensor_details() if d["name"] in ("h", "c", "state")]
    else:
        from tflite_micro.python.tflite_micro import runtime

        it = runtime.Interpreter.from_bytes(model)
    state = None
    for step, x in enumerate(_frames(inputs[0], INVOCATIONS)):
        if semantics == "litert":
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            expected = it.get_tensor(it.get_output_details()[0]["index"])
            states = [it.get_tensor(v).ravel() for v in variables]
        else:
            it.set_input(x, 0)
            it.invoke()
            expected, states = it.get_output(0), None
        result = run_graph(graph, [x], state=state, count_events=False, semantics=semantics)
        state = result.state
        got = result.outputs[0]
        where = f"invocation {step}; rebuild with {builder.__name__}(**{params!r})"
        if not np.array_equal(got, expected):
            diff = np.abs(got.astype(np.int32) - expected.astype(np.int32))
            pytest.fail(f"tinysim != {semantics}: {int((diff > 0).sum())} of {diff.size} differ at {where}")
        if states is not None:
            for mine, theirs in zip(state, states):
                assert np.array_equal(mine.view(theirs.dtype), theirs), f"state differs at {where}"


def _scale(lo: float, hi: float):
    return st.floats(np.log2(lo), np.log2(hi)).map(lambda e: float(np.float32(2.0**e)))


LSTM_CASES = st.fixed_dictionaries({
    "n_batch": st.integers(1, 3), "n_time": st.integers(1, 5), "n_input": st.integers(1, 8),
    "n_cell": st.integers(1, 8), "time_major": st.booleans(), "cifg": st.booleans(),
    "cell_clip": st.sampled_from([0.0, 0.5, 1.0, 3.0, 10.0]), "in_scale": _scale(1 / 256, 1 / 8),
    "in_zp": st.integers(-30, 30), "h_scale": _scale(1 / 256, 1 / 32), "h_zp": st.integers(-20, 20),
    "cell_log2": st.integers(-15, -9), "w_scales": st.lists(_scale(1e-3, 0.05), min_size=8, max_size=8),
    "w_max": st.sampled_from([1, 16, 127]), "bias_bits": st.integers(0, 16), "seed": st.integers(0, 2**16),
    "peephole": st.booleans(), "peephole_scale": _scale(2**-18, 2**-8),
})  # fmt: skip

SVDF_CASES = st.fixed_dictionaries({
    "n_batch": st.integers(1, 3), "n_input": st.integers(1, 8), "n_filter": st.integers(1, 4),
    "n_memory": st.integers(1, 8), "rank": st.integers(1, 3), "activation": st.just(1),
    "in_scale": _scale(1 / 256, 1 / 8), "in_zp": st.integers(-30, 30), "out_scale": _scale(1 / 64, 1.0),
    "out_zp": st.integers(-20, 20), "w_feat_scale": _scale(1e-3, 0.05), "w_time_scale": _scale(2**-16, 2**-8),
    "state_scale": _scale(2**-12, 2**-6), "with_bias": st.booleans(), "seed": st.integers(0, 2**16),
}).map(lambda p: {**p, "n_filter": p["n_filter"] * p["rank"]})  # fmt: skip

FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(params=LSTM_CASES)
def test_lstm_int8_matches_litert(params):
    check_stateful(build_lstm, params)


@FUZZ
@given(params=SVDF_CASES)
def test_svdf_int8_matches_litert(params):
    check_stateful(build_svdf, params)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(params=LSTM_CASES)
def test_lstm_int8_matches_tflite_micro(params):
    check_stateful(build_lstm, {**params, "cifg": False, "peephole": False}, semantics="tflm")


@settings(max_examples=50, deadline=None, derandomize=True)
@given(params=SVDF_CASES, activation=st.sampled_from([0, 1]))
def test_svdf_int8_matches_tflite_micro(params, activation):
    # TFLite Micro (0.dev20261023) crashes on an SVDF without bias, so the bias is always given here
    check_stateful(build_svdf, {**params, "activation": activation, "with_bias": True}, semantics="tflm")


# --- the kernels against their NumPy twins (tests/naive.py) --------------------------------------------------------


@kernel
def _apply(fn_code, raw, integer_bits, out):
    for k in range(raw.shape[0]):
        out[k] = logistic16(raw[k], integer_bits) if fn_code == 0 else tanh16(raw[k], integer_bits)


@pytest.mark.parametrize("integer_bits", range(7))
def test_gemmlowp_int16_logistic_and_tanh_match_twin_everywhere(integer_bits):
    raw = np.arange(-32768, 32768, dtype=np.int64)
    out = np.empty_like(raw)
    for code, twin in ((0, naive_logistic16), (1, naive_tanh16)):
        _apply(code, raw, integer_bits, out)
        np.testing.assert_array_equal(out, twin(raw, integer_bits))
    x = raw / 2.0 ** (15 - integer_bits)  # and both approximate the real functions
    _apply(1, raw, integer_bits, out)
    assert np.abs(out / 32768.0 - np.tanh(x)).max() < 2e-3


def _consts(graph, names):
    return {n: next(t for t in graph.tensors if t.name == n) for n in names}


@pytest.mark.parametrize("cifg, time_major, clip, seed", [(False, False, 10.0, 0), (True, False, 0.0, 1),
                                                          (False, True, 0.5, 2), (True, True, 3.0, 3)])  # fmt: skip
def test_lstm_kernel_matches_twin(cifg, time_major, clip, seed):
    params = {
        "n_batch": 2,
        "n_time": 4,
        "n_input": 5,
        "n_cell": 3,
        "time_major": time_major,
        "cifg": cifg,
        "cell_clip": clip,
        "in_scale": 1 / 64,
        "in_zp": 5,
        "h_scale": 1 / 128,
        "h_zp": -3,
        "cell_log2": -11,
        "w_scales": [0.02, 0.01, 0.015, 0.03, 0.01, 0.02, 0.025, 0.012],
        "w_max": 127,
        "bias_bits": 12,
        "seed": seed,
    }
    model, (x,) = build_lstm(**params)
    graph = parse_tflite(model)
    t = _consts(graph, [f"w{k}" for k in range(8) if not (cifg and k % 4 == 0)] + [f"b{g}" for g in range(cifg, 4)])
    wx = [None if cifg and k == 0 else t[f"w{k}"].constant() for k in range(4)]
    wh = [None if cifg and k == 0 else t[f"w{4 + k}"].constant() for k in range(4)]
    bias = [np.zeros(3, np.int64) if cifg and g == 0 else t[f"b{g}"].constant() for g in range(4)]
    s_w = [float(np.float32(s)) for s in params["w_scales"]]
    h, c = np.full((2, 3), -3, np.int8), np.zeros((2, 3), np.int16)
    state = None
    for _ in range(2):
        xb = x.transpose(1, 0, 2) if time_major else x
        y, h, c = naive_lstm_int8(xb, wx, wh, bias, 1 / 64, 5, s_w, float(np.float32(1 / 128)), -3, -11, clip, h, c)
        result = run_graph(graph, [x], state=state)
        state = result.state
        np.testing.assert_array_equal(result.outputs[0], y.transpose(1, 0, 2) if time_major else y)
        np.testing.assert_array_equal(state[1].view(np.int16).reshape(2, 3), c)


@pytest.mark.parametrize("rank, with_bias, seed", [(1, True, 0), (2, False, 1), (3, True, 2)])
def test_svdf_kernel_matches_twin(rank, with_bias, seed):
    p = {
        "n_batch": 2,
        "n_input": 5,
        "n_filter": 2 * rank,
        "n_memory": 4,
        "rank": rank,
        "activation": 1,
        "in_scale": 1 / 32,
        "in_zp": -7,
        "out_scale": 1 / 8,
        "out_zp": 4,
        "w_feat_scale": 0.01,
        "w_time_scale": 2**-12,
        "state_scale": 2**-8,
        "with_bias": with_bias,
        "seed": seed,
    }
    model, (x,) = build_svdf(**p)
    graph = parse_tflite(model)
    t = _consts(graph, ["w_feature", "w_time"] + (["b"] if with_bias else []))
    f32 = lambda v: float(np.float32(v))
    state, twin_state = None, np.zeros((2, 2 * rank, 4), np.int16)
    for frame in _frames(x, 3):
        y, twin_state = naive_svdf_int8(
            frame, t["w_feature"].constant(), t["w_time"].constant(), t["b"].constant() if with_bias else None, rank,
            f32(1 / 32), -7, f32(0.01), f32(2**-12), f32(2**-8), f32(1 / 8), 4, twin_state,
        )  # fmt: skip
        result = run_graph(graph, [frame], state=state)
        state = result.state
        np.testing.assert_array_equal(result.outputs[0], y)
        np.testing.assert_array_equal(state[0].view(np.int16).reshape(twin_state.shape), twin_state)


# --- the corpus LSTM, state across invocations, events and refusals -------------------------------------------------


def test_corpus_lstm_carries_state_like_litert():
    """keras_lstm_mnist_ptq (uint8 in/out, QUANTIZE -> LSTM -> FC -> SOFTMAX): 5 invocations on one LiteRT
    interpreter (state kept) equal 5 run_graph calls with the state carried; the LSTM output too."""
    import dataclasses

    path = require_model(LSTM_MODEL)
    graph = load_tflite(path)
    lstm = next(op for op in graph.ops if op.kind.value == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    probe = dataclasses.replace(graph, outputs=(*graph.outputs, lstm.outputs[0]))
    it = _litert(path.read_bytes())
    state = None
    for seed in range(5):
        x = random_input(graph, seed)
        it.set_tensor(it.get_input_details()[0]["index"], x[0])
        it.invoke()
        result = run_graph(probe, x, state=state)
        state = result.state
        np.testing.assert_array_equal(result.outputs[0], it.get_tensor(it.get_output_details()[0]["index"]))
    fresh = run_graph(probe, random_input(graph, 0))  # no state given: TFLite's reset values (int8 at its zero point)
    assert fresh.state[0].view(np.int8).tolist() != state[0].view(np.int8).tolist()
    reset = prepared(probe).state  # LiteRT's ResetVariableTensors: the int8 output state at its zero point (-1)
    assert reset[0][1].tolist() == [-1] * 20 and not reset[1][1].any()
    events = result.events[graph.ops.index(lstm)]
    assert events.macs == 28 * 4 * 20 * (28 + 20) and events.weight_bytes_unique == 4 * 20 * (28 + 20) + 4 * 4 * 20
    assert 0 < events.zero_macs < events.macs and events.elementwise > 0


def _lstm_params(**kw):
    p = {
        "n_batch": 1,
        "n_time": 2,
        "n_input": 3,
        "n_cell": 2,
        "time_major": False,
        "cifg": False,
        "cell_clip": 0.0,
        "in_scale": 1 / 64,
        "in_zp": 0,
        "h_scale": 1 / 128,
        "h_zp": 0,
        "cell_log2": -12,
        "w_scales": [0.01] * 8,
        "w_max": 127,
        "bias_bits": 8,
        "seed": 0,
    }
    return {**p, **kw}


@pytest.mark.parametrize(
    "builder, params, semantics, message",
    [
        (build_lstm, _lstm_params(cifg=True), "tflm", "no CIFG or peephole"),
        (build_lstm, _lstm_params(cell_log2=-8), "litert", "cell state scale"),
        (
            build_svdf,
            {
                "n_batch": 1,
                "n_input": 2,
                "n_filter": 2,
                "n_memory": 2,
                "rank": 1,
                "activation": 0,
                "in_scale": 0.1,
                "in_zp": 0,
                "out_scale": 0.1,
                "out_zp": 0,
                "w_feat_scale": 0.01,
                "w_time_scale": 0.01,
                "state_scale": 0.01,
                "with_bias": True,
                "seed": 0,
            },
            "litert",
            "requires the RELU option",
        ),
    ],
)
def test_unsupported_variants_are_refused(builder, params, semantics, message):
    model, inputs = builder(**params)
    with pytest.raises(UnsupportedOpError, match=message):
        run_graph(parse_tflite(model), inputs, semantics=semantics)
