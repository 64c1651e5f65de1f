"""TRANSPOSE_CONV, int8 (per-channel int8 weights, int32 bias) and int16x8 (int64 bias).

Inputs: output shape (int32; when it is a graph input, as in TFLM's seanet models, it must equal the
output tensor's static shape, checked at run time), OHWI weights, input, optional bias. As TFLite's
reference_integer_ops::TransposeConv: every input pixel scatters x * w into the output pixels its taps
reach (out = in * stride - pad + tap; padding from ComputePaddingHeightWidth on the output size), summed
in a scratch accumulator, then bias and requantization per output channel:
- int8: the sums fit int32; LiteRT's optimized kernel (TransposeConvV2) requantizes with
  optimized_ops::Quantize, whole blocks of 8 channels ruy-style and the tail with TFLite's rounding,
  as its depthwise conv (`depthwise.requantize_blocks`); TFLM rounds TFLite's way throughout.
- int16x8: int64 sums and TFLite's int64 MultiplyByQuantizedMultiplier (`conv_int16.requantize16`).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, activation_range, quantize_multipliers, requantize_row
from tinysim.engine.jit import kernel
from tinysim.engine.ops.conv_int16 import REDUCED, activation_range16, bias64, requantize16
from tinysim.engine.ops.depthwise import requantize_blocks
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.errors import WorkloadError
from tinysim.events import Events
from tinysim.ops import tap_counts, window
from tinysim.workload.graph import DType, Op, Padding

TransposeConvRow = IntEnum("TransposeConvRow", """
    x y w bias mult shift zero_w n h wd c oh ow oc kh kw sh sw ph pw zp_in zp_out lo hi mode wide shape
