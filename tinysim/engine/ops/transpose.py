"""TRANSPOSE: the output walks the input with permuted strides (strided_copy), every dtype alike."""

from __future__ import annotations

from tinysim.engine.ops import strided_copy as sc
from tinysim.engine.program import OpPlan, PrepareContext
from tinysim.workload.graph import DType, Op

evaluate = sc.evaluate


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0, dtypes=sc.COPY_DTYPES), ctx.act(op, 0, output=True, dtypes=sc.COPY_DTYPES)
    sc.same_quant(ctx, op, x, y)
    perm_t = ctx.tensor(op, 1)
    if not perm_t.is_constant or perm_t.dtype not in (DType.INT32, DType.INT64):
        raise ctx.fail(op, "the permutation must be a constant int32/int64 tensor")
    rank = len(x.shape)
    perm = [int(v) % rank if -rank <= int(v) < rank else -1 for v in perm_t.constant().reshape(-1)]
    if sorted(perm) != list(range(rank)) or rank > 6:
        raise ctx.fail(op, f"permutation {perm_t.constant().tolist()} is invalid for rank {rank} (at most 6)")
    shape = tuple(x.shape[a] for a in perm)
    if tuple(y.shape) != shape:
        raise ctx.fail(op, f"output shape {tuple(y.shape)} != transposed {shape}")
    st = sc.strides(x.shape)
    dst = ctx.offset(op, 0, output=True)
    copy = sc.piece(ctx.offset(op, 0), dst, shape, [st[a] for a in perm], sc.strides(shape))
    return sc.plan(ctx, op, [copy], [(dst, y)], read=x.nbytes)
