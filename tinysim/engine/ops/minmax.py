"""MAXIMUM and MINIMUM of two int8 tensors of the same shape (TFLite maximum_minimum).

TFLite compares the raw int8 values and never rescales, so tinysim requires the inputs and the
output to share one quantization (as the converter emits them) rather than return values whose
meaning would differ from the float op's.
"""

from __future__ import annotations

from enum import IntEnum

from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, binary_events, pack, scale, zp
from tinysim.ops import OpKind
from tinysim.workload.graph import Op

MinMaxRow = IntEnum("MinMaxRow", "a b y size zp_out is_max", start=0)
Row = MinMaxRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    a, b, y = ctx.act(op, 0), ctx.act(op, 1), ctx.act(op, 0, output=True)
    if not (a.shape == b.shape == y.shape):
        raise ctx.fail(op, f"broadcasting {a.shape}, {b.shape} -> {y.shape} is not supported")
    if not ((scale(a), zp(a)) == (scale(b), zp(b)) == (scale(y), zp(y))):
        raise ctx.fail(op, "inputs and output quantization differ (TFLite compares raw values)")
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  zp_out=zp(y), is_max=op.kind is OpKind.MAXIMUM)  # fmt: skip
    return OpPlan(params, binary_events(a, b, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size = p[Row.size]
    a = arena[p[Row.a] : p[Row.a] + size]
    b = arena[p[Row.b] : p[Row.b] + size]
    out = arena[p[Row.y] : p[Row.y] + size]
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
