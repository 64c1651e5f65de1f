"""The one copy mechanism of the data-movement ops (PAD, STRIDED_SLICE, SLICE, TRANSPOSE, PACK, UNPACK).

None of these ops computes: each output element is one input element (or, for PAD, a fill value).
Prepare describes the op as a few "pieces": a box of up to RANK dims walked in order, a source and a
destination byte offset and, per dim, source and destination strides in elements (signed, so a
negative STRIDED_SLICE stride walks backwards). One kernel copies the pieces with elements of 1, 2, 4
or 8 bytes, so every dtype (int8, legacy uint8, int16, int32, float32, int64) shares it. Adjacent dims
that are contiguous on both sides are merged at prepare, so most pieces end in one long memcpy.

Output zeros (for the sparsity statistics) are elements equal to the output zero point (quantized) or
with all bits 0 (int32, float32 +0.0).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.program import QUANTIZED, OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.ops import SCHEMES  # noqa: F401  (the schemes every copy op runs: all)
from tinysim.workload.graph import DType, Op, Tensor

RANK = 6  # after merging contiguous dims; TFLite's data-movement ops take at most 6-D tensors
# The dtypes a byte-moving op accepts (uint8 tensors arrive as int8, see tinysim.engine.uint8).
COPY_DTYPES = (DType.INT8, DType.INT16, DType.INT32, DType.FLOAT32)

CopyRow = IntEnum("CopyRow", "pieces table size fill value outs otable zp", start=0)
Row = CopyRow  # what prepare and the kernels say; the class name shows in pack's errors
# One i32 record per piece: src, dst (bytes), then RANK dims, RANK source strides, RANK destination strides.
PIECE = 2 + 3 * RANK


def strides(shape) -> list[int]:
    """Row-major element strides of `shape`."""
    out, step = [], 1
    for d in reversed(tuple(shape)):
        out.append(step)
        step *= int(d)
    return out[::-1]


def piece(src: int, dst: int, dims, src_strides, dst_strides) -> list[int]:
    """One piece's record: dims of size 1 dropped, contiguous neighbours merged, padded to RANK (longer if
    more than RANK dims remain, which `plan` refuses)."""
    kept = [(int(n), int(s), int(t)) for n, s, t in zip(dims, src_strides, dst_strides) if n != 1]
    if any(n == 0 for n, _, _ in kept):
        kept = [(0, 0, 0)]
    merged: list[tuple[int, int, int]] = []
    for n, s, t in kept:
        if merged and merged[-1][1] == s * n and merged[-1][2] == t * n:
            merged[-1] = (merged[-1][0] * n, s, t)
        else:
            merged.append((n, s, t))
    merged = [(1, 0, 0)] * (RANK - len(merged)) + merged
    return [src, dst, *(m[0] for m in merged), *(m[1] for m in merged), *(m[2] for m in merged)]


def int_option(op: Op, name: str, default: int = 0) -> int:
    """An integer builtin option of `op` (TFLite schema name), `default` if absent."""
    value = op.attrs.option(name, default)
    return int(value) if isinstance(value, (int, bool, np.integer)) else default


def same_quant(ctx: PrepareContext, op: Op, a: Tensor, b: Tensor) -> None:
    """TFLite's data-movement kernels copy bytes: a quantized input and output must mean the same reals."""
    if a.dtype is not b.dtype:
        raise ctx.fail(op, f"input {a.dtype.value} and output {b.dtype.value} differ")
    if a.dtype in QUANTIZED and (zp(a) != zp(b) or np.float32(scale(a)) != np.float32(scale(b))):
        raise ctx.fail(
            op, f"'{a.name}' and '{b.name}' are quantized differently (a copy needs equal scale and zero point)"
        )


def zero_of(t: Tensor) -> int:
    """The value counted as an output zero: the zero point of a quantized tensor, else all-zero bits."""
    return zp(t) if t.dtype in QUANTIZED and t.quant is not None else 0


