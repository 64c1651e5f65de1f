"""Legacy uint8 (asymmetric per-tensor) models against LiteRT's builtin kernels, bit for bit.

tinysim runs them on the int8 engine shifted by 128 (tinysim.engine.uint8); inputs and outputs
stay uint8, as in the model.
"""

from __future__ import annotations

import numpy as np
import pytest
import tflite
from conftest import require_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tflite_builder import INT32, UINT8, Options, TensorSpec, single_op_model

from tinysim.engine import prepare, random_input, run_graph
from tinysim.errors import UnsupportedOpError, WorkloadError
from tinysim.ops import window
from tinysim.workload.graph import DType
from tinysim.workload.tflite_import import load_tflite, parse_tflite

MODELS = ["coral/mobilenet_v1_0.25_128_quant", "coral/mobilenet_v2_1.0_224_quant"]
INPUTS = 5


def litert(path):
    litert_interp = pytest.importorskip("ai_edge_litert.interpreter")
    it = litert_interp.Interpreter(
        model_path=str(path),
        num_threads=1,
        experimental_op_resolver_type=litert_interp.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    it.allocate_tensors()
    return it


@pytest.mark.parametrize("name", MODELS)
def test_uint8_model_bit_exact_with_litert_builtin(name):
    path = require_model(f"corpus/{name}.tflite")
    graph = load_tflite(path)
    assert graph.tensors[graph.inputs[0]].dtype is DType.UINT8  # the IR keeps the model's dtype
    it, prep = litert(path), prepare(graph)
    for seed in range(INPUTS):
        x = random_input(graph, seed)
        assert x[0].dtype == np.uint8
        it.set_tensor(it.get_input_details()[0]["index"], x[0])
        it.invoke()
        ours = run_graph(prep, x).outputs[0]
        assert ours.dtype == np.uint8
        np.testing.assert_array_equal(
            ours, it.get_tensor(it.get_output_details()[0]["index"]), err_msg=f"{name} seed {seed}"
        )


def test_uint8_graph_refuses_int8_input():
    path = require_model("corpus/coral/mobilenet_v1_0.25_128_quant.tflite")
    graph = load_tflite(path)
    with pytest.raises(WorkloadError, match="uint8"):
        run_graph(graph, [np.zeros(graph.tensors[graph.inputs[0]].shape, np.int8)])


# --- single uint8 ops (asymmetric weights, random zero points) against LiteRT -----------------------

Op = tflite.BuiltinOperator
SAME, VALID = tflite.Padding.SAME, tflite.Padding.VALID


def _act(name, shape, scale, zp) -> TensorSpec:
    return TensorSpec(name, tuple(shape), UINT8, scale=(scale,), zero_point=(zp,))


def _uint8(rng, shape) -> np.ndarray:
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def _window_op(kind, rng, n, h, wd, c, oc, k, stride, padding, activation, zps, scales):
    """A uint8 CONV_2D (oc outputs) or DEPTHWISE_CONV_2D (multiplier oc // c) with uint8 weights."""
    oh, _ = window(h, k, stride, 1, padding == SAME)
    ow, _ = window(wd, k, stride, 1, padding == SAME)
    zp_in, zp_w, zp_out = zps
    s_in, s_w, s_out = scales
    w_shape = (oc, k, k, c) if kind == "CONV_2D" else (1, k, k, oc)
    bias = rng.integers(-5000, 5000, size=oc).astype(np.int32)
    tensors = [
        _act("x", (n, h, wd, c), s_in, zp_in),
        TensorSpec("w", w_shape, UINT8, scale=(s_w,), zero_point=(zp_w,), data=_uint8(rng, w_shape)),
        _act("y", (n, oh, ow, oc), s_out, zp_out),
        TensorSpec("b", (oc,), INT32, scale=(float(np.float32(s_in) * np.float32(s_w)),), zero_point=(0,), data=bias),
    ]
    fields = {"Padding": padding, "StrideH": stride, "StrideW": stride, "FusedActivationFunction": activation}
    if kind == "CONV_2D":
        options = Options("Conv2DOptions", fields)
    else:
        options = Options("DepthwiseConv2DOptions", {**fields, "DepthMultiplier": oc // c})
    model = single_op_model(getattr(Op, kind), tensors, op_inputs=(0, 1, 3), op_outputs=(2,), options=options)
    return model, [_uint8(rng, (n, h, wd, c))]


def _pool(rng, n, h, wd, c, k, stride, padding, zp, scale):
    oh, _ = window(h, k, stride, 1, padding == SAME)
    ow, _ = window(wd, k, stride, 1, padding == SAME)
    tensors = [_act("x", (n, h, wd, c), scale, zp), _act("y", (n, oh, ow, c), scale, zp)]
    options = Options("Pool2DOptions", {"Padding": padding, "StrideH": stride, "StrideW": stride,
                                        "FilterHeight": k, "FilterWidth": k})  # fmt: skip
    model = single_op_model(Op.AVERAGE_POOL_2D, tensors, op_inputs=(0,), op_outputs=(1,), options=options)
    return model, [_uint8(rng, (n, h, wd, c))]


def _add(rng, shape, zps, scales, activation):
    tensors = [_act(name, shape, s, z) for name, s, z in zip("aby", scales, zps)]
    options = Options("AddOptions", {"FusedActivationFunction": activation})
    model = single_op_model(Op.ADD, tensors, op_inputs=(0, 1), op_outputs=(2,), options=options)
    return model, [_uint8(rng, shape), _uint8(rng, shape)]


def _litert_run(model: bytes, inputs: list[np.ndarray]) -> np.ndarray:
    litert_interp = pytest.importorskip("ai_edge_litert.interpreter")
    it = litert_interp.Interpreter(
        model_content=model,
        experimental_op_resolver_type=litert_interp.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    it.allocate_tensors()
    for detail, x in zip(it.get_input_details(), inputs):
        it.set_tensor(detail["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


_zp = st.integers(0, 255)
_scale = st.floats(0.005, 0.2).map(lambda s: float(np.float32(s)))


@st.composite
def _cases(draw):
    kind = draw(st.sampled_from(["CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "ADD"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, h, wd, c = 1, draw(st.integers(1, 9)), draw(st.integers(1, 20)), draw(st.integers(1, 12))
    k, stride, padding = draw(st.sampled_from([1, 3])), draw(st.integers(1, 2)), draw(st.sampled_from([SAME, VALID]))
    if padding == VALID:
        h, wd = max(h, k), max(wd, k)
    activation = draw(st.sampled_from([0, 1, 3]))  # NONE, RELU, RELU6
    zps, scales = draw(st.tuples(_zp, _zp, _zp)), draw(st.tuples(_scale, _scale, _scale))
    if kind == "CONV_2D":
        return _window_op(kind, rng, n, h, wd, c, draw(st.integers(1, 20)), k, stride, padding, activation, zps, scales)
    if kind == "DEPTHWISE_CONV_2D":
        oc = c * draw(st.integers(1, 2))
        return _window_op(kind, rng, n, h, wd, c, oc, k, stride, padding, activation, zps, scales)
    if kind == "AVERAGE_POOL_2D":
        pk = draw(st.integers(1, 4))
        h, wd = (max(h, pk), max(wd, pk)) if padding == VALID else (h, wd)
        return _pool(rng, n, h, wd, c, pk, stride, padding, zps[0], scales[0])
    return _add(rng, (n, h, wd, c), zps, scales, activation)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=_cases())
def test_uint8_op_matches_litert(case):
    model, inputs = case
    expected = _litert_run(model, inputs)
    got = run_graph(parse_tflite(model, file="uint8.tflite"), inputs, count_events=False).outputs[0]
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)


def test_uint8_op_not_checked_is_refused():
    """An op whose kernel lists no uint8 scheme (BATCH_MATMUL: int8 only) is refused by name on uint8 tensors."""
    from tinysim.engine.interpreter import KERNELS
    from tinysim.ops import OpKind

    assert "uint8" not in KERNELS[OpKind.BATCH_MATMUL].schemes
    tensors = [_act("x", (1, 2, 4), 0.05, 120), _act("y", (1, 4, 3), 0.05, 128), _act("z", (1, 2, 3), 0.1, 128)]
    model = single_op_model(Op.BATCH_MATMUL, tensors, op_inputs=(0, 1), op_outputs=(2,))
    with pytest.raises(UnsupportedOpError, match="BATCH_MATMUL .*uint8 is not supported"):
        prepare(parse_tflite(model, file="bmm.tflite"))


def test_uint8_model_refused_under_tflm_semantics():
    graph = load_tflite(require_model("corpus/coral/mobilenet_v1_0.25_128_quant.tflite"))
    with pytest.raises(UnsupportedOpError, match="semantics='litert' only"):
        prepare(graph, "tflm")
