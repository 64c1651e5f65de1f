"""LEAKY_RELU on int8, legacy uint8 and int16 (TFLite reference QuantizeLeakyRelu<T>).

Two requantizations chosen per element by the sign of x - zp_in: the identity multiplier
scale_in / scale_out at or above the zero point, alpha * scale_in / scale_out below it. LiteRT's
Prepare computes both ratios in float32 (all operands are float) before QuantizeMultiplier.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import DType, Op

RescaleRow = IntEnum("RescaleRow", "x y size zp_in zp_out m_pos s_pos m_neg s_neg lo hi wide", start=0)
Row = RescaleRow  # what prepare and the kernels say; the class name shows in pack's errors
INT8_16 = (DType.INT8, DType.INT16)


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0, dtypes=INT8_16), ctx.act(op, 0, output=True, dtypes=INT8_16)
    if x.dtype is not y.dtype:
        raise ctx.fail(op, f"input {x.dtype.value} and output {y.dtype.value} differ")
    s_x, s_y = np.float32(scale(x)), np.float32(scale(y))
    m_pos, s_pos = quantize_multiplier(float(s_x / s_y))
    m_neg, s_neg = quantize_multiplier(float(s_x * np.float32(op.attrs.alpha) / s_y))
    info = np.iinfo(x.dtype.numpy)
    return rescale_plan(ctx, op, (m_pos, s_pos), (m_neg, s_neg), (int(info.min), int(info.max)))


def rescale_plan(
    ctx: PrepareContext, op: Op, pos: tuple[int, int], neg: tuple[int, int], clamp: tuple[int, int], zp_out=None
) -> OpPlan:
    """The plan of a unary op computed by `rescale`: multipliers (m, shift) for x >= zp_in and x < zp_in,
    the output clamp, and the zero point added (default the output's)."""
    x, y = ctx.act(op, 0, dtypes=INT8_16), ctx.act(op, 0, output=True, dtypes=INT8_16)
    if x.shape != y.shape:
        raise ctx.fail(op, f"input shape {x.shape} != output shape {y.shape}")
    if max(pos[1], neg[1]) > 31 - 8 * x.dtype.itemsize:  # |x - zp_in| << shift must stay int32
        raise ctx.fail(op, f"output scale {scale(y):g} is too small for the input scale {scale(x):g}")
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=y.size, zp_in=zp(x),
                  zp_out=zp(y) if zp_out is None else zp_out, m_pos=pos[0], s_pos=pos[1], m_neg=neg[0],
                  s_neg=neg[1], lo=clamp[0], hi=clamp[1], wide=x.dtype is DType.INT16)  # fmt: skip
    events = Events(
        act_bytes_read=x.nbytes,
        act_bytes_written=y.nbytes,
        elementwise=y.size,
        output_elements=y.size,
        act_bytes_unique_read=x.nbytes,
    )
    return OpPlan(params, events)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size = p[Row.size]
    if p[Row.wide]:
        x16 = arena[p[Row.x] : p[Row.x] + 2 * size].view(np.int16)
        out16 = arena[p[Row.y] : p[Row.y] + 2 * size].view(np.int16)
        return 0, rescale(
            x16, out16, p[Row.zp_in], p[Row.zp_out], p[Row.m_pos], p[Row.s_pos], p[Row.m_neg], p[Row.s_neg],
            p[Row.lo], p[Row.hi], True,
        )  # fmt: skip
    x = arena[p[Row.x] : p[Row.x] + size]
    out = arena[p[Row.y] : p[Row.y] + size]
    return 0, rescale(
        x, out, p[Row.zp_in], p[Row.zp_out], p[Row.m_pos], p[Row.s_pos], p[Row.m_neg], p[Row.s_neg],
        p[Row.lo], p[Row.hi], False,
    )  # fmt: skip


@kernel
def rescale(x, out, zp_in, zp_out, m_pos, s_pos, m_neg, s_neg, lo, hi, signed=False):
    """out = clamp(zp_out + MultiplyByQuantizedMultiplier(x - zp_in, m, s)), (m, s) by the sign of x - zp_in.

    A negative multiplier (alpha < 0) rounds as -MultiplyByQuantizedMultiplier(x - zp_in, -m, s): ties
    of the positive product go down, as LiteRT's x86 build (measured over random scales, alphas and
    every int8 input). With `signed` (int16, LiteRT's reference QuantizeLeakyRelu<int16_t>) the negative multiplier
    goes into the rounding high multiply as it is, so positive ties round away from zero (measured).
    Returns the number of outputs equal to zp_out."""
    out_zeros = 0
    for i in range(out.shape[0]):
        v = np.int64(x[i]) - zp_in
        neg = v < 0
        m = np.int64(m_neg if neg else m_pos)
        s = np.int64(s_neg if neg else s_pos)
        if signed:
            q = round_shift((v << max(s, 0)) * m, max(-s, 0), TFLITE)
        else:
            q = round_shift((v << max(s, 0)) * abs(m), max(-s, 0), TFLITE)
            q = -q if m < 0 else q
        r = min(max(q + zp_out, lo), hi)
        out[i] = r
        out_zeros += r == zp_out
    return out_zeros
