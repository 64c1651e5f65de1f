"""FULLY_CONNECTED, int8 (TFLite integer_ops::FullyConnected), per-tensor or per-channel weights.

(out, in) weights make each output one contiguous dot product; the input zero point is
folded into the bias (bias - zp_in * sum(w)) since every input element is used. On AVX2 hosts
the products run on madd16's `vpmaddwd` row kernel (weights packed by 8 outputs, the input
widened to int16 once per batch row).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import activation_range, quantize_multipliers
from tinysim.engine.jit import kernel
from tinysim.engine.ops import conv_int16
from tinysim.engine.ops.madd16 import HAVE_MADD16, madd_row, pack_weights
from tinysim.engine.ops.requant import requantize_row8
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import DType, Op

FullyConnectedRow = IntEnum(
    "FullyConnectedRow", "wide x y w bias mult shift zero_w batches n_in n_out zp_in zp_out lo hi mode kr ocp", start=0
)
Row = FullyConnectedRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    wide = ctx.tensor(op, 0).dtype is DType.INT16
    x = ctx.tensor(op, 0) if wide else ctx.act(op, 0)
    y = ctx.tensor(op, 0, output=True) if wide else ctx.act(op, 0, output=True)
    w = ctx.const(op, 1, DType.INT8)
    if w is None or w.quant is None or len(w.shape) != 2:
        raise ctx.fail(op, "needs 2-D (out, in) int8 weights with quantization")
    n_out, n_in = w.shape
    if x.size % n_in or y.size != x.size // n_in * n_out:
        raise ctx.fail(op, f"input of {x.size} elements does not match weights {w.shape} and output {y.shape}")
    legacy = op.inputs[1] in ctx.legacy  # uint8 weights: per-tensor, any zero point (subtracted below)
    if any(z != 0 for z in w.quant.zero_point) and not (legacy and len(w.quant.scale) == 1):
        raise ctx.fail(op, "weights must be symmetric (zero point 0)")
    if x.quant is None or y.quant is None:
        raise ctx.fail(op, "needs quantized input and output")
    batches = x.size // n_in
    if len(w.quant.scale) == 1:  # per-tensor: TFLite's GetQuantizedConvolutionMultipler multiplies the two
        # scales in float32, then divides in double (found by tests/test_op_fuzz.py: it moves ties)
        product = np.full(n_out, float(np.float32(scale(x)) * np.float32(w.quant.scale[0])))
    else:  # per-channel: double throughout
        product = scale(x) * np.asarray(w.quant.scale, np.float64)
    mult, shift = quantize_multipliers(product / scale(y))
    if wide:
        return conv_int16.prepare_fc(ctx, op, mult, shift)
    b = ctx.const(op, 2, DType.INT32)
    wk = w.constant().astype(np.int32) - zp(w)  # zp(w) != 0 only for legacy uint8: -255..255
    bias = (b.constant().astype(np.int64) if b is not None else np.zeros(n_out, np.int64)) - zp(x) * wk.sum(axis=1)
    lo, hi = activation_range(op.attrs.activation.value, scale(y), zp(y))
    kr, ocp = n_in + n_in % 2, -(-n_out // 8) * 8  # madd16: the row padded to pairs, outputs to 8
    if HAVE_MADD16:
        w_at, bias_at = ctx.i16.add(pack_weights(wk, kr)), ctx.i32.add(np.pad(bias, (0, ocp - n_out)))
    else:
        w_at, bias_at = ctx.i16.add(wk), ctx.i32.add(bias)
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), w=w_at, bias=bias_at, kr=kr, ocp=ocp,
        mult=ctx.i32.add(mult), shift=ctx.i32.add(shift), zero_w=ctx.i32.add((wk == 0).sum(axis=0)),
        batches=batches, n_in=n_in, n_out=n_out, zp_in=zp(x), zp_out=zp(y), lo=lo, hi=hi, mode=ctx.rounding_mac,
    )  # fmt: skip
    macs = batches * n_in * n_out
    out_elems = batches * n_out
    events = Events(
        macs=macs, weight_bytes_read=macs + (4 * out_elems if b is not None else 0), act_bytes_read=macs,
        act_bytes_written=out_elems, elementwise=out_elems, output_elements=out_elems,
        weight_bytes_unique=w.nbytes + (4 * n_out if b is not None else 0), act_bytes_unique_read=x.nbytes,
    )  # fmt: skip
    return OpPlan(params, events, scratch16=kr, scratch32=ocp)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.wide] == 1:  # int16x8: a conv_int16 row
        return conv_int16.evaluate(p, arena, i16, i32, f32, s16, s32, count)
    batches, n_in, n_out = p[Row.batches], p[Row.n_in], p[Row.n_out]
    x, y, w, bias = p[Row.x], p[Row.y], p[Row.w], p[Row.bias]
    mult, shift, zero_w = p[Row.mult], p[Row.shift], p[Row.zero_w]
    if HAVE_MADD16:  # a compile-time constant: one branch is compiled
        kr, ocp = p[Row.kr], p[Row.ocp]
        return fully_connected16(
            arena[x : x + batches * n_in], i16[w : w + ocp * kr], i32[bias : bias + ocp], i32[mult : mult + n_out],
            i32[shift : shift + n_out], i32[zero_w : zero_w + n_in], arena[y : y + batches * n_out], s32[:ocp],
            s16[:kr], batches, n_in, n_out, p[Row.zp_in], p[Row.zp_out], p[Row.lo], p[Row.hi], p[Row.mode], count,
        )  # fmt: skip
    return fully_connected(
        arena[x : x + batches * n_in].reshape(batches, n_in), i16[w : w + n_out * n_in].reshape(n_out, n_in),
        i32[bias : bias + n_out], i32[mult : mult + n_out], i32[shift : shift + n_out], i32[zero_w : zero_w + n_in],
        arena[y : y + batches * n_out], s32[:n_out], p[Row.zp_in], p[Row.zp_out], p[Row.lo], p[Row.hi], p[Row.mode],
        count,
    )  # fmt: skip


@kernel
def fully_connected(x, w, bias, mult, shift, zero_w, out, acc, zp_in, zp_out, lo, hi, mode, count):
    """Returns (MACs with a zero operand, outputs equal to the output zero point)."""
    n_out, n_in = w.shape
    zero_macs = 0
    out_zeros = 0
    for b in range(x.shape[0]):
        if count:
            for i in range(n_in):
                zero_macs += n_out if x[b, i] == zp_in else zero_w[i]
        for o in range(n_out):
            a = np.int32(bias[o])
            for i in range(n_in):
                a += np.int32(x[b, i]) * np.int32(w[o, i])
            acc[o] = a
        out_zeros += requantize_row8(acc, mult, shift, mode, zp_out, lo, hi, out, b * n_out)
    return zero_macs, out_zeros


@kernel
def fully_connected16(x, wp, bias, mult, shift, zero_w, out, acc, x16, batches, n_in, n_out, zp_in, zp_out, lo, hi,
                      mode, count):  # fmt: skip
    """`fully_connected` on `madd_row`: each batch row widened to int16 (x16), weights packed by
    pack_weights, bias and acc padded to whole 8-output blocks."""
    kr, ocp = x16.shape[0], acc.shape[0]
    zero_macs = 0
    out_zeros = 0
    zp8 = np.int8(zp_in)
    for b in range(batches):
        row = x[b * n_in : (b + 1) * n_in]
        if count:
            for i in range(n_in):
                zero_macs += n_out if row[i] == zp8 else zero_w[i]
        for i in range(n_in):
            x16[i] = row[i]
        if kr > n_in:
            x16[n_in] = 0
        madd_row(x16, wp, bias, acc, kr, ocp)
        out_zeros += requantize_row8(acc[:n_out], mult, shift, mode, zp_out, lo, hi, out, b * n_out)
    return zero_macs, out_zeros
