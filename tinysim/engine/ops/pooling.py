"""AVERAGE_POOL_2D and MAX_POOL_2D on int8 (TFLite reference integer_ops pooling).

The window is clipped to the image (padding taps do not count). Average: the int32 sum
divided by the tap count, rounded half away from zero (C++ truncating division after a bias
of half the count). Neither op rescales: TFLite requires input and output quantization equal.
A legacy uint8 pool (tinysim.engine.uint8) divides the nonnegative uint8 sum, rounding half up:
on the int8 view, floor division after the same bias (`half_up`).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import activation_range
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, valid_taps, zp
from tinysim.events import Events
from tinysim.ops import OpKind, window
from tinysim.workload.graph import Op, Padding

PoolRow = IntEnum("PoolRow", "x y n h wd c oh ow fh fw sh sw ph pw zp_out lo hi is_max half_up", start=0)
Row = PoolRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    if len(x.shape) != 4:
        raise ctx.fail(op, "needs a 4-D NHWC input")
    if (scale(x), zp(x)) != (scale(y), zp(y)):
        raise ctx.fail(op, "input and output quantization differ (TFLite requires them equal)")
    n, h, wd, c = x.shape
    a = op.attrs
    same = a.padding is Padding.SAME
    oh, ph = window(h, a.filter_h, a.stride_h, 1, same)
    ow, pw = window(wd, a.filter_w, a.stride_w, 1, same)
    if y.shape != (n, oh, ow, c):
        raise ctx.fail(op, f"output shape {y.shape} != computed {(n, oh, ow, c)}")
    lo, hi = activation_range(a.activation.value, scale(y), zp(y))
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), n=n, h=h, wd=wd, c=c, oh=oh, ow=ow,
        fh=a.filter_h, fw=a.filter_w, sh=a.stride_h, sw=a.stride_w, ph=ph, pw=pw, zp_out=zp(y), lo=lo, hi=hi,
        is_max=op.kind is OpKind.MAX_POOL_2D, half_up=op.inputs[0] in ctx.legacy,
    )  # fmt: skip
    taps = n * c * valid_taps(h, oh, a.filter_h, a.stride_h, 1, ph) * valid_taps(wd, ow, a.filter_w, a.stride_w, 1, pw)
    out_elems = n * oh * ow * c
    events = Events(
        act_bytes_read=taps,
        act_bytes_written=out_elems,
        elementwise=taps,
        output_elements=out_elems,
        act_bytes_unique_read=x.nbytes,
    )
    return OpPlan(params, events, scratch32=c)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n, h, wd, c, oh, ow = p[Row.n], p[Row.h], p[Row.wd], p[Row.c], p[Row.oh], p[Row.ow]
    x = arena[p[Row.x] : p[Row.x] + n * h * wd * c]
    out = arena[p[Row.y] : p[Row.y] + n * oh * ow * c]
    return 0, pool2d(
        x, out, s32[:c], n, h, wd, c, oh, ow, p[Row.fh], p[Row.fw], p[Row.sh], p[Row.sw], p[Row.ph], p[Row.pw],
        p[Row.zp_out], p[Row.lo], p[Row.hi], p[Row.is_max] != 0, p[Row.half_up] != 0,
    )  # fmt: skip


@kernel
def pool2d(x, out, acc, n, h, wd, c, oh, ow, fh, fw, sh, sw, ph, pw, zp_out, lo, hi, is_max, half_up):
    """Returns the number of outputs equal to the output zero point.

    Channel loops use unsigned indices (no wraparound check, no array views), so they vectorise.
    """
    out_zeros = 0
    for b in range(n):
        for oy in range(oh):
            y0 = oy * sh - ph
            ys, ye = max(y0, 0), min(y0 + fh, h)
            for ox in range(ow):
                x0 = ox * sw - pw
                xs, xe = max(x0, 0), min(x0 + fw, wd)
                init = np.int32(-128 if is_max else 0)
                for ci in range(c):
                    acc[np.uint64(ci)] = init
                for iy in range(ys, ye):
                    for ix in range(xs, xe):
                        base = np.uint64(((b * h + iy) * wd + ix) * c)
                        if is_max:
                            for ci in range(c):
                                u = np.uint64(ci)
                                acc[u] = max(acc[u], np.int32(x[base + u]))
                        else:
                            for ci in range(c):
                                u = np.uint64(ci)
                                acc[u] = np.int32(acc[u] + np.int32(x[base + u]))
                cnt = (ye - ys) * (xe - xs)
                obase = np.uint64(((b * oh + oy) * ow + ox) * c)
                z = 0
                for ci in range(c):
                    v = np.int64(acc[np.uint64(ci)])
                    if half_up and not is_max:  # (v + 128 * cnt + cnt // 2) // cnt - 128, floored
                        v = (v + cnt // 2) // cnt
                    elif not is_max:
                        # C++ division truncates toward zero.
                        v = (v + cnt // 2) // cnt if v > 0 else -((-v + cnt // 2) // cnt)
                    v = min(max(v, lo), hi)
                    out[obase + np.uint64(ci)] = v
                    z += v == zp_out
                out_zeros += z
    return out_zeros
