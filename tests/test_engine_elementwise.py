"""SUB, MUL, LEAKY_RELU, MAXIMUM, MINIMUM, RELU and RELU6 against their NumPy twins (tests/naive.py).

tests/test_op_fuzz.py compares the same ops with LiteRT; here every path of the kernels (SUB's
output table, negative alphas, saturation, fused activations) meets the slow reference formula.
"""

from __future__ import annotations

import naive
import numpy as np
import pytest
from tflite_builder import Options, TensorSpec, single_op_model

from tinysim.engine import run_graph
from tinysim.errors import UnsupportedOpError
from tinysim.ops import OpKind
from tinysim.workload.graph import Activation, DType, Graph, Op, OpAttrs, Quantization, Tensor
from tinysim.workload.stats import estimate_events
from tinysim.workload.tflite_import import parse_tflite

ACTS = list(Activation)


def act_t(name, shape, scale, zp):
    return Tensor(name, tuple(shape), DType.INT8, Quantization((float(scale),), (int(zp),)))


def one_op(kind, inputs, output, attrs=None):
    tensors = (*inputs, output)
    op = Op(kind, "layer", tuple(range(len(inputs))), (len(inputs),), attrs or OpAttrs())
    return Graph("t", tensors, (op,), tuple(range(len(inputs))), (len(inputs),))


def operands(seed, n_inputs, *, big=False):
    """Shape, per-input (scale, zp) and int8 data, zero points included among the values."""
    rng = np.random.default_rng(seed)
    shape = (1, 16, 9, int(rng.integers(8, 40))) if big else (int(rng.integers(1, 4)), int(rng.integers(1, 30)))
    quants = [(float(rng.uniform(0.005, 0.5)), int(rng.integers(-128, 128))) for _ in range(n_inputs + 1)]
    xs = []
    for _, zp in quants[:n_inputs]:
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        x[rng.random(shape) < 0.2] = zp
        xs.append(x)
    return shape, quants, xs


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("kind", [OpKind.SUB, OpKind.MUL])
def test_sub_mul(kind, seed):
    shape, ((s1, z1), (s2, z2), (so, zo)), (a, b) = operands(seed, 2, big=seed >= 6)  # big: SUB's table path
    if kind is OpKind.MUL:
        so = s1 * s2 * 2.0 ** (seed - 2) * 128
    activation = ACTS[seed % 4]
    graph = one_op(kind, [act_t("a", shape, s1, z1), act_t("b", shape, s2, z2)], act_t("y", shape, so, zo),
                   OpAttrs(activation=activation))  # fmt: skip
    r = run_graph(graph, [a, b])
    twin = naive.sub if kind is OpKind.SUB else naive.mul
    ref = twin(a, b, s1, z1, s2, z2, so, zo, naive.act_range(activation.value, so, zo))
    np.testing.assert_array_equal(r.outputs[0], ref)
    assert r.events[0].output_zeros == int((ref == zo).sum())
    assert r.events[0].act_bytes_read == estimate_events(graph, graph.ops[0]).act_bytes_read == 2 * a.size


@pytest.mark.parametrize("seed", range(8))
def test_leaky_relu(seed):
    shape, ((si, zi), (so, zo)), (x,) = operands(seed, 1)
    alpha = float(np.float32([0.2, 0.01, 0.0, -0.25, 1.0, 0.3, -1.5, 2.0][seed]))
    x.flat[:256] = np.arange(-128, 128)[: x.size]  # every input value
    graph = one_op(OpKind.LEAKY_RELU, [act_t("x", shape, si, zi)], act_t("y", shape, so, zo), OpAttrs(alpha=alpha))
    r = run_graph(graph, x)
    ref = naive.leaky_relu(x, si, zi, so, zo, alpha)
    np.testing.assert_array_equal(r.outputs[0], ref)
    assert r.events[0].output_zeros == int((ref == zo).sum())
    assert r.events[0].elementwise == estimate_events(graph, graph.ops[0]).elementwise == x.size


