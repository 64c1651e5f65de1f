"""STRIDED_SLICE and SLICE: one strided box of the input, copied in order (strided_copy).

STRIDED_SLICE follows LiteRT's strided_slice.cc: BuildStridedSliceParams expands the ellipsis and the
new axes into an "effective" input shape (a new axis is a dim of 1), then per effective dim
StridedSliceStartForAxis / EndForAxis give start and stop (negative indices wrap, then clamp; the
begin/end masks override; a shrunk axis takes one element) and the count is ceil((stop - start) /
stride), at least 0. The Offset option (end relative to begin) is refused.
"""

from __future__ import annotations

import math

import numpy as np

from tinysim.engine.ops import strided_copy as sc
from tinysim.engine.program import OpPlan, PrepareContext
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

evaluate = sc.evaluate


def _vector(ctx: PrepareContext, op: Op, pos: int, dtypes=(DType.INT32,)) -> list[int]:
    t = ctx.tensor(op, pos)
    if not t.is_constant or t.dtype not in dtypes or len(t.shape) != 1:
        raise ctx.fail(op, f"input {pos} must be a constant 1-D {'/'.join(d.value for d in dtypes)} tensor")
    return [int(v) for v in t.constant().reshape(-1)]


def _effective(shape, begin, end, stride, masks):
    """LiteRT's BuildStridedSliceParams: per effective dim (size, begin, end, stride, begin?, end?, shrink?,
    new axis?)."""
    b_mask, e_mask, ellipsis, new_axis, shrink = masks
    count, rank = len(begin), len(shape)
    add = sum(1 for i in range(count) if not (ellipsis >> i) & 1 and (new_axis >> i) & 1)
    dims = rank + add
    eff_ellipsis = eff_new = 0
    ellipsis_start, expanded = dims, 0
    i = 0
    while i < dims:
        if (ellipsis >> i) & 1:
            ellipsis_start = i
            stop = max(i + 1, min(i + 1 + add + rank - count, dims))
            expanded = stop - ellipsis_start - 1
            while i < stop:
                eff_ellipsis |= 1 << i
                i += 1
            continue
        if (new_axis >> (i - expanded)) & 1:
            eff_new |= 1 << i
        i += 1
    out, added_ellipsis, added_axes = [], 0, 0
    for i in range(dims):
        if (eff_ellipsis >> i) & 1:
            added_ellipsis = max(0, i - ellipsis_start)
            out.append((shape[i - added_axes], 0, 0, 1, True, True, False, False))
        elif (eff_new >> i) & 1:
            out.append((1, 0, 1, 1, False, False, False, True))
            added_axes += 1
        elif i >= count + expanded:
            out.append((shape[i - added_axes], 0, 0, 1, True, True, False, False))
        else:
            k = i - added_ellipsis
            out.append((shape[i - added_axes], begin[k], end[k], stride[k], bool((b_mask >> k) & 1),
                        bool((e_mask >> k) & 1), bool((shrink >> k) & 1), False))  # fmt: skip
    return out


def _range(size: int, b: int, e: int, s: int, b_masked: bool, e_masked: bool, shrink: bool) -> tuple[int, int]:
    """(start, count) of one effective dim, as StridedSliceStartForAxis / EndForAxis and the output resize."""
    b = b + size if b < 0 else b
    b = min(max(b, 0), size) if s > 0 else min(max(b, -1), size - 1)
    if b_masked:
        b = 0 if s > 0 else size - 1
    if shrink:
        return b, (0 if b >= size else 1)
    e = e + size if e < 0 else e
    e = min(max(e, 0), size) if s > 0 else min(max(e, -1), size - 1)
    if e_masked:
        e = size if s > 0 else -1
    return b, max(0, math.ceil((e - b) / s))


def _strided_slice(ctx: PrepareContext, op: Op, shape) -> tuple[list, list, list, tuple]:
    begin, end, stride = (_vector(ctx, op, k) for k in (1, 2, 3))
    if not len(begin) == len(end) == len(stride) or 0 in stride:
        raise ctx.fail(op, "begin, end and strides must have equal lengths and non-zero strides")
    if op.attrs.option("Offset", False):
        raise ctx.fail(op, "the Offset option is not supported")
    masks = tuple(sc.int_option(op, n) for n in ("BeginMask", "EndMask", "EllipsisMask", "NewAxisMask",
                                                       "ShrinkAxisMask"))  # fmt: skip
    if len(shape) > 5:
        raise ctx.fail(op, "LiteRT slices 1-D to 5-D inputs")
    eff = _effective(list(shape), begin, end, stride, masks)
    if len(eff) > 5:
        raise ctx.fail(op, "more than 5 dims including new axes (LiteRT refuses)")
    in_strides = iter(sc.strides(shape))
    starts, counts, steps, out_shape = [], [], [], []
    for size, b, e, s, bm, em, shrink, new in eff:
        elem = 0 if new else next(in_strides)
        start, n = _range(size, b, e, s, bm, em, shrink)
        if shrink and (n == 0 or s < 0):  # LiteRT's loop then writes nothing (stop is start + 1)
            raise ctx.fail(op, f"shrunk axis with begin {b}, stride {s} on size {size} is not supported")
        starts.append(start * elem)
        counts.append(n)
        steps.append(s * elem)
        if not shrink:
            out_shape.append(n)
    return starts, counts, steps, tuple(out_shape)


def _slice(ctx: PrepareContext, op: Op, shape) -> tuple[list, list, list, tuple]:
    begin = _vector(ctx, op, 1, (DType.INT32, DType.INT64))
    size = _vector(ctx, op, 2, (DType.INT32, DType.INT64))
    if len(begin) != len(shape) or len(size) != len(shape):
        raise ctx.fail(op, f"begin {begin} and size {size} must have one entry per input dim {tuple(shape)}")
    counts = [d - b if n == -1 else n for d, b, n in zip(shape, begin, size)]
    if any(b < 0 or n < 0 or b + n > d for d, b, n in zip(shape, begin, counts)):
        raise ctx.fail(op, f"slice begin {begin} size {size} is outside {tuple(shape)}")
    st = sc.strides(shape)
    return [b * s for b, s in zip(begin, st)], counts, st, tuple(counts)


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0, dtypes=sc.COPY_DTYPES), ctx.act(op, 0, output=True, dtypes=sc.COPY_DTYPES)
    sc.same_quant(ctx, op, x, y)
    build = _strided_slice if op.kind is OpKind.STRIDED_SLICE else _slice
    starts, counts, steps, out_shape = build(ctx, op, x.shape)
    if tuple(y.shape) != out_shape:
        raise ctx.fail(op, f"output shape {tuple(y.shape)} != sliced {out_shape}")
    es = x.dtype.itemsize
    src = ctx.offset(op, 0) + es * sum(starts)
    copy = sc.piece(src, ctx.offset(op, 0, output=True), counts, steps, sc.strides(counts))
    n = int(np.prod(counts, dtype=np.int64))
    return sc.plan(ctx, op, [copy], [(ctx.offset(op, 0, output=True), y)], read=n * es)
