"""MUL of int8, legacy uint8 or int16 tensors, with broadcasting (TFLite integer_ops Mul / BroadcastMul6DSlow).

(a - zp_a) * (b - zp_b) requantized once with scale_a * scale_b / scale_out (in double, as
TFLite's Prepare) by TFLite's double-rounding MultiplyByQuantizedMultiplier, then clamped. A broadcast
input is first expanded to the output's shape (tinysim.engine.ops.broadcast); float32 and int32 MUL
run tinysim.engine.ops.float_binary.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, round_clamp
from tinysim.engine.jit import kernel
from tinysim.engine.ops import broadcast, float_binary
from tinysim.engine.ops.broadcast import act_range, operand
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.workload.graph import DType, Op

MulRow = IntEnum("MulRow", "path a b y size zp_a zp_b zp_out m s lo hi bc wide", start=0)
Row = MulRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if ctx.tensor(op, 0).dtype in float_binary.DTYPES:
        return float_binary.prepare(ctx, op)
    a, b, y = broadcast.operands(ctx, op)
    wide = a.dtype is DType.INT16
    if wide and (zp(a), zp(b), zp(y)) != (0, 0, 0):
        raise ctx.fail(op, "int16 zero points must be 0")
    m, s = quantize_multiplier(scale(a) * scale(b) / scale(y))
    if s > (0 if wide else 15):  # the product shifted left must stay int32, as in TFLite
        raise ctx.fail(op, f"output scale {scale(y):g} is too small for the input scales (multiplier 2**{s})")
    bc, scratch = broadcast.plan(ctx, op, a, b, y)
    lo, hi = act_range(op.attrs.activation.value, scale(y), zp(y), 16 if wide else 8)
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  zp_a=zp(a), zp_b=zp(b), zp_out=zp(y), m=m, s=s, lo=lo, hi=hi, bc=bc, wide=wide)  # fmt: skip
    return OpPlan(params, broadcast.events(a, b, y), scratch32=scratch)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.path] != 0:
        return float_binary.evaluate(p, arena, i16, i32, f32, s16, s32, count)
    size, bc, item = p[Row.size], p[Row.bc], 1 + p[Row.wide]
    a = operand(arena, i32, s32, p[Row.a], bc, 0, size, item)
    b = operand(arena, i32, s32, p[Row.b], bc, 1, size, item)
    out = arena[p[Row.y] : p[Row.y] + size * item]
    zp_a, zp_b, zp_out, m, s, lo, hi = p[Row.zp_a], p[Row.zp_b], p[Row.zp_out], p[Row.m], p[Row.s], p[Row.lo], p[Row.hi]
    if p[Row.wide] != 0:
        return 0, mul(a.view(np.int16), b.view(np.int16), out.view(np.int16), zp_a, zp_b, zp_out, m, s, lo, hi)
    return 0, mul(a, b, out, zp_a, zp_b, zp_out, m, s, lo, hi)


@kernel
def mul(a, b, out, zp_a, zp_b, zp_out, m, s, lo, hi):
    """out = clamp(MultiplyByQuantizedMultiplier((a - zp_a) * (b - zp_b)) + zp_out); returns outputs == zp_out."""
    left, right, m_ = np.int64(max(s, 0)), np.int64(max(-s, 0)), np.int64(m)
    out_zeros = 0
    for i in range(out.shape[0]):
        prod = (np.int64(a[i]) - zp_a) * (np.int64(b[i]) - zp_b)
        v = round_clamp((prod << left) * m_, right, TFLITE, zp_out, lo, hi)
        out[i] = v
        out_zeros += v == zp_out
    return out_zeros