def plan(
    ctx: PrepareContext,
    op: Op,
    pieces: list[list[int]],
    outputs: list[tuple[int, Tensor]],
    *,
    read: int,
    unique: int | None = None,
    fill: int | None = None,
) -> OpPlan:
    """The plan of a copy: `pieces` (from `piece`), the output tensors at their offsets (all one dtype,
    written whole: by the pieces or, first, by `fill`, a raw bit pattern), `read` input bytes moved."""
    es = outputs[0][1].dtype.itemsize
    if any(len(p) != PIECE for p in pieces):
        raise ctx.fail(op, f"the copy does not reduce to {RANK} dims")
    table = np.array(pieces, np.int64).reshape(len(pieces), PIECE)
    if np.abs(table).max(initial=0) >= 2**31:
        raise ctx.fail(op, "tensor too large for the copy table")
    otable = np.array([(at, t.size) for at, t in outputs], np.int64)
    params = pack(Row, pieces=len(pieces), table=ctx.i32.add(table.astype(np.int32)), size=es, fill=fill is not None,
                  value=fill or 0, outs=len(outputs), otable=ctx.i32.add(otable.astype(np.int32)),
                  zp=zero_of(outputs[0][1]))  # fmt: skip
    written = sum(t.nbytes for _, t in outputs)
    events = Events(act_bytes_read=read, act_bytes_written=written, output_elements=sum(t.size for _, t in outputs),
                    act_bytes_unique_read=read if unique is None else unique)  # fmt: skip
    return OpPlan(params, events)


@kernel
def copy_piece(arena, i32, r, es):
    """Copy piece record i32[r:r+PIECE] with elements of `es` bytes."""
    total = 1
    for a in range(RANK):
        total *= i32[r + 2 + a]
    if total == 0:
        return
    n = i32[r + 1 + RANK]
    ss, ts = i32[r + 1 + 2 * RANK] * es, i32[r + 1 + 3 * RANK] * es
    idx = np.zeros(RANK, np.int64)
    for _ in range(total // n):
        s, t = np.int64(i32[r]), np.int64(i32[r + 1])
        for a in range(RANK - 1):
            s += idx[a] * i32[r + 2 + RANK + a] * es
            t += idx[a] * i32[r + 2 + 2 * RANK + a] * es
        if ss == es and ts == es:
            arena[t : t + n * es] = arena[s : s + n * es]
        else:
            for j in range(n):
                for b in range(es):
                    arena[t + j * ts + b] = arena[s + j * ss + b]
        a = RANK - 2  # odometer over the outer dims
        while a >= 0:
            idx[a] += 1
            if idx[a] < i32[r + 2 + a]:
                break
            idx[a] = 0
            a -= 1


@kernel
def fill_bits(arena, at, nbytes, value, es):
    """Fill arena[at:at+nbytes] with the little-endian `es`-byte pattern `value`."""
    if nbytes <= 0:
        return
    for b in range(es):
        v = (value >> (8 * b)) & 0xFF
        arena[at + b] = v - 256 if v > 127 else v
    for i in range(es, nbytes):
        arena[at + i] = arena[at + i - es]


@kernel
def count_equal(arena, at, n, es, value):
    """Elements of `es` bytes at `at` whose value is `value`."""
    zeros = 0
    if es == 1:
        for i in range(at, at + n):
            zeros += arena[i] == value
    elif es == 2:
        v16 = arena[at : at + 2 * n].view(np.int16)
        for i in range(n):
            zeros += v16[i] == value
    elif es == 4:
        v32 = arena[at : at + 4 * n].view(np.int32)
        for i in range(n):
            zeros += v32[i] == value
    else:
        v64 = arena[at : at + 8 * n].view(np.int64)
        for i in range(n):
            zeros += v64[i] == value
    return zeros


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    es = p[Row.size]
    if p[Row.fill]:
        for k in range(p[Row.outs]):
            o = p[Row.otable] + 2 * k
            fill_bits(arena, np.int64(i32[o]), np.int64(i32[o + 1]) * es, p[Row.value], es)
    for k in range(p[Row.pieces]):
        copy_piece(arena, i32, p[Row.table] + k * PIECE, es)
    zeros = 0
    if count:
        for k in range(p[Row.outs]):
            o = p[Row.otable] + 2 * k
            zeros += count_equal(arena, np.int64(i32[o]), np.int64(i32[o + 1]), es, p[Row.zp])
    return 0, zeros
