"""MAXIMUM and MINIMUM of int8, legacy uint8 or int16 tensors, with broadcasting (TFLite maximum_minimum).

TFLite compares the raw values and never rescales, so tinysim requires the inputs and the output
to share one quantization (as the converter emits them) rather than return values whose meaning
would differ from the float op's. float32 and int32 run tinysim.engine.ops.float_binary.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops import broadcast, float_binary
from tinysim.engine.ops.broadcast import operand
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

MinMaxRow = IntEnum("MinMaxRow", "path a b y size zp_out is_max bc wide", start=0)
Row = MinMaxRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if ctx.tensor(op, 0).dtype in float_binary.DTYPES:
        return float_binary.prepare(ctx, op)
    a, b, y = broadcast.operands(ctx, op)
    if not ((scale(a), zp(a)) == (scale(b), zp(b)) == (scale(y), zp(y))):
        raise ctx.fail(op, "inputs and output quantization differ (TFLite compares raw values)")
    bc, scratch = broadcast.plan(ctx, op, a, b, y)
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  zp_out=zp(y), is_max=op.kind is OpKind.MAXIMUM, bc=bc, wide=a.dtype is DType.INT16)  # fmt: skip
    return OpPlan(params, broadcast.events(a, b, y), scratch32=scratch)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.path] != 0:
        return float_binary.evaluate(p, arena, i16, i32, f32, s16, s32, count)
    size, bc, item = p[Row.size], p[Row.bc], 1 + p[Row.wide]
    a = operand(arena, i32, s32, p[Row.a], bc, 0, size, item)
    b = operand(arena, i32, s32, p[Row.b], bc, 1, size, item)
    out = arena[p[Row.y] : p[Row.y] + size * item]
    if p[Row.wide] != 0:
        return 0, minmax(a.view(np.int16), b.view(np.int16), out.view(np.int16), p[Row.is_max] != 0, p[Row.zp_out])
    return 0, minmax(a, b, out, p[Row.is_max] != 0, p[Row.zp_out])


@kernel
def minmax(a, b, out, is_max, zp_out):
    """out = max(a, b) (or min); returns the number of outputs equal to zp_out."""
    out_zeros = 0
    for i in range(out.shape[0]):
        v = max(a[i], b[i]) if is_max else min(a[i], b[i])
        out[i] = v
        out_zeros += v == zp_out
    return out_zeros