def test_leaky_relu_negative_alpha_ties():
    """alpha = -0.25 at unit scales: -125 * -0.25 = 31.25 rounds to 31 (LiteRT), not 32 (positive-product ties up)."""
    x = np.arange(-128, 128, dtype=np.int8)
    graph = one_op(OpKind.LEAKY_RELU, [act_t("x", x.shape, 1.0, 0)], act_t("y", x.shape, 1.0, 0), OpAttrs(alpha=-0.25))
    out = run_graph(graph, x).outputs[0]
    assert out[3] == 31 and out[0] == 32  # -125 and -128
    np.testing.assert_array_equal(out, naive.leaky_relu(x, 1.0, 0, 1.0, 0, -0.25))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", [OpKind.RELU, OpKind.RELU6])
def test_relu(kind, seed):
    shape, ((si, zi), (so, zo)), (x,) = operands(seed, 1)
    so = [so, si, 6.0 / 100, 6.0 / 255, si / 4, si * 3][seed]  # RELU6's top inside and outside int8
    graph = one_op(kind, [act_t("x", shape, si, zi)], act_t("y", shape, so, zo))
    r = run_graph(graph, x)
    ref = naive.relu_x(x, si, zi, so, zo, naive.act_range(kind.value, so, zo))
    np.testing.assert_array_equal(r.outputs[0], ref)
    assert r.events[0].output_zeros == int((ref == zo).sum())


@pytest.mark.parametrize("seed", range(4))
def test_relu6_tflm_clamps_raw_input(seed):
    """TFLite Micro's RELU6 clamps the raw input to [zp_in, 6 / scale_in + zp_in] and never rescales."""
    shape, ((si, zi), (so, zo)), (x,) = operands(seed, 1)
    graph = one_op(OpKind.RELU6, [act_t("x", shape, si, zi)], act_t("y", shape, so, zo))
    lo, hi = naive.act_range("RELU6", si, zi)
    np.testing.assert_array_equal(run_graph(graph, x, semantics="tflm").outputs[0], np.clip(x, lo, hi))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("kind", [OpKind.MAXIMUM, OpKind.MINIMUM])
def test_minmax(kind, seed):
    shape, ((s, zp), *_), (a, b) = operands(seed, 2)
    t = [act_t(n, shape, s, zp) for n in "aby"]
    r = run_graph(one_op(kind, t[:2], t[2]), [a, b])
    ref = (naive.maximum if kind is OpKind.MAXIMUM else naive.minimum)(a, b)
    np.testing.assert_array_equal(r.outputs[0], ref)
    assert r.events[0].output_zeros == int((ref == zp).sum())


@pytest.mark.parametrize(
    ("kind", "shapes", "quants", "message"),
    [
        (OpKind.SUB, [(2, 3), (1, 2), (2, 3)], [(0.1, 0)] * 3, "broadcasting"),  # (1, 3) would broadcast
        (OpKind.MAXIMUM, [(4,), (4,), (4,)], [(0.1, 0), (0.2, 0), (0.1, 0)], "quantization differ"),
        (OpKind.MUL, [(4,), (4,), (4,)], [(1.0, 0), (1.0, 0), (2.0**-20, 0)], "too small"),
    ],
)
def test_refused_in_one_line(kind, shapes, quants, message):
    tensors = [act_t(n, sh, *q) for n, sh, q in zip("aby", shapes, quants)]
    with pytest.raises(UnsupportedOpError, match=message) as info:
        run_graph(one_op(kind, tensors[:2], tensors[2]), [np.zeros(sh, np.int8) for sh in shapes[:2]])
    assert "\n" not in str(info.value)


def test_leaky_relu_alpha_read_from_tflite():
    tensors = [TensorSpec("x", (4,), scale=(0.1,), zero_point=(0,)), TensorSpec("y", (4,), scale=(0.1,))]
    model = single_op_model(98, tensors, op_inputs=(0,), op_outputs=(1,), options=Options("LeakyReluOptions",
                                                                                          {"Alpha": 0.125}))  # fmt: skip
    graph = parse_tflite(model)
    assert graph.ops[0].kind is OpKind.LEAKY_RELU and graph.ops[0].attrs.alpha == 0.125
