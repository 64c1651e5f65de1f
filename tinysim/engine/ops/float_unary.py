"""float32 elementwise math: SQRT, RSQRT, EXP, as LiteRT's builtin kernels on x86.

SQRT is std::sqrt (correctly rounded), RSQRT 1.0f / std::sqrt(x) in float32 (two roundings), EXP
the C library's expf (Numba's float32 math.exp calls the same libm; checked bit-exact against LiteRT).
Negative inputs give x86's default NaN (0xFFC00000), as LiteRT.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops.quantize import unary_events
from tinysim.engine.program import OpPlan, PrepareContext, pack
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

FloatRow = IntEnum("FloatRow", "x y size fn", start=0)
Row = FloatRow
FUNCTIONS = {OpKind.SQRT: 0, OpKind.RSQRT: 1, OpKind.EXP: 2}


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x = ctx.act(op, 0, dtypes=(DType.FLOAT32,))
    y = ctx.act(op, 0, output=True, dtypes=(DType.FLOAT32,))
    if x.shape != y.shape:
        raise ctx.fail(op, f"input shape {x.shape} != output shape {y.shape}")
    if op.kind not in FUNCTIONS:
        raise ctx.fail(op, "only float32 SQRT, RSQRT, EXP are supported")
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size, fn=FUNCTIONS[op.kind])
    return OpPlan(params, unary_events(x, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n = p[Row.size]
    x = arena[p[Row.x] : p[Row.x] + 4 * n].view(np.float32)
    out = arena[p[Row.y] : p[Row.y] + 4 * n].view(np.float32)
    return 0, apply(x, out, p[Row.fn])


@kernel
def apply(x, out, fn):
    """out = fn(x) elementwise in float32; returns the number of zero outputs."""
    zeros = 0
    one = np.float32(1.0)
    for i in range(x.shape[0]):
        v = x[i]
        if fn == 0:
            r = np.float32(math.sqrt(v))  # sqrtss: a negative input gives the default NaN, sign set, as LiteRT
        elif fn == 1:
            r = one / np.float32(math.sqrt(v))
        else:
            r = np.float32(math.exp(v))
        out[i] = r
        zeros += r == 0
    return zeros
