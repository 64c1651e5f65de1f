"""DEPTHWISE_CONV_2D, int8 with per-channel weights (TFLite integer_ops::DepthwiseConvPerChannel).

Output channel c*M + m reads input channel c (M = depth multiplier). The loop runs over
channels innermost, contiguous in both the NHWC input and the 1HW(C*M) weights; padded taps
are skipped as in the reference, so no bias folding is needed. Zero-operand MACs are counted on
the input, once per value (zero_count), not per MAC.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, activation_range, requantize_row
from tinysim.engine.jit import kernel
from tinysim.engine.ops import conv_int16
from tinysim.engine.ops.requant import requantize_row8
from tinysim.engine.ops.zero_count import count_input_zeros, zero_tap_table
from tinysim.engine.program import OpPlan, PrepareContext, conv_geometry, pack, scale, valid_taps, zp
from tinysim.events import Events
from tinysim.ops import tap_counts
from tinysim.workload.graph import DType, Op

# The parameter row; the second line counts zero-operand MACs (zero_count), the last is the
# depth-multiplier-1 path's own fields (see _row_consts).
DepthwiseRow = IntEnum("DepthwiseRow", """
    wide x y w bias mult shift n h wd c oh ow m kh kw sh sw dh dw ph pw zp_in zp_out lo hi mode
    static_zero zero_table ry rx nx ny
    rows bias_row mult_row shift_row w_row