""", start=0)  # fmt: skip
Row = TransposeConvRow  # what prepare and the kernels say; the class name shows in pack's errors
WIDE = REDUCED  # `mode` of the int16x8 path (RUY and TFLITE are the int8 output stages)


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    wide = ctx.tensor(op, 2).dtype is DType.INT16
    dtypes = (DType.INT16,) if wide else (DType.INT8,)
    x, y = ctx.act(op, 2, dtypes=dtypes), ctx.act(op, 0, output=True, dtypes=dtypes)
    w = ctx.const(op, 1, DType.INT8)
    shape = ctx.act(op, 0, dtypes=(DType.INT32,), constant=True)
    if w is None or w.quant is None or len(w.shape) != 4 or len(x.shape) != 4 or shape.shape != (4,):
        raise ctx.fail(op, "needs a 4-vector output shape, a 4-D input and 4-D int8 OHWI weights with quantization")
    n, h, wd, c = x.shape
    oc, kh, kw, ic = w.shape
    fixed = shape.is_constant and tuple(int(v) for v in shape.constant()) != y.shape
    if ic != c or fixed or y.shape[0] != n or y.shape[3] != oc:
        raise ctx.fail(op, f"weights {w.shape}, input {x.shape} and output {y.shape} do not agree")
    if any(z != 0 for z in w.quant.zero_point):
        raise ctx.fail(op, "weights must be symmetric (zero point 0)")
    if wide and (zp(x) != 0 or zp(y) != 0):
        raise ctx.fail(op, "int16 activations need zero point 0")
    a = op.attrs
    _, oh, ow, _ = y.shape
    same = a.padding is Padding.SAME
    ph, pw = window(oh, kh, a.stride_h, 1, same)[1], window(ow, kw, a.stride_w, 1, same)[1]
    w_scales = np.broadcast_to(np.asarray(w.quant.scale, np.float64), (oc,))
    mult, shift = quantize_multipliers(scale(x) * w_scales / scale(y))  # PopulateConvolutionQuantizationParams
    bias, bias_bytes = bias64(ctx, op, 3, oc, (DType.INT64,) if wide else (DType.INT32,))
    lo, hi = (activation_range16 if wide else activation_range)(a.activation.value, scale(y), zp(y))
    wk = w.constant().astype(np.int32)
    mode = WIDE if wide else ctx.rounding_mac
    params = pack(
        Row, x=ctx.offset(op, 2), y=ctx.offset(op, 0, output=True), w=ctx.i16.add(wk),
        bias=ctx.i32.add(bias.view(np.int32)), mult=ctx.i32.add(mult), shift=ctx.i32.add(shift),
        zero_w=ctx.i32.add((wk == 0).sum(axis=0)), n=n, h=h, wd=wd, c=c, oh=oh, ow=ow, oc=oc, kh=kh, kw=kw,
        sh=a.stride_h, sw=a.stride_w, ph=ph, pw=pw, zp_in=zp(x), zp_out=zp(y), lo=lo, hi=hi, mode=mode, wide=wide,
        shape=-1 if shape.is_constant else ctx.offset(op, 0),
    )  # fmt: skip
    valid = int(tap_counts(oh, h, kh, a.stride_h, 1, ph).sum() * tap_counts(ow, wd, kw, a.stride_w, 1, pw).sum())
    macs = n * valid * c * oc
    out_elems = y.size
    item = y.nbytes // max(out_elems, 1)
    events = Events(
        macs=macs, weight_bytes_read=macs + (bias_bytes // oc * out_elems if bias_bytes else 0),
        act_bytes_read=item * macs, act_bytes_written=y.nbytes, elementwise=out_elems, output_elements=out_elems,
        weight_bytes_unique=w.nbytes + bias_bytes, act_bytes_unique_read=x.nbytes,
    )  # fmt: skip
    return OpPlan(params, events, scratch32=2 * out_elems)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n, h, wd, c, oh, ow, oc = p[Row.n], p[Row.h], p[Row.wd], p[Row.c], p[Row.oh], p[Row.ow], p[Row.oc]
    kh, kw, x, y, w = p[Row.kh], p[Row.kw], p[Row.x], p[Row.y], p[Row.w]
    bias, mult, shift, zero_w = p[Row.bias], p[Row.mult], p[Row.shift], p[Row.zero_w]
    item = 2 if p[Row.wide] else 1
    if p[Row.shape] >= 0:  # a run-time output shape (a graph input): only the model's static one is supported
        given = arena[p[Row.shape] : p[Row.shape] + 16].view(np.int32)
        if given[0] != n or given[1] != oh or given[2] != ow or given[3] != oc:
            raise WorkloadError("TRANSPOSE_CONV: the output shape input differs from the model's output shape")
    xs = arena[x : x + item * n * h * wd * c]
    acc = s32[: 2 * n * oh * ow * oc].view(np.int64)
    geometry = (n, h, wd, c, oh, ow, oc, kh, kw, p[Row.sh], p[Row.sw], p[Row.ph], p[Row.pw])
    wv = i16[w : w + oc * kh * kw * c]
    zw = i32[zero_w : zero_w + kh * kw * c]
    if item == 2:
        zero_macs = scatter(xs.view(np.int16), wv, zw, acc, geometry, 0, count)
    else:
        zero_macs = scatter(xs, wv, zw, acc, geometry, p[Row.zp_in], count)
    out = arena[y : y + item * n * oh * ow * oc]
    b64, m32, s32_ = i32[bias : bias + 2 * oc].view(np.int64), i32[mult : mult + oc], i32[shift : shift + oc]
    if item == 2:
        zeros = finish16(acc, b64, m32, s32_, out.view(np.int16), p[Row.lo], p[Row.hi])
    else:
        zeros = finish8(acc, b64, m32, s32_, out, p[Row.mode], p[Row.zp_out], p[Row.lo], p[Row.hi])
    return zero_macs, zeros


@kernel
def scatter(x, w, zero_w, acc, geometry, zp_in, count):
    """acc[b, oy, ox, o] = sum of (x - zp_in) * w[o, i, j, ci] over the input pixels whose tap (i, j)
    lands on (oy, ox). Returns the MACs with a zero operand (x == zp_in or w == 0)."""
    n, h, wd, c, oh, ow, oc, kh, kw, sh, sw, ph, pw = geometry
    acc[:] = 0
    k = kh * kw * c
    zero_macs = 0
    for b in range(n):
        for iy in range(h):
            for ix in range(wd):
                xb = ((b * h + iy) * wd + ix) * c
                for i in range(kh):
                    oy = iy * sh - ph + i
                    if oy < 0 or oy >= oh:
                        continue
                    for j in range(kw):
                        ox = ix * sw - pw + j
                        if ox < 0 or ox >= ow:
                            continue
                        ab = ((b * oh + oy) * ow + ox) * oc
                        tap = (i * kw + j) * c
                        for o in range(oc):
                            s = np.int64(0)
                            for ci in range(c):
                                s += (np.int64(x[xb + ci]) - zp_in) * np.int64(w[o * k + tap + ci])
                            acc[ab + o] += s
                        if count:
                            for ci in range(c):
                                zero_macs += oc if x[xb + ci] == zp_in else zero_w[tap + ci]
    return zero_macs


@kernel
def finish8(acc, bias, mult, shift, out, mode, zp_out, lo, hi):
    """Bias, then requantize one pixel (oc channels) at a time. Returns the outputs equal to zp_out."""
    oc = bias.shape[0]
    zeros = 0
    for base in range(0, acc.shape[0], oc):
        row = acc[base : base + oc]
        for o in range(oc):
            row[o] = np.int64(np.int32(row[o] + bias[o]))  # LiteRT's int32 scratch
        if mode == RUY:
            zeros += requantize_blocks(row, mult, shift, mode, zp_out, lo, hi, out, base)
        else:
            zeros += requantize_row(row, mult, shift, TFLITE, zp_out, lo, hi, out, base)
    return zeros


@kernel
def finish16(acc, bias, mult, shift, out, lo, hi):
    oc = bias.shape[0]
    zeros = 0
    for q in range(acc.shape[0]):
        o = q % oc
        v = min(max(requantize16(acc[q] + bias[o], mult[o], shift[o], REDUCED), lo), hi)
        out[q] = v
        zeros += v == 0
    return zeros
