"""RESHAPE, SQUEEZE and EXPAND_DIMS: the bytes do not change, whatever the dtype. When the arena plan
aliases the output onto the input (the default) it costs nothing; otherwise it is a copy."""

from __future__ import annotations

from enum import IntEnum

from tinysim.engine.jit import kernel
from tinysim.engine.ops.strided_copy import count_equal, zero_of
from tinysim.engine.program import OpPlan, PrepareContext, pack
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

ReshapeRow = IntEnum("ReshapeRow", "x y size es zp_out", start=0)
Row = ReshapeRow  # what prepare and the kernels say; the class name shows in pack's errors


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if not op.inputs or op.inputs[0] < 0 or not op.outputs:
        raise ctx.fail(op, "needs an input and an output")
    x = ctx.graph.tensors[op.inputs[0]]
    y = ctx.graph.tensors[op.outputs[0]]
    if x.nbytes != y.nbytes or x.dtype is not y.dtype or x.is_constant:
        raise ctx.fail(op, f"cannot reshape {x.shape} {x.dtype.value} to {y.shape} {y.dtype.value}")
    if op.kind is OpKind.EXPAND_DIMS and x.dtype is DType.INT16 and zero_of(x) != 0:
        raise ctx.fail(op, f"int16 input has zero point {zero_of(x)} (LiteRT requires 0)")
    src, dst = ctx.offset(op, 0), ctx.offset(op, 0, output=True)
    moved = 0 if src == dst else x.nbytes
    events = Events(act_bytes_read=moved, act_bytes_written=moved, output_elements=y.size, act_bytes_unique_read=moved)
    params = pack(Row, x=src, y=dst, size=x.nbytes, es=y.dtype.itemsize, zp_out=zero_of(y))
    return OpPlan(params, events)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    src, dst, size = p[Row.x], p[Row.y], p[Row.size]
    if src != dst:
        arena[dst : dst + size] = arena[src : src + size]
    zeros = 0
    if count:
        zeros = count_equal(arena, dst, size // p[Row.es], p[Row.es], p[Row.zp_out])
    return 0, zeros