""", start=0)  # fmt: skip
Row = DepthwiseRow  # what prepare and the kernels say; the class name shows in pack's errors


def _mode(ctx: PrepareContext, op: Op) -> int:
    """Output rounding: LiteRT's int8 kernel rounds ruy's way (see requantize_blocks), its legacy
    uint8 kernel (depthwiseconv_uint8) with gemmlowp's RoundingDivideByPOT, as TFLite's reference."""
    return RUY if ctx.semantics == "litert" and op.inputs[0] not in ctx.legacy else TFLITE


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if ctx.tensor(op, 0).dtype is DType.INT16:
        return conv_int16.prepare_conv(ctx, op, depthwise=True)
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    w = ctx.const(op, 1, DType.INT8)
    b = ctx.const(op, 2, DType.INT32)
    if w is None or w.quant is None or len(w.shape) != 4 or len(x.shape) != 4 or w.shape[0] != 1:
        raise ctx.fail(op, "needs a 4-D input and 1HW(C*M) int8 weights with quantization")
    n, h, wd, c = x.shape
    _, kh, kw, oc = w.shape
    m = oc // c if c else 0
    if m * c != oc or (op.attrs.depth_multiplier not in (0, m)):
        raise ctx.fail(op, f"{oc} output channels is not input channels {c} x depth multiplier")
    a = op.attrs
    oh, ph, ow, pw, mult, shift = conv_geometry(ctx, op, x, w, y, kh, kw, oc)
    wk = w.constant().reshape(kh, kw, c, m).astype(np.int32) - zp(w)  # zp(w) != 0 only for legacy uint8
    bias = b.constant() if b is not None else np.zeros(oc, np.int32)
    lo, hi = activation_range(a.activation.value, scale(y), zp(y))
    taps = valid_taps(h, oh, kh, a.stride_h, a.dilation_h, ph) * valid_taps(wd, ow, kw, a.stride_w, a.dilation_w, pw)
    macs = n * taps * oc
    valid = n * np.outer(tap_counts(h, oh, kh, a.stride_h, a.dilation_h, ph),
                         tap_counts(wd, ow, kw, a.stride_w, a.dilation_w, pw))  # fmt: skip
    zero_w = (wk == 0).sum(axis=3)  # (kh, kw, c): a read of input channel c by a tap feeds m MACs
    table, ry, rx = zero_tap_table(h, oh, kh, a.stride_h, a.dilation_h, ph, wd, ow, kw, a.stride_w, a.dilation_w, pw,
                                   m - zero_w)  # fmt: skip
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), w=ctx.i16.add(wk), bias=ctx.i32.add(bias),
        mult=ctx.i32.add(mult), shift=ctx.i32.add(shift), static_zero=int((valid[:, :, None] * zero_w).sum()),
        zero_table=ctx.i32.add(table), ry=ctx.i32.add(ry), rx=ctx.i32.add(rx), nx=table.shape[1], ny=table.shape[0],
        n=n, h=h, wd=wd, c=c, oh=oh, ow=ow, m=m, kh=kh, kw=kw, sh=a.stride_h, sw=a.stride_w, dh=a.dilation_h,
        dw=a.dilation_w, ph=ph, pw=pw, zp_in=zp(x), zp_out=zp(y), lo=lo, hi=hi, mode=_mode(ctx, op),
        **_row_consts(ctx, wk, bias, mult, shift, m, ow),
    )  # fmt: skip
    out_elems = n * oh * ow * oc
    events = Events(
        macs=macs, weight_bytes_read=macs + (4 * out_elems if b is not None else 0), act_bytes_read=macs,
        act_bytes_written=out_elems, elementwise=out_elems, output_elements=out_elems,
        weight_bytes_unique=w.nbytes + (4 * oc if b is not None else 0), act_bytes_unique_read=x.nbytes,
    )  # fmt: skip
    phases = n * h * a.stride_w * -(-wd // a.stride_w) * c if m == 1 and a.stride_w > 1 else 0
    return OpPlan(params, events, scratch16=-(-phases // 2), scratch32=max(oc, ow * oc))


def _row_consts(ctx, wk, bias, mult, shift, m, ow) -> dict[str, int]:
    """Depth multiplier 1: bias, multipliers and weights tiled over an output row, so each tap updates
    a whole row in one contiguous loop."""
    if m != 1:
        return {}
    kh, kw, c, _ = wk.shape
    w2 = wk.reshape(kh * kw, c)
    return {
        "rows": 1, "bias_row": ctx.i32.add(np.tile(bias, ow)), "mult_row": ctx.i32.add(np.tile(mult, ow)),
        "shift_row": ctx.i32.add(np.tile(shift, ow)), "w_row": ctx.i16.add(np.tile(w2, (1, ow))),
    }  # fmt: skip


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.wide] == 1:  # int16x8: a conv_int16 row
        return conv_int16.evaluate(p, arena, i16, i32, f32, s16, s32, count)
    n, h, wd, c, oh, ow, m = p[Row.n], p[Row.h], p[Row.wd], p[Row.c], p[Row.oh], p[Row.ow], p[Row.m]
    kh, kw, sh, sw, dh, dw = p[Row.kh], p[Row.kw], p[Row.sh], p[Row.sw], p[Row.dh], p[Row.dw]
    ph, pw, zp_in, zp_out, lo, hi = p[Row.ph], p[Row.pw], p[Row.zp_in], p[Row.zp_out], p[Row.lo], p[Row.hi]
    oc = c * m
    x = arena[p[Row.x] : p[Row.x] + n * h * wd * c]
    out = arena[p[Row.y] : p[Row.y] + n * oh * ow * oc]
    if p[Row.rows] == 1:
        r = ow * c
        w, bias, mult, shift = p[Row.w_row], p[Row.bias_row], p[Row.mult_row], p[Row.shift_row]
        phases = s16.view(np.int8)[: n * h * sw * -(-wd // sw) * c]
        out_zeros = depthwise_rows(
            x, i16[w : w + kh * kw * r], i32[bias : bias + r], i32[mult : mult + r], i32[shift : shift + r],
            out, s32[:r], phases, n, h, wd, c, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, zp_in, zp_out, lo, hi,
            p[Row.mode],
        )  # fmt: skip
    else:
        w, bias, mult, shift = p[Row.w], p[Row.bias], p[Row.mult], p[Row.shift]
        out_zeros = depthwise_conv2d(
            x, i16[w : w + kh * kw * oc].reshape(kh, kw, oc), i32[bias : bias + oc], i32[mult : mult + oc],
            i32[shift : shift + oc], out, s32[:oc], n, h, wd, c, oh, ow, m, sh, sw, dh, dw, ph, pw, zp_in, zp_out,
            lo, hi, p[Row.mode],
        )  # fmt: skip
    if not count:
        return 0, out_zeros
    table, ry, rx, nx, ny = p[Row.zero_table], p[Row.ry], p[Row.rx], p[Row.nx], p[Row.ny]
    dynamic = count_input_zeros(x, i32[table : table + ny * nx * c], i32[ry : ry + h], i32[rx : rx + wd], n, h, wd,
                                c, nx, zp_in)  # fmt: skip
    return dynamic + p[Row.static_zero], out_zeros


@kernel
def depthwise_conv2d(x, w, bias, mult, shift, out, acc, n, h, wd, c, oh, ow, m,
                     sh, sw, dh, dw, ph, pw, zp_in, zp_out, lo, hi, mode):  # fmt: skip
    """Returns the number of outputs equal to the output zero point."""
    kh, kw, oc = w.shape
    out_zeros = 0
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for o in range(oc):
                    acc[o] = bias[o]
                for i in range(kh):
                    iy = oy * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    for j in range(kw):
                        ix = ox * sw - pw + j * dw
                        if ix < 0 or ix >= wd:
                            continue
                        base = ((b * h + iy) * wd + ix) * c
                        if m == 1:
                            for ci in range(c):
                                acc[ci] += (np.int32(x[base + ci]) - zp_in) * np.int32(w[i, j, ci])
                        else:
                            for ci in range(c):
                                xv = np.int32(x[base + ci]) - zp_in
                                for q in range(m):
                                    acc[ci * m + q] += xv * np.int32(w[i, j, ci * m + q])
                base = ((b * oh + oy) * ow + ox) * oc
                out_zeros += requantize_blocks8(acc, mult, shift, mode, zp_out, lo, hi, out, base)
    return out_zeros


@kernel
def requantize_blocks(acc, mult, shift, mode, zp_out, lo, hi, out, base):
    """`requantize_row` over one pixel's channels as LiteRT's x86 depthwise output stage
    (optimized_ops::Quantize) does it: whole blocks of 8 channels in (emulated) NEON, vqrdmulh then
    a rounding shift with ties toward +inf (`mode`: RUY under litert), the last oc % 8 channels with
    scalar MultiplyByQuantizedMultiplier (TFLITE). Found by tests/test_op_fuzz.py. Any integer acc
    (transpose_conv's is int64); `requantize_blocks8` is the same on int32 accumulators, faster."""
    n = acc.shape[0]
    c8 = n - n % 8
    zeros = requantize_row(acc[:c8], mult[:c8], shift[:c8], mode, zp_out, lo, hi, out, base) if c8 else 0
    if c8 < n:
        zeros += requantize_row(acc[c8:], mult[c8:], shift[c8:], TFLITE, zp_out, lo, hi, out, base + c8)
    return zeros


@kernel
def requantize_blocks8(acc, mult, shift, mode, zp_out, lo, hi, out, base):
    """`requantize_blocks` on int32 accumulators, through `requantize_row8`."""
    n = acc.shape[0]
    c8 = n - n % 8
    zeros = requantize_row8(acc[:c8], mult[:c8], shift[:c8], mode, zp_out, lo, hi, out, base) if c8 else 0
    if c8 < n:
        zeros += requantize_row8(acc[c8:], mult[c8:], shift[c8:], TFLITE, zp_out, lo, hi, out, base + c8)
    return zeros


@kernel
def split_phases(x, phases, n, h, wd, c, sw):
    """phases[b, iy, r, u, :] = x[b, iy, u * sw + r, :]: each column phase of a row made contiguous."""
    wq = -(-wd // sw)
    for b in range(n):
        for iy in range(h):
            row = (b * h + iy) * wd * c
            for r in range(sw):  # column phase r: input columns r, r + sw, ... made contiguous
                dst = np.uint64((((b * h + iy) * sw + r) * wq) * c)
                for u in range(-(-(wd - r) // sw)):
                    src = np.uint64(row + (u * sw + r) * c)
                    d = dst + np.uint64(u * c)
                    for ci in range(c):  # unsigned indices: no wraparound check, no array views
                        phases[d + np.uint64(ci)] = x[src + np.uint64(ci)]


@kernel
def depthwise_rows(x, w, bias, mult, shift, out, acc, phases, n, h, wd, c, oh, ow, kh, kw,
                   sh, sw, dh, dw, ph, pw, zp_in, zp_out, lo, hi, mode):  # fmt: skip
    """Depth multiplier 1, one output row at a time: each tap is one contiguous loop over the row.

    w, bias, mult and shift are tiled over the row (ow * c; w flat (kh * kw, ow * c)). With a column
    stride sw > 1 the input is first split into sw column phases (`phases`), so tap j of every output
    column reads one contiguous run of phase (j * dw - pw) mod sw. Returns the number of outputs equal to
    the output zero point.
    """
    r = ow * c
    wq = -(-wd // sw)
    src = x
    if sw > 1:
        split_phases(x, phases, n, h, wd, c, sw)
        src = phases
    # per column tap j (no division in the row loop): output columns [ox0, ox1) whose tap j falls
    # inside the input row, and where its run starts in the (phase-split) input row
    cols = np.empty((kw, 3), np.int64)
    for j in range(kw):
        off = j * dw - pw  # input column of output column ox is ox * sw + off
        cols[j, 0] = max(0, (-off + sw - 1) // sw)
        cols[j, 1] = min(ow, (wd - 1 - off) // sw + 1)
        cols[j, 2] = (off % sw) * wq + cols[j, 0] + off // sw  # sw == 1: ox0 + off, x's own column
    out_zeros = 0
    for b in range(n):
        for oy in range(oh):
            for q in range(r):
                acc[q] = bias[q]
            for i in range(kh):
                iy = oy * sh - ph + i * dh
                if iy < 0 or iy >= h:
                    continue
                for j in range(kw):
                    ox0, ox1 = cols[j, 0], cols[j, 1]
                    if ox1 <= ox0:
                        continue
                    # unsigned indices: no negative-index wraparound check and no array views
                    # (whose reference counting costs atomics), so the loops vectorise
                    length = (ox1 - ox0) * c
                    ab = np.uint64(ox0 * c)
                    wb = np.uint64((i * kw + j) * r) + ab
                    xb = np.uint64(((b * h + iy) * sw * wq + cols[j, 2]) * c)
                    for q in range(length):  # wrapped to int32 each step: LLVM keeps 32-bit lanes
                        u = np.uint64(q)
                        xv = np.int32(np.int32(src[xb + u]) - zp_in)
                        acc[ab + u] = np.int32(acc[ab + u] + xv * np.int32(w[wb + u]))
            base = (b * oh + oy) * r
            if c % 8 == 0 or c < 8:  # one rounding for the whole row (see requantize_blocks)
                out_zeros += requantize_row8(acc, mult, shift, mode if c >= 8 else TFLITE, zp_out, lo, hi, out, base)
            else:
                for ox in range(ow):
                    q = ox * c
                    out_zeros += requantize_blocks8(acc[q : q + c], mult[q : q + c], shift[q : q + c], mode, zp_out,
                                                   lo, hi, out, base + q)  # fmt: skip
    return out_zeros
