"""Each engine kernel against its slow NumPy twin (tests/naive.py) on small random layers."""

from __future__ import annotations

import naive
import numpy as np
import pytest

from tinysim.engine import prepare, run_graph
from tinysim.engine.fixedpoint import RUY, TFLITE, quantize_multiplier, requantize, requantize_row
from tinysim.engine.ops import conv
from tinysim.engine.program import pack
from tinysim.errors import UnsupportedOpError
from tinysim.ops import OpKind
from tinysim.workload.graph import Activation, DType, Graph, Op, OpAttrs, Padding, Quantization, Tensor

ACTS = list(Activation)


def act_t(name, shape, scale, zp):
    return Tensor(name, tuple(shape), DType.INT8, Quantization((scale,), (zp,)))


def one_op(kind, inputs, output, attrs=None, consts=()):
    attrs = attrs or OpAttrs()
    tensors = (*inputs, *consts, output)
    n_in = len(inputs)
    op = Op(kind, "layer", tuple(range(n_in + len(consts))), (len(tensors) - 1,), attrs)
    return Graph("t", tensors, (op,), tuple(range(n_in)), (len(tensors) - 1,))


def weights(rng, shape, n_scales):
    w = rng.integers(-127, 128, size=shape, dtype=np.int8)
    w[rng.random(shape) < 0.2] = 0  # some zero weights for the sparsity counts
    scales = tuple(float(s) for s in rng.uniform(0.002, 0.02, n_scales))
    return Tensor(
        "w",
        shape,
        DType.INT8,
        Quantization(scales, (0,) * n_scales, axis=0 if len(shape) != 4 or shape[0] != 1 else 3),
        w,
    )


def bias(rng, n):
    return Tensor("b", (n,), DType.INT32, Quantization((1.0,), (0,)), rng.integers(-2000, 2000, size=n, dtype=np.int32))


def random_x(rng, shape, zp):
    x = rng.integers(-128, 128, size=shape, dtype=np.int8)
    x[rng.random(shape) < 0.3] = zp  # real zeros, as after a ReLU
    return x


def multipliers(s_in, w_scales, s_out):
    pairs = [naive.quantize_multiplier(s_in * s / s_out) for s in w_scales]
    return np.array([m for m, _ in pairs]), np.array([s for _, s in pairs])


@pytest.mark.parametrize("mode", ["tflite", "ruy"])
def test_requantize_matches_definition(mode):
    rng = np.random.default_rng(0)
    acc = np.concatenate([rng.integers(-(2**24), 2**24, 4000), [0, 1, -1, 2**31 - 1, -(2**31)]])
    mult = rng.integers(2**30, 2**31, acc.size)
    shift = rng.integers(-12, 3, acc.size)
    ties = np.arange(-40, 40) * 2**18 + 2**17  # exact halves after a right shift of 12 with m = 2**30
    acc, mult, shift = (
        np.concatenate([acc, ties]),
        np.concatenate([mult, [2**30] * 80]),
        np.concatenate([shift, [-11] * 80]),
    )
    ref = naive.REQUANT[mode](acc, mult, shift)
    m = RUY if mode == "ruy" else TFLITE
    assert [requantize(int(a), int(b), int(c), m) for a, b, c in zip(acc, mult, shift)] == ref.tolist()
    out = np.zeros(acc.size, np.int8)
    requantize_row(acc.astype(np.int32), mult.astype(np.int32), shift.astype(np.int32), m, 0, -128, 127, out, 0)
    np.testing.assert_array_equal(out, np.clip(ref, -128, 127))


