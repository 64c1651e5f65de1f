"""CONV_2D, int8 activations with per-channel int8 weights (TFLite integer_ops::ConvPerChannel).

Each output pixel gathers its receptive field into an int16 patch in (kh, kw, ic) order, the
order of an OHWI weight row, so every output channel is one contiguous dot product that LLVM
vectorises. Padded taps are filled with the input zero point and the bias is pre-folded with
-zp_in * sum(w): a padded tap then contributes exactly 0, as the reference's skipped tap does.
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.events import Events
from tinysim.engine.fixedpoint import activation_range, quantize_multipliers, requantize_row
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, row, scale, valid_taps, window, zp
from tinysim.workload.graph import DType, Op, Padding

OPCODE = 1
BY_CHANNEL_BELOW = 64  # patch length under which the kernel vectorises over output channels


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    w = ctx.const(op, 1, DType.INT8)
    b = ctx.const(op, 2, DType.INT32)
    if w is None or w.quant is None or len(w.shape) != 4 or len(x.shape) != 4:
        raise ctx.fail(op, "needs a 4-D input and 4-D int8 OHWI weights with quantization")
    n, h, wd, c = x.shape
    oc, kh, kw, ic = w.shape
    if ic != c:
        raise ctx.fail(op, f"weights expect {ic} input channels, input has {c}")
    a = op.attrs
    same = a.padding is Padding.SAME
    oh, ph = window(h, kh, a.stride_h, a.dilation_h, same)
    ow, pw = window(wd, kw, a.stride_w, a.dilation_w, same)
    if y.shape != (n, oh, ow, oc):
        raise ctx.fail(op, f"output shape {y.shape} != computed {(n, oh, ow, oc)}")
    if any(z != 0 for z in w.quant.zero_point):
        raise ctx.fail(op, "weights must be symmetric (zero point 0)")
    w_scales = np.broadcast_to(np.asarray(w.quant.scale, np.float64), (oc,))
    mult, shift = quantize_multipliers(scale(x) * w_scales / scale(y))
    wk = w.data.reshape(oc, kh * kw * ic).astype(np.int32)
    bias = (b.data.astype(np.int64) if b is not None else np.zeros(oc, np.int64)) - zp(x) * wk.sum(axis=1)
    lo, hi = activation_range(a.activation.value, scale(y), zp(y))
    taps = valid_taps(h, oh, kh, a.stride_h, a.dilation_h, ph) * valid_taps(wd, ow, kw, a.stride_w, a.dilation_w, pw)
    macs = n * taps * ic * oc
    k = kh * kw * ic
    by_channel = k < BY_CHANNEL_BELOW
    params = row(
        ctx.offset(op, 0), ctx.offset(op, 0, output=True), ctx.i16.add(wk.T if by_channel else wk), ctx.i32.add(bias),
        ctx.i32.add(mult), ctx.i32.add(shift), ctx.i32.add((wk == 0).sum(axis=0)),
        n, h, wd, c, oh, ow, oc, kh, kw, a.stride_h, a.stride_w, a.dilation_h, a.dilation_w, ph, pw,
        zp(x), zp(y), lo, hi, ctx.rounding_mac, int(by_channel),
    )  # fmt: skip
    out_elems = n * oh * ow * oc
    bias_bytes = 4 * oc if b is not None else 0
    events = Events(
        macs=macs, weight_bytes_read=macs + (4 * out_elems if b is not None else 0), act_bytes_read=macs,
        act_bytes_written=out_elems, elementwise=out_elems, output_elements=out_elems,
        weight_bytes_unique=w.nbytes + bias_bytes, act_bytes_unique_read=x.nbytes,
    )  # fmt: skip
    return OpPlan(OPCODE, params, events, scratch16=k, scratch32=oc)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n, h, wd, c, oh, ow, oc, kh, kw = p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]
    k = kh * kw * c
    x = arena[p[0] : p[0] + n * h * wd * c]
    out = arena[p[1] : p[1] + n * oh * ow * oc]
    w = i16[p[2] : p[2] + oc * k]
    return conv2d(
        x, w, i32[p[3] : p[3] + oc], i32[p[4] : p[4] + oc], i32[p[5] : p[5] + oc], i32[p[6] : p[6] + k], out,
        s16[:k], s32[:oc], n, h, wd, c, oh, ow, oc, kh, kw, p[16], p[17], p[18], p[19], p[20], p[21], p[22], p[23],
        p[24], p[25], p[26], p[27] == 1, count,
    )  # fmt: skip


@kernel
def conv2d(x, w, bias, mult, shift, zero_w, out, patch, acc, n, h, wd, c, oh, ow, oc, kh, kw,
           sh, sw, dh, dw, ph, pw, zp_in, zp_out, lo, hi, mode, by_channel, count):  # fmt: skip
    """Returns (MACs with a zero operand, outputs equal to the output zero point).

    `w` is (oc, k) flattened when `by_channel` is False (one long dot product per output
    channel), else (k, oc): short patches then update all channels at once, which
    vectorises over channels instead of over a too-short k.
    """
    k = kh * kw * c
    zero_macs = 0
    out_zeros = 0
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                # Gather the receptive field; a padded tap reads zp_in, i.e. real zero.
                t = 0
                for i in range(kh):
                    iy = oy * sh - ph + i * dh
                    for j in range(kw):
                        ix = ox * sw - pw + j * dw
                        if 0 <= iy < h and 0 <= ix < wd:
                            base = ((b * h + iy) * wd + ix) * c
                            for ci in range(c):
                                patch[t + ci] = x[base + ci]
                            if count:
                                for ci in range(c):
                                    zero_macs += oc if x[base + ci] == zp_in else zero_w[t + ci]
                        else:
                            for ci in range(c):
                                patch[t + ci] = zp_in
                        t += c
                if by_channel:
                    for o in range(oc):
                        acc[o] = bias[o]
                    for q in range(k):
                        xv = np.int32(patch[q])
                        for o in range(oc):
                            acc[o] += xv * np.int32(w[q * oc + o])
                else:
                    for o in range(oc):
                        a = np.int32(bias[o])
                        for q in range(k):
                            a += np.int32(patch[q]) * np.int32(w[o * k + q])
                        acc[o] = a
                out_zeros += requantize_row(acc, mult, shift, mode, zp_out, lo, hi, out, ((b * oh + oy) * ow + ox) * oc)
    return zero_macs, out_zeros
