"""float32 and int32 elementwise binary ops with broadcasting: ADD, SUB, MUL, DIV, FLOOR_DIV, MAXIMUM, MINIMUM.

What LiteRT's builtin kernels compute: IEEE float32 arithmetic (its vectorised float DIV matches a / b
bit for bit, checked), int32 arithmetic wrapping on overflow, DIV on int32 truncating toward zero,
FLOOR_DIV flooring (std::floor(a / b) on floats), MAXIMUM `a > b ? a : b`, MINIMUM `a < b ? a : b`, and
the fused activation clamped after the op. The integer ops' modules dispatch here on their float32 /
int32 operands (`path` column 1), so every op keeps one kernel per kind.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops import broadcast
from tinysim.engine.ops.broadcast import operand
from tinysim.engine.program import OpPlan, PrepareContext, pack
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

FloatRow = IntEnum("FloatRow", "path a b y size kind int32 lo hi flo bc", start=0)
Row = FloatRow  # what prepare and the kernels say; the class name shows in pack's errors
PATH = 1  # column 0 of every binary op's row: 0 its own quantized kernels, 1 this module
DTYPES = (DType.FLOAT32, DType.INT32)
KINDS = (OpKind.ADD, OpKind.SUB, OpKind.MUL, OpKind.DIV, OpKind.FLOOR_DIV, OpKind.MAXIMUM, OpKind.MINIMUM)
_RANGES = {"NONE": (-math.inf, math.inf), "RELU": (0.0, math.inf), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    dtype = ctx.tensor(op, 0).dtype
    a, b = ctx.act(op, 0, dtypes=(dtype,), constant=True), ctx.act(op, 1, dtypes=(dtype,), constant=True)
    y = ctx.act(op, 0, output=True, dtypes=(dtype,))
    if op.kind not in KINDS:
        raise ctx.fail(op, f"{dtype.value} {op.kind.value} is not supported")
    activation = op.attrs.activation.value
    if activation not in _RANGES:
        raise ctx.fail(op, f"fused activation {activation} is not supported")
    lo, hi = _RANGES[activation]
    bc, scratch = broadcast.plan(ctx, op, a, b, y)
    is_int = dtype is DType.INT32
    ilo, ihi = (max(int(lo), -(2**31)) if lo > -math.inf else -(2**31)), (int(hi) if hi < math.inf else 2**31 - 1)
    params = pack(Row, path=PATH, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True),
                  size=y.size, kind=KINDS.index(op.kind), int32=is_int, lo=ilo, hi=ihi,
                  flo=ctx.f32.add(np.array([lo, hi], np.float32)), bc=bc)  # fmt: skip
    return OpPlan(params, broadcast.events(a, b, y), scratch32=scratch)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size, bc = p[Row.size], p[Row.bc]
    a = operand(arena, i32, s32, p[Row.a], bc, 0, size, 4)
    b = operand(arena, i32, s32, p[Row.b], bc, 1, size, 4)
    out = arena[p[Row.y] : p[Row.y] + 4 * size]
    if p[Row.int32] != 0:
        return 0, int_binary(a.view(np.int32), b.view(np.int32), out.view(np.int32), p[Row.kind], p[Row.lo],
                             p[Row.hi])  # fmt: skip
    lo, hi = f32[p[Row.flo]], f32[p[Row.flo] + 1]
    return 0, float_binary(a.view(np.float32), b.view(np.float32), out.view(np.float32), p[Row.kind], lo, hi)


@kernel
def float_binary(a, b, out, kind, lo, hi):
    """out = clamp(a op b) for op KINDS[kind]; returns the number of zero outputs."""
    zeros = 0
    for i in range(out.shape[0]):
        x, y = a[i], b[i]
        if kind == 0:
            v = x + y
        elif kind == 1:
            v = x - y
        elif kind == 2:
            v = x * y
        elif kind == 3:
            v = x / y
        elif kind == 4:
            v = np.floor(x / y)
        elif kind == 5:
            v = x if x > y else y  # noqa: FURB136 (LiteRT's select: NaN order)
        else:
            v = x if x < y else y  # noqa: FURB136
        v = min(max(v, lo), hi)
        out[i] = v
        zeros += v == 0
    return zeros


@kernel
def int_binary(a, b, out, kind, lo, hi):
    """int32 `float_binary`: wrapping arithmetic, DIV truncating, FLOOR_DIV flooring (x / 0 gives 0, where
    LiteRT reports an error); returns the number of zero outputs."""
    zeros = 0
    for i in range(out.shape[0]):
        x, y = np.int64(a[i]), np.int64(b[i])
        if kind == 0:
            v = x + y
        elif kind == 1:
            v = x - y
        elif kind == 2:
            v = x * y
        elif kind == 3 or kind == 4:
            if y == 0:
                v = np.int64(0)
            else:
                q = abs(x) // abs(y)
                v = q if (x < 0) == (y < 0) else -q
                if kind == 4 and (x < 0) != (y < 0) and q * abs(y) != abs(x):
                    v -= 1  # floor, not truncation, for a negative inexact quotient
        elif kind == 5:
            v = max(x, y)
        else:
            v = min(x, y)
        w = np.int32(v)  # wraps as int32 arithmetic
        w = min(max(w, np.int32(lo)), np.int32(hi))
        out[i] = w
        zeros += w == 0
    return zeros
