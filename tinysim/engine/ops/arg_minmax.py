"""ARG_MAX and ARG_MIN along one constant axis, as TFLite's ArgMinMax: a strict comparison, so ties keep
the first index. Output int32 or int64 (OutputType). Legacy uint8 held as int8 - 128 keeps its order."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

ArgRow = IntEnum("ArgRow", "x y outer axis inner is_max item out_item", start=0)
Row = ArgRow


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x = ctx.act(op, 0, dtypes=(DType.INT8, DType.FLOAT32))  # LiteRT refuses int16
    y = ctx.tensor(op, 0, output=True)
    if y.dtype not in (DType.INT32, DType.INT64):
        raise ctx.fail(op, f"output is {y.dtype.value}; only int32/int64 are supported")
    axis_t = ctx.tensor(op, 1)
    if not axis_t.is_constant or axis_t.constant().size != 1:
        raise ctx.fail(op, "the axis must be a constant scalar input")
    rank = len(x.shape)
    axis = int(axis_t.constant().reshape(-1)[0])
    if not -rank <= axis < rank:
        raise ctx.fail(op, f"axis {axis} is out of range for rank {rank}")
    axis %= rank
    if y.size * x.shape[axis] != x.size:
        raise ctx.fail(op, f"output {y.shape} does not match input {x.shape} reduced along axis {axis}")
    outer = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1 :], dtype=np.int64))
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), outer=outer, axis=x.shape[axis],
                  inner=inner, is_max=op.kind is OpKind.ARG_MAX, item=x.dtype.itemsize,
                  out_item=y.dtype.itemsize)  # fmt: skip
    events = Events(act_bytes_read=x.nbytes, act_bytes_written=y.nbytes, elementwise=x.size,
                    output_elements=y.size, act_bytes_unique_read=x.nbytes)  # fmt: skip
    return OpPlan(params, events)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    outer, size, inner, item = p[Row.outer], p[Row.axis], p[Row.inner], p[Row.item]
    n = outer * size * inner
    xb = arena[p[Row.x] : p[Row.x] + n * item]
    yb = arena[p[Row.y] : p[Row.y] + outer * inner * p[Row.out_item]]
    is_max = p[Row.is_max] != 0
    if p[Row.out_item] == 4:
        y = yb.view(np.int32).reshape(outer, inner)
        if item == 1:
            arg_minmax(xb.reshape(outer, size, inner), y, is_max)
        elif item == 2:
            arg_minmax(xb.view(np.int16).reshape(outer, size, inner), y, is_max)
        else:
            arg_minmax(xb.view(np.float32).reshape(outer, size, inner), y, is_max)
    else:
        y64 = yb.view(np.int64).reshape(outer, inner)
        if item == 1:
            arg_minmax(xb.reshape(outer, size, inner), y64, is_max)
        elif item == 2:
            arg_minmax(xb.view(np.int16).reshape(outer, size, inner), y64, is_max)
        else:
            arg_minmax(xb.view(np.float32).reshape(outer, size, inner), y64, is_max)
    return 0, 0


@kernel
def arg_minmax(x, y, is_max):
    """y[o, i] = the first k maximising (minimising) x[o, k, i]."""
    for o in range(x.shape[0]):
        for i in range(x.shape[2]):
            best = x[o, 0, i]
            at = 0
            for k in range(1, x.shape[1]):
                v = x[o, k, i]
                if (v > best) if is_max else (v < best):
                    best = v
                    at = k
            y[o, i] = at
    return 0
