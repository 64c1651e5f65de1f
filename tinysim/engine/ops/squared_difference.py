"""SQUARED_DIFFERENCE of two int8 tensors, with broadcasting (LiteRT squared_difference.cc, int8).

Both inputs are shifted left by 7 bits and rescaled to twice the larger input scale (TFLite's
MultiplyByQuantizedMultiplierSmallerThanOneExp), their difference squared (at most 255**2 * 2**14, so
int32) and requantized by (2 * max scale)**2 / (2**14 * output scale). float32 is not supported here.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, round_clamp, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.ops import broadcast
from tinysim.engine.ops.broadcast import operand
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.workload.graph import DType, Op

SquaredDifferenceRow = IntEnum("SquaredDifferenceRow", "a b y size zp_a m_a s_a zp_b m_b s_b zp_out m_out s_out bc",
                               start=0)  # fmt: skip
Row = SquaredDifferenceRow  # what prepare and the kernels say; the class name shows in pack's errors
LEFT_SHIFT = 7  # 255**2 * 2**14 fits int32


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    a, b, y = broadcast.operands(ctx, op, (DType.INT8,))
    twice_max = 2.0 * max(scale(a), scale(b))
    m_a, s_a = quantize_multiplier(scale(a) / twice_max)
    m_b, s_b = quantize_multiplier(scale(b) / twice_max)
    m_out, s_out = quantize_multiplier(twice_max * twice_max / ((1 << (2 * LEFT_SHIFT)) * scale(y)))
    if s_out > 0:  # the squared difference shifted left could leave int32
        raise ctx.fail(op, f"output scale {scale(y):g} is too small for the input scales (multiplier 2**{s_out})")
    bc, scratch = broadcast.plan(ctx, op, a, b, y)
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  zp_a=zp(a), m_a=m_a, s_a=s_a, zp_b=zp(b), m_b=m_b, s_b=s_b, zp_out=zp(y), m_out=m_out,
                  s_out=s_out, bc=bc)  # fmt: skip
    return OpPlan(params, broadcast.events(a, b, y), scratch32=scratch)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size, bc = p[Row.size], p[Row.bc]
    a = operand(arena, i32, s32, p[Row.a], bc, 0, size, 1)
    b = operand(arena, i32, s32, p[Row.b], bc, 1, size, 1)
    out = arena[p[Row.y] : p[Row.y] + size]
    return 0, squared_difference(a, b, out, p[Row.zp_a], p[Row.m_a], p[Row.s_a], p[Row.zp_b], p[Row.m_b], p[Row.s_b],
                                 p[Row.zp_out], p[Row.m_out], p[Row.s_out])  # fmt: skip


@kernel
def squared_difference(a, b, out, zp_a, m_a, s_a, zp_b, m_b, s_b, zp_out, m_out, s_out):
    """Returns the number of outputs equal to the output zero point (input shifts s_a, s_b are <= 0)."""
    ra, rb, ro = np.int64(-s_a), np.int64(-s_b), np.int64(-s_out)
    out_zeros = 0
    for i in range(out.shape[0]):
        va = round_shift(((np.int64(a[i]) - zp_a) << LEFT_SHIFT) * m_a, ra, TFLITE)
        vb = round_shift(((np.int64(b[i]) - zp_b) << LEFT_SHIFT) * m_b, rb, TFLITE)
        d = va - vb
        v = round_clamp(d * d * m_out, ro, TFLITE, zp_out, -128, 127)
        out[i] = v
        out_zeros += v == zp_out
    return out_zeros
