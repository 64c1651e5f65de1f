"""MUL of two int8 tensors of the same shape (TFLite integer_ops Mul, no broadcasting).

(a - zp_a) * (b - zp_b) requantized once with scale_a * scale_b / scale_out (in double, as
TFLite's Prepare) by TFLite's double-rounding MultiplyByQuantizedMultiplier, then clamped.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, activation_range, quantize_multiplier, round_clamp
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, binary_events, pack, scale, zp
from tinysim.workload.graph import Op

MulRow = IntEnum("MulRow", "a b y size zp_a zp_b zp_out m s lo hi", start=0)
Row = MulRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    a, b, y = ctx.act(op, 0), ctx.act(op, 1), ctx.act(op, 0, output=True)
    if not (a.shape == b.shape == y.shape):
        raise ctx.fail(op, f"broadcasting {a.shape} * {b.shape} -> {y.shape} is not supported")
    m, s = quantize_multiplier(scale(a) * scale(b) / scale(y))
    if s > 15:  # (a - zp_a) * (b - zp_b) < 2**16 must stay int32 after the left shift
        raise ctx.fail(op, f"output scale {scale(y):g} is too small for the input scales (multiplier 2**{s})")
    lo, hi = activation_range(op.attrs.activation.value, scale(y), zp(y))
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  zp_a=zp(a), zp_b=zp(b), zp_out=zp(y), m=m, s=s, lo=lo, hi=hi)  # fmt: skip
    return OpPlan(params, binary_events(a, b, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size = p[Row.size]
    a = arena[p[Row.a] : p[Row.a] + size]
    b = arena[p[Row.b] : p[Row.b] + size]
    out = arena[p[Row.y] : p[Row.y] + size]
    return 0, mul(a, b, out, p[Row.zp_a], p[Row.zp_b], p[Row.zp_out], p[Row.m], p[Row.s], p[Row.lo], p[Row.hi])


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
