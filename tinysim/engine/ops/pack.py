"""PACK and UNPACK: N tensors stacked along a new axis, or one tensor cut into N along an axis.

Each part is one strided_copy piece: part k sits at k * stride(axis) in the stacked tensor, walked with
the stacked tensor's strides minus the axis. Constant parts (PACK of a constant and activations, as
MoveNet does) are read from the constants region.
"""

from __future__ import annotations

from tinysim.engine.ops import strided_copy as sc
from tinysim.engine.program import OpPlan, PrepareContext
from tinysim.ops import OpKind
from tinysim.workload.graph import Op

evaluate = sc.evaluate


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    pack = op.kind is OpKind.PACK
    n = len(op.inputs) if pack else len(op.outputs)
    if pack:
        whole = ctx.act(op, 0, output=True, dtypes=sc.COPY_DTYPES)
        parts = [ctx.act(op, k, dtypes=sc.COPY_DTYPES, constant=True) for k in range(n)]
        whole_at, part_at = ctx.offset(op, 0, output=True), [ctx.offset(op, k) for k in range(n)]
    else:
        whole = ctx.act(op, 0, dtypes=sc.COPY_DTYPES)
        parts = [ctx.act(op, k, output=True, dtypes=sc.COPY_DTYPES) for k in range(n)]
        whole_at, part_at = ctx.offset(op, 0), [ctx.offset(op, k, output=True) for k in range(n)]
    rank = len(whole.shape)
    axis = sc.int_option(op, "Axis")
    if not -rank <= axis < rank or n == 0 or whole.shape[axis % rank] != n:
        raise ctx.fail(op, f"axis {axis} of {tuple(whole.shape)} does not hold {n} parts")
    axis %= rank
    part_shape = tuple(d for a, d in enumerate(whole.shape) if a != axis)
    st = sc.strides(whole.shape)
    walk = [s for a, s in enumerate(st) if a != axis]
    es = whole.dtype.itemsize
    pieces = []
    for t, at, k in zip(parts, part_at, range(n)):
        if tuple(t.shape) != part_shape:
            raise ctx.fail(op, f"part {tuple(t.shape)} != {part_shape}")
        sc.same_quant(ctx, op, *((t, whole) if pack else (whole, t)))
        stacked = whole_at + es * k * st[axis]
        if pack:
            pieces.append(sc.piece(at, stacked, part_shape, sc.strides(part_shape), walk))
        else:
            pieces.append(sc.piece(stacked, at, part_shape, walk, sc.strides(part_shape)))
    outputs = [(whole_at, whole)] if pack else list(zip(part_at, parts))
    return sc.plan(ctx, op, pieces, outputs, read=whole.nbytes)
