"""GATHER and GATHER_ND: copy slices of the params tensor chosen by an index tensor read at run time.

One kernel for both (LiteRT's reference Gather and GatherNd): the params are `blocks` blocks (GATHER:
batch x outer dims, each `block` elements apart; GATHER_ND: one block); per block, `coords` index
tuples of `nd` int32/int64 components (GATHER: one, the axis index) select one contiguous slice of
`inner` elements at sum(component * mult). LiteRT fails the inference on an out-of-range index; the
kernel cannot fail, so it writes zero bytes there instead (a model that reaches it is wrong anyway).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops import strided_copy as sc
from tinysim.engine.program import OpPlan, PrepareContext, pack
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

GatherRow = IntEnum("GatherRow", "x y idx idx_size size blocks per_batch block coords nd inner table zp", start=0)
Row = GatherRow  # what prepare and the kernels say; the class name shows in pack's errors


def _gather(ctx: PrepareContext, op: Op, x, idx):
    rank, axis, batch_dims = len(x.shape), sc.int_option(op, "Axis"), sc.int_option(op, "BatchDims")
    axis = axis + rank if axis < 0 else axis
    batch_dims = batch_dims + len(idx.shape) if batch_dims < 0 else batch_dims
    if not 0 <= batch_dims <= axis < rank or batch_dims > len(idx.shape):
        raise ctx.fail(op, f"axis {axis} / batch_dims {batch_dims} invalid for params {x.shape}, indices {idx.shape}")
    if tuple(x.shape[:batch_dims]) != tuple(idx.shape[:batch_dims]):
        raise ctx.fail(op, "params and indices differ in their batch dims")
    shape = tuple(x.shape[:axis]) + tuple(idx.shape[batch_dims:]) + tuple(x.shape[axis + 1 :])
    prod = lambda dims: int(np.prod(dims, dtype=np.int64))
    inner, outer = prod(x.shape[axis + 1 :]), prod(x.shape[batch_dims:axis])
    geometry = {"blocks": prod(x.shape[:axis]), "per_batch": outer, "block": x.shape[axis] * inner,
                    "coords": prod(idx.shape[batch_dims:]), "nd": 1, "inner": inner}  # fmt: skip
    return shape, geometry, [(x.shape[axis], inner)]


def _gather_nd(ctx: PrepareContext, op: Op, x, idx):
    nd = idx.shape[-1] if idx.shape else 0
    if not idx.shape or not 1 <= nd <= len(x.shape):
        raise ctx.fail(op, f"indices {idx.shape} do not index params {x.shape}")
    shape = tuple(idx.shape[:-1]) + tuple(x.shape[nd:])
    inner = int(np.prod(x.shape[nd:], dtype=np.int64))
    mults = [int(np.prod(x.shape[j + 1 : nd], dtype=np.int64)) * inner for j in range(nd)]
    coords = int(np.prod(idx.shape[:-1], dtype=np.int64))
    geometry = {"blocks": 1, "per_batch": 1, "block": 0, "coords": coords, "nd": nd, "inner": inner}
    return shape, geometry, list(zip(x.shape[:nd], mults))


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0, dtypes=sc.COPY_DTYPES), ctx.act(op, 0, output=True, dtypes=sc.COPY_DTYPES)
    sc.same_quant(ctx, op, x, y)
    idx = ctx.act(op, 1, dtypes=(DType.INT32, DType.INT64), constant=True)
    build = _gather if op.kind is OpKind.GATHER else _gather_nd
    shape, g, bounds = build(ctx, op, x, idx)
    if tuple(y.shape) != shape:
        raise ctx.fail(op, f"output shape {tuple(y.shape)} != gathered {shape}")
    table = ctx.i32.add(np.array(bounds, np.int64).astype(np.int32))
    es = x.dtype.itemsize
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), idx=ctx.offset(op, 1),
                  idx_size=idx.dtype.itemsize, size=es, table=table, zp=sc.zero_of(y), **g)  # fmt: skip
    index_bytes = 0 if idx.is_constant else idx.nbytes
    events = Events(act_bytes_read=y.nbytes + index_bytes, act_bytes_written=y.nbytes, output_elements=y.size,
                    act_bytes_unique_read=min(y.nbytes, x.nbytes) + index_bytes)  # fmt: skip
    return OpPlan(params, events)


@kernel
def _index(arena, at, k, idx_size):
    """Component k of the index tensor at byte offset `at`."""
    if idx_size == 4:
        return np.int64(arena[at + 4 * k : at + 4 * k + 4].view(np.int32)[0])
    return arena[at + 8 * k : at + 8 * k + 8].view(np.int64)[0]


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    es, nd, coords, inner = p[Row.size], p[Row.nd], p[Row.coords], p[Row.inner]
    chunk = inner * es
    out = p[Row.y]
    for b in range(p[Row.blocks]):
        base = p[Row.x] + b * p[Row.block] * es
        first = (b // p[Row.per_batch]) * coords * nd
        for i in range(coords):
            pos = np.int64(0)
            ok = True
            for j in range(nd):
                c = _index(arena, p[Row.idx], first + i * nd + j, p[Row.idx_size])
                ok = ok and 0 <= c < i32[p[Row.table] + 2 * j]
                pos += c * i32[p[Row.table] + 2 * j + 1]
            if ok:
                src = base + pos * es
                arena[out : out + chunk] = arena[src : src + chunk]
            else:
                arena[out : out + chunk] = 0
            out += chunk
    zeros = 0
    if count:
        zeros = sc.count_equal(arena, p[Row.y], (out - p[Row.y]) // es, es, p[Row.zp])
    return 0, zeros
