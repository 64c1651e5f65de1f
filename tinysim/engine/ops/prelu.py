"""PRELU of int8 or legacy uint8 tensors, alpha broadcast to the input (LiteRT prelu.cc, BroadcastPrelu4DSlow).

x - zp_x >= 0 is requantized by scale_x / scale_y, otherwise (x - zp_x) * (alpha - zp_alpha) by
scale_x * scale_alpha / scale_y (both TFLite MultiplyByQuantizedMultiplier, double rounding), then
the output zero point is added and the result clamped. Alpha (usually a constant) is expanded to
the input's shape like any broadcast operand (tinysim.engine.ops.broadcast).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, round_clamp
from tinysim.engine.jit import kernel
from tinysim.engine.ops import broadcast
from tinysim.engine.ops.broadcast import operand
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.workload.graph import DType, Op

PreluRow = IntEnum("PreluRow", "a b y size zp_x zp_alpha zp_out m1 s1 m2 s2 bc", start=0)
Row = PreluRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, alpha, y = broadcast.operands(ctx, op, (DType.INT8,))
    if len(y.shape) > 4:
        raise ctx.fail(op, f"PRELU beyond 4-D ({y.shape}) is not supported (LiteRT's kernel is 4-D)")
    m1, s1 = quantize_multiplier(scale(x) / scale(y))
    m2, s2 = quantize_multiplier(scale(x) * scale(alpha) / scale(y))
    if s1 > 23 or s2 > 15:  # the shifted value must stay int32, as in TFLite
        raise ctx.fail(op, f"output scale {scale(y):g} is too small for the input scales")
    bc, scratch = broadcast.plan(ctx, op, x, alpha, y)
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  zp_x=zp(x), zp_alpha=zp(alpha), zp_out=zp(y), m1=m1, s1=s1, m2=m2, s2=s2, bc=bc)  # fmt: skip
    return OpPlan(params, broadcast.events(x, alpha, y), scratch32=scratch)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size, bc = p[Row.size], p[Row.bc]
    x = operand(arena, i32, s32, p[Row.a], bc, 0, size, 1)
    alpha = operand(arena, i32, s32, p[Row.b], bc, 1, size, 1)
    out = arena[p[Row.y] : p[Row.y] + size]
    return 0, prelu(x, alpha, out, p[Row.zp_x], p[Row.zp_alpha], p[Row.zp_out], p[Row.m1], p[Row.s1], p[Row.m2],
                    p[Row.s2])  # fmt: skip


@kernel
def prelu(x, alpha, out, zp_x, zp_alpha, zp_out, m1, s1, m2, s2):
    """Returns the number of outputs equal to the output zero point."""
    l1, r1, l2, r2 = np.int64(max(s1, 0)), np.int64(max(-s1, 0)), np.int64(max(s2, 0)), np.int64(max(-s2, 0))
    out_zeros = 0
    for i in range(out.shape[0]):
        v = np.int64(x[i]) - zp_x
        if v >= 0:
            r = round_clamp((v << l1) * m1, r1, TFLITE, zp_out, -128, 127)
        else:
            r = round_clamp(((v * (np.int64(alpha[i]) - zp_alpha)) << l2) * m2, r2, TFLITE, zp_out, -128, 127)
        out[i] = r
        out_zeros += r == zp_out
    return out_zeros