def test_quantize_multiplier_matches_naive():
    for real in [1e-9, 0.0003, 0.25, 0.5, 0.999999999, 1.0, 3.7, 2.0**-31]:
        from tinysim.engine.fixedpoint import quantize_multiplier as q

        assert q(real) == naive.quantize_multiplier(real)
    assert quantize_multiplier(0.0) == (0, 0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_conv2d(seed, semantics):
    rng = np.random.default_rng(seed)
    k = (1, 3, 5)[seed % 3]
    c_in, c_out = int(rng.integers(1, 20)), int(rng.integers(1, 24))
    stride, dil = int(rng.integers(1, 3)), 1 + (seed == 4)
    pad = Padding.SAME if seed % 2 == 0 else Padding.VALID
    x_t, y_t = act_t("x", (1, 11, 9, c_in), 0.05, int(rng.integers(-20, 20))), None
    w = weights(rng, (c_out, k, k, c_in), c_out)
    attrs = OpAttrs(
        padding=pad, stride_h=stride, stride_w=stride, dilation_h=dil, dilation_w=dil, activation=ACTS[seed % 4]
    )
    oh, _ = naive._pad_before(11, k, stride, dil, pad is Padding.SAME)
    ow, _ = naive._pad_before(9, k, stride, dil, pad is Padding.SAME)
    y_t = act_t("y", (1, oh, ow, c_out), 0.1, int(rng.integers(-10, 10)))
    b = bias(rng, c_out)
    g = one_op(OpKind.CONV_2D, [x_t], y_t, attrs, (w, b))
    x = random_x(rng, x_t.shape, x_t.quant.zero_point[0])
    r = run_graph(g, x, semantics=semantics)
    mult, shift = multipliers(0.05, w.quant.scale, 0.1)
    act = naive.act_range(attrs.activation.value, 0.1, y_t.quant.zero_point[0])
    ref = naive.conv2d(x, w.data, b.data, x_t.quant.zero_point[0], y_t.quant.zero_point[0], mult, shift, act,
                       (stride, stride), (dil, dil), pad is Padding.SAME, "ruy" if semantics == "litert" else "tflite")  # fmt: skip
    np.testing.assert_array_equal(r.outputs[0], ref)
    e = r.events[0]
    zero_macs, macs = naive.conv_zero_macs(
        x, w.data, x_t.quant.zero_point[0], (stride, stride), (dil, dil), pad is Padding.SAME
    )
    assert (e.macs, e.zero_macs) == (macs, zero_macs)
    assert e.output_zeros == int((ref == y_t.quant.zero_point[0]).sum()) and e.output_elements == ref.size


def check_conv(rng, x_shape, c_out, k, stride, dil, pad, act, semantics, kw=None, direct=False):
    """One CONV_2D layer through the engine against naive.conv2d: outputs, MACs, zero-operand MACs, zeros."""
    n, h, wd, c_in = x_shape
    kw = kw or k
    x_t = act_t("x", x_shape, 0.05, int(rng.integers(-20, 20)))
    w = weights(rng, (c_out, k, kw, c_in), c_out)
    attrs = OpAttrs(padding=pad, stride_h=stride, stride_w=stride, dilation_h=dil, dilation_w=dil, activation=act)
    same = pad is Padding.SAME
    oh, _ = naive._pad_before(h, k, stride, dil, same)
    ow, _ = naive._pad_before(wd, kw, stride, dil, same)
    y_t = act_t("y", (n, oh, ow, c_out), 0.1, int(rng.integers(-10, 10)))
    b = bias(rng, c_out)
    x = random_x(rng, x_shape, x_t.quant.zero_point[0])
    g = one_op(OpKind.CONV_2D, [x_t], y_t, attrs, (w, b))
    assert prepare(g).params[0, conv.Row.by_pixel] == direct  # the kernel path this case is meant to exercise
    r = run_graph(g, x, semantics=semantics)
    mult, shift = multipliers(0.05, w.quant.scale, 0.1)
    zp_in, zp_out = x_t.quant.zero_point[0], y_t.quant.zero_point[0]
    ref = naive.conv2d(x, w.data, b.data, zp_in, zp_out, mult, shift, naive.act_range(act.value, 0.1, zp_out),
                       (stride, stride), (dil, dil), same, "ruy" if semantics == "litert" else "tflite")  # fmt: skip
    np.testing.assert_array_equal(r.outputs[0], ref)
    zero_macs, macs = naive.conv_zero_macs(x, w.data, zp_in, (stride, stride), (dil, dil), same)
    e = r.events[0]
    assert (e.macs, e.zero_macs, e.output_zeros) == (macs, zero_macs, int((ref == zp_out).sum()))


# Direct (plane) path: short patches (a spatial kernel on few channels, or 1x1 on < 16) over rows of >= 16 outputs.
@pytest.mark.parametrize(
    ("x_shape", "c_out", "k", "stride", "dil", "pad"),
    [
        ((1, 20, 33, 3), 8, 3, 2, 1, Padding.SAME),
        ((1, 19, 32, 3), 16, 3, 1, 1, Padding.SAME),
        ((2, 17, 40, 3), 7, 3, 2, 1, Padding.VALID),
        ((1, 24, 37, 5), 5, 3, 1, 2, Padding.SAME),
        ((1, 21, 50, 1), 9, 5, 2, 2, Padding.VALID),
        ((2, 9, 35, 2), 3, 4, 1, 1, Padding.SAME),
        ((1, 12, 20, 8), 16, 1, 1, 1, Padding.VALID),  # 1x1 over few channels (VWW's first pointwise)
    ],
)
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_conv2d_direct_path(x_shape, c_out, k, stride, dil, pad, semantics):
    rng = np.random.default_rng(sum(x_shape) + c_out + k)
    check_conv(rng, x_shape, c_out, k, stride, dil, pad, ACTS[(k + stride) % 4], semantics, direct=True)


# im2col + 4-pixel x 2-channel dot kernel: odd channel counts, pixel counts that leave remainders,
# patches longer than one block, 1x1 kernels with and without stride.
@pytest.mark.parametrize(
    ("x_shape", "c_out", "k", "stride", "dil", "pad"),
    [
        ((1, 13, 11, 16), 17, 3, 1, 1, Padding.SAME),
        ((1, 15, 14, 32), 31, 3, 2, 1, Padding.SAME),
        ((2, 9, 9, 64), 5, 3, 1, 2, Padding.VALID),
        ((1, 7, 5, 64), 64, 1, 1, 1, Padding.VALID),
        ((1, 16, 16, 16), 33, 1, 2, 1, Padding.SAME),
        ((1, 25, 5, 1), 64, 10, 2, 1, Padding.SAME),
        ((1, 6, 7, 130), 3, 3, 1, 1, Padding.SAME),
    ],
)
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_conv2d_dot_path(x_shape, c_out, k, stride, dil, pad, semantics):
    rng = np.random.default_rng(sum(x_shape) + c_out + k)
    kw = 4 if k == 10 else None  # KWS-like 10x4 kernel
    check_conv(rng, x_shape, c_out, k, stride, dil, pad, ACTS[(k + stride) % 4], semantics, kw)


# LiteRT's x86 output stage rounds whole blocks of 8 channels as ruy, the rest as TFLite (naive.py).
DEPTHWISE_ROUNDING = {"litert": "litert_depthwise", "tflm": "tflite"}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_depthwise_conv2d(seed, semantics):
    rng = np.random.default_rng(seed)
    c, m, k = int(rng.integers(1, 17)), (1, 1, 2, 1, 3)[seed], (3, 5, 3, 1, 3)[seed]
    stride = 1 + seed % 2
    pad = Padding.SAME if seed != 3 else Padding.VALID
    x_t = act_t("x", (1, 10, 7, c), 0.03, int(rng.integers(-20, 20)))
    w = weights(rng, (1, k, k, c * m), c * m)
    oh, _ = naive._pad_before(10, k, stride, 1, pad is Padding.SAME)
    ow, _ = naive._pad_before(7, k, stride, 1, pad is Padding.SAME)
    y_t = act_t("y", (1, oh, ow, c * m), 0.07, int(rng.integers(-10, 10)))
    attrs = OpAttrs(padding=pad, stride_h=stride, stride_w=stride, depth_multiplier=m, activation=ACTS[seed % 4])
    b = bias(rng, c * m)
    g = one_op(OpKind.DEPTHWISE_CONV_2D, [x_t], y_t, attrs, (w, b))
    x = random_x(rng, x_t.shape, x_t.quant.zero_point[0])
    r = run_graph(g, x, semantics=semantics)
    mult, shift = multipliers(0.03, w.quant.scale, 0.07)
    act = naive.act_range(attrs.activation.value, 0.07, y_t.quant.zero_point[0])
    ref = naive.depthwise_conv2d(x, w.data, b.data, x_t.quant.zero_point[0], y_t.quant.zero_point[0], mult, shift, act,
                                 m, (stride, stride), (1, 1), pad is Padding.SAME, DEPTHWISE_ROUNDING[semantics])  # fmt: skip
    np.testing.assert_array_equal(r.outputs[0], ref)
    zero_macs, macs = naive.depthwise_zero_macs(
        x, w.data, x_t.quant.zero_point[0], m, (stride, stride), pad is Padding.SAME
    )
    assert (r.events[0].macs, r.events[0].zero_macs) == (macs, zero_macs)


# Depth multiplier 1 (row-wise kernel; stride > 1 reads a column-phase split of the input).
@pytest.mark.parametrize(
    ("x_shape", "k", "kw", "stride", "dil", "pad"),
    [
        ((1, 25, 5, 64), 3, 3, 1, 1, Padding.SAME),
        ((1, 13, 12, 17), 3, 3, 2, 1, Padding.SAME),
        ((2, 11, 15, 5), 3, 3, 2, 1, Padding.VALID),
        ((1, 12, 13, 9), 3, 3, 1, 2, Padding.SAME),
        ((1, 14, 17, 3), 5, 3, 3, 1, Padding.SAME),
        ((1, 9, 16, 7), 3, 5, 2, 2, Padding.VALID),
        ((1, 6, 6, 130), 3, 3, 2, 1, Padding.SAME),
    ],
)
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_depthwise_rows(x_shape, k, kw, stride, dil, pad, semantics):
    rng = np.random.default_rng(sum(x_shape) + k + kw + stride)
    n, h, wd, c = x_shape
    same = pad is Padding.SAME
    x_t = act_t("x", x_shape, 0.03, int(rng.integers(-20, 20)))
    w = weights(rng, (1, k, kw, c), c)
    oh, _ = naive._pad_before(h, k, stride, dil, same)
    ow, _ = naive._pad_before(wd, kw, stride, dil, same)
    y_t = act_t("y", (n, oh, ow, c), 0.07, int(rng.integers(-10, 10)))
    act = ACTS[(k + stride) % 4]
    attrs = OpAttrs(padding=pad, stride_h=stride, stride_w=stride, dilation_h=dil, dilation_w=dil,
                    depth_multiplier=1, activation=act)  # fmt: skip
    b = bias(rng, c)
    x = random_x(rng, x_shape, x_t.quant.zero_point[0])
    r = run_graph(one_op(OpKind.DEPTHWISE_CONV_2D, [x_t], y_t, attrs, (w, b)), x, semantics=semantics)
    mult, shift = multipliers(0.03, w.quant.scale, 0.07)
    zp_in, zp_out = x_t.quant.zero_point[0], y_t.quant.zero_point[0]
    ref = naive.depthwise_conv2d(x, w.data, b.data, zp_in, zp_out, mult, shift, naive.act_range(act.value, 0.07, zp_out),
                                 1, (stride, stride), (dil, dil), same, DEPTHWISE_ROUNDING[semantics])  # fmt: skip
    np.testing.assert_array_equal(r.outputs[0], ref)
    zero_macs, macs = naive.depthwise_zero_macs(x, w.data, zp_in, 1, (stride, stride), same, (dil, dil))
    e = r.events[0]
    assert (e.macs, e.zero_macs, e.output_zeros) == (macs, zero_macs, int((ref == zp_out).sum()))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_fully_connected(seed, semantics):
    rng = np.random.default_rng(seed)
    n_in, n_out, batch = int(rng.integers(1, 300)), int(rng.integers(1, 40)), 1 + seed % 2
    per_channel = seed % 2 == 0
    x_t = act_t("x", (batch, n_in), 0.2, int(rng.integers(-50, 50)))
    y_t = act_t("y", (batch, n_out), 0.5, int(rng.integers(-50, 50)))
    w = weights(rng, (n_out, n_in), n_out if per_channel else 1)
    b = bias(rng, n_out)
    g = one_op(OpKind.FULLY_CONNECTED, [x_t], y_t, OpAttrs(activation=ACTS[seed % 4]), (w, b))
    x = random_x(rng, x_t.shape, x_t.quant.zero_point[0])
    r = run_graph(g, x, semantics=semantics)
    mult, shift = multipliers(0.2, w.quant.scale, 0.5)
    act = naive.act_range(ACTS[seed % 4].value, 0.5, y_t.quant.zero_point[0])
    ref = naive.fully_connected(x, w.data, b.data, x_t.quant.zero_point[0], 0, y_t.quant.zero_point[0], mult, shift, act,
                                "ruy" if semantics == "litert" else "tflite")  # fmt: skip
    np.testing.assert_array_equal(r.outputs[0], ref)
    xz = (x == x_t.quant.zero_point[0])[:, :, None] | (w.data.T == 0)[None]
    assert r.events[0].zero_macs == int(xz.sum()) and r.events[0].macs == batch * n_in * n_out


@pytest.mark.parametrize("kind", [OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D])
@pytest.mark.parametrize("seed", range(4))
def test_pool2d(kind, seed):
    rng = np.random.default_rng(seed)
    f, stride = (2, 3, 25, 3)[seed], (2, 1, 25, 2)[seed]
    pad = Padding.SAME if seed % 2 else Padding.VALID
    h, w, c = (8, 7, 25, 9)[seed], (8, 5, 5, 9)[seed], int(rng.integers(1, 20))
    fw = min(f, w) if pad is Padding.VALID else f
    oh, _ = naive._pad_before(h, f, stride, 1, pad is Padding.SAME)
    ow, _ = naive._pad_before(w, fw, stride, 1, pad is Padding.SAME)
    zp = int(rng.integers(-10, 10))
    x_t, y_t = act_t("x", (1, h, w, c), 0.1, zp), act_t("y", (1, oh, ow, c), 0.1, zp)
    attrs = OpAttrs(padding=pad, stride_h=stride, stride_w=stride, filter_h=f, filter_w=fw, activation=ACTS[seed % 3])
    x = random_x(rng, x_t.shape, zp)
    out = run_graph(one_op(kind, [x_t], y_t, attrs), x).outputs[0]
    act = naive.act_range(attrs.activation.value, 0.1, zp)
    ref = naive.pool2d(
        x, "avg" if kind is OpKind.AVERAGE_POOL_2D else "max", (f, fw), (stride, stride), pad is Padding.SAME, act
    )
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("seed", range(8))
def test_add(seed):
    rng = np.random.default_rng(seed)
    s1, s2, so = rng.uniform(0.01, 0.5, 3)
    z1, z2, zo = (int(v) for v in rng.integers(-128, 128, 3))
    shape = (1, 4, 5, int(rng.integers(1, 30))) if seed < 4 else (1, 16, 9, int(rng.integers(8, 40)))  # table path
    a_t, b_t, y_t = act_t("a", shape, s1, z1), act_t("b", shape, s2, z2), act_t("y", shape, so, zo)
    a, b = random_x(rng, shape, z1), random_x(rng, shape, z2)
    r = run_graph(one_op(OpKind.ADD, [a_t, b_t], y_t, OpAttrs(activation=ACTS[seed % 4])), [a, b])
    ref = naive.add(a, b, s1, z1, s2, z2, so, zo, naive.act_range(ACTS[seed % 4].value, so, zo))
    np.testing.assert_array_equal(r.outputs[0], ref)
    assert r.events[0].output_zeros == int((ref == zo).sum())


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("semantics", ["litert", "tflm"])
def test_softmax(seed, semantics):
    rng = np.random.default_rng(seed)
    depth, s_in = int(rng.integers(2, 40)), float(rng.uniform(0.01, 0.5))
    x_t, y_t = act_t("x", (3, depth), s_in, 5), act_t("y", (3, depth), 1 / 256, -128)
    beta = (1.0, 0.5, 2.0, 1.0, 1.0)[seed]
    x = random_x(rng, x_t.shape, 5)
    x[0] = 17  # an all-equal row
    out = run_graph(one_op(OpKind.SOFTMAX, [x_t], y_t, OpAttrs(beta=beta)), x, semantics=semantics).outputs[0]
    ref = naive.softmax_lut(x, s_in, beta, 1 / 256, -128) if semantics == "litert" else naive.softmax_ref(x, s_in, beta)
    np.testing.assert_array_equal(out, ref)


def test_reshape_aliases_and_copies():
    x_t, y_t = act_t("x", (1, 1, 1, 12), 0.1, 3), act_t("y", (1, 12), 0.1, 3)
    shape_t = Tensor("s", (2,), DType.INT32, None, np.array([1, 12], np.int32))
    g = one_op(OpKind.RESHAPE, [x_t], y_t, consts=(shape_t,))
    x = np.arange(-6, 6, dtype=np.int8).reshape(1, 1, 1, 12)
    r = run_graph(g, x)
    np.testing.assert_array_equal(r.outputs[0], x.reshape(1, 12))
    assert r.events[0].output_zeros == 1


def test_unsupported_variant_names_kind_and_layer():
    x_t, y_t = act_t("x", (1, 4), 0.1, 0), Tensor("y", (1, 4), DType.INT32)
    g = one_op(OpKind.SOFTMAX, [x_t], y_t)
    with pytest.raises(UnsupportedOpError, match=r"SOFTMAX \(layer 0 'layer'\): tensor 'y' is int32"):
        run_graph(g, np.zeros((1, 4), np.int8))


def test_float_activation_is_unsupported():
    x_t = Tensor("x", (1, 4), DType.FLOAT32)
    y_t = act_t("y", (1, 2), 0.1, 0)
    g = one_op(OpKind.FULLY_CONNECTED, [x_t], y_t, consts=(weights(np.random.default_rng(0), (2, 4), 1),))
    with pytest.raises(UnsupportedOpError, match="FULLY_CONNECTED"):
        run_graph(g, np.zeros((1, 4), np.int8))


def test_parameter_rows_are_filled_by_name():
    row = pack(conv.Row, x=3, by_pixel=True)
    assert row.size == len(conv.Row) and (row[conv.Row.x], row[conv.Row.by_pixel], row.sum()) == (3, 1, 4)
    with pytest.raises(ValueError, match="no field"):
        pack(conv.Row, by_pixle=1)


# The dot path's micro-kernels on their own: 4 x 4 blocks plus leftover pixels and channels, rows of
# k = 16 .. 592 (whole 64-byte steps and 16-byte tails), and the extreme products 255 x -128.
@pytest.mark.parametrize(("tn", "k", "oc"), [(1, 16, 1), (4, 16, 4), (7, 48, 5), (13, 64, 17), (56, 144, 16),
                                             (9, 208, 6), (28, 288, 33), (12, 576, 64), (6, 592, 3)])  # fmt: skip
@pytest.mark.parametrize("kernel", ["portable", "vnni"])
def test_dot_block_kernels(tn, k, oc, kernel):
    from tinysim.engine.ops import vnni

    if kernel == "vnni" and not vnni.HAVE_VNNI:
        pytest.skip("no AVX-512 VNNI on this host")
    rng = np.random.default_rng(tn * k + oc)
    patch = rng.integers(0, 256, tn * k + 32).astype(np.uint8)  # + slack past the block
    w = rng.integers(-128, 128, oc * k + 32).astype(np.int8)
    patch[:k], w[:k] = 255, -128  # the largest products
    bias = rng.integers(-(2**20), 2**20, oc).astype(np.int32)
    acc = np.full(tn * oc + 8, 7, np.int32)
    fn = vnni.dot_block_vnni if kernel == "vnni" else conv.dot_block
    fn(patch, w, bias, acc, tn, k, oc)
    ref = patch[: tn * k].reshape(tn, k).astype(np.int64) @ w[: oc * k].reshape(oc, k).astype(np.int64).T + bias
    np.testing.assert_array_equal(acc[: tn * oc], ref.ravel())
    assert (acc[tn * oc :] == 7).all()  # nothing written past the block
