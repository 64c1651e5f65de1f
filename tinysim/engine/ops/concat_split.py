"""CONCATENATION, SPLIT and SPLIT_V: one tensor (the "whole") cut along one axis into parts.

Each outer index (the dims before the axis) moves one chunk per part, in order: CONCATENATION
copies parts into the whole, SPLIT / SPLIT_V copy the whole's chunks out to the parts (the bytes,
as LiteRT, whatever the outputs' quantization). A CONCATENATION input whose scale or zero point
differs from the output's is requantized as LiteRT's ConcatenationWithScaling: in float32,
round(q * s + b) + zp_out with s = scale_in * (1 / scale_out), b = -zp_in * s, rounding half away
from zero, clamped to the output type (found bit-exact by tests/test_engine_concat_split.py).
LiteRT's int8 kernel refuses inputs whose quantization differs from the output's, so only legacy
uint8 (tinysim.engine.uint8, values shifted back by 128 for the float math) requantizes; a fused
activation is refused, as LiteRT. int16 (equal quantization), int32 and float32 are plain copies of
their element size; CONCATENATION inputs may be constants (read from the constants region).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops.strided_copy import COPY_DTYPES, count_equal, zero_of
from tinysim.engine.program import QUANTIZED, OpPlan, PrepareContext, pack, scale
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import Activation, DType, Op, Tensor

ConcatSplitRow = IntEnum("ConcatSplitRow", "whole outer whole_inner parts table ftable split shift es", start=0)
Row = ConcatSplitRow  # what prepare and the kernels say; the class name shows in pack's errors
PartField = IntEnum("PartField", "at inner zp_in zp_out scaled", start=0)  # one i32 record per part
PART = len(PartField)


def _axis(ctx: PrepareContext, op: Op, rank: int, axis: int) -> int:
    if not -rank <= axis < rank:
        raise ctx.fail(op, f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    split = op.kind is not OpKind.CONCATENATION
    if split:
        if op.kind is OpKind.SPLIT:
            data_at, axis_at = 1, 0
        else:
            data_at, axis_at = 0, 2
        whole, whole_index = ctx.act(op, data_at, dtypes=COPY_DTYPES), op.inputs[data_at]
        whole_at = ctx.offset(op, data_at)
        idx = op.inputs[axis_at] if axis_at < len(op.inputs) else -1
        axis_t = ctx.graph.tensors[idx] if idx >= 0 else None
        if axis_t is None or not axis_t.is_constant or axis_t.constant().size != 1:
            raise ctx.fail(op, "the axis must be a constant scalar input")
        axis = _axis(ctx, op, len(whole.shape), int(axis_t.constant().reshape(-1)[0]))
        parts = [ctx.act(op, k, output=True, dtypes=COPY_DTYPES) for k in range(len(op.outputs))]
        part_at = [ctx.offset(op, k, output=True) for k in range(len(op.outputs))]
    else:
        if op.attrs.activation is not Activation.NONE:
            raise ctx.fail(op, f"fused activation {op.attrs.activation.value} is not supported (LiteRT: NONE only)")
        whole = ctx.act(op, 0, output=True, dtypes=COPY_DTYPES)
        whole_at, whole_index = ctx.offset(op, 0, output=True), op.outputs[0]
        axis = _axis(ctx, op, len(whole.shape), op.attrs.axis)
        parts = [ctx.act(op, k, dtypes=COPY_DTYPES, constant=True) for k in range(len(op.inputs))]
        part_at = [ctx.offset(op, k) for k in range(len(op.inputs))]
    if not parts:
        raise ctx.fail(op, "needs at least one part")
    _check_shapes(ctx, op, whole, parts, axis)
    legacy = whole_index in ctx.legacy
    shift = 128 if legacy else 0  # back to uint8 values for LiteRT's float math
    records = np.zeros((len(parts), PART), np.int64)
    factors = np.zeros((len(parts), 2), np.float32)
    quantized = whole.dtype in QUANTIZED
    inv = np.float32(1.0) / np.float32(scale(whole)) if quantized else np.float32(1.0)
    for k, (t, at) in enumerate(zip(parts, part_at)):
        src, dst = (whole, t) if split else (t, whole)
        if t.dtype is not whole.dtype:
            raise ctx.fail(op, f"'{t.name}' is {t.dtype.value}, the whole {whole.dtype.value}")
        if t.dtype is DType.INT16 and not split and zero_of(t) != 0:
            raise ctx.fail(op, f"int16 '{t.name}' has zero point {zero_of(t)} (LiteRT requires 0)")
        differs = quantized and (zero_of(src) != zero_of(dst) or np.float32(scale(src)) != np.float32(scale(dst)))
        scaled = differs and not split
        if scaled and not (legacy and whole.dtype.itemsize == 1):
            raise ctx.fail(op, f"input '{t.name}' is quantized unlike the output (LiteRT's int8 kernel requires equal)")
        inner = int(np.prod(t.shape[axis:], dtype=np.int64))
        records[k] = (at, inner, zero_of(src) + shift, zero_of(dst), scaled)
        s = np.float32(scale(t)) * inv if quantized else np.float32(1.0)
        factors[k] = (s, np.float32(-(zero_of(t) + shift)) * s)
    outer = int(np.prod(whole.shape[:axis], dtype=np.int64))
    params = pack(Row, whole=whole_at, outer=outer, whole_inner=int(np.prod(whole.shape[axis:], dtype=np.int64)),
                  parts=len(parts), table=ctx.i32.add(records.astype(np.int32)), ftable=ctx.f32.add(factors),
                  split=split, shift=shift, es=whole.dtype.itemsize)  # fmt: skip
    moved = whole.nbytes
    events = Events(act_bytes_read=moved, act_bytes_written=moved, output_elements=whole.size if not split else
                    sum(t.size for t in parts), act_bytes_unique_read=moved,
                    elementwise=sum(t.size for t, r in zip(parts, records) if r[PartField.scaled]))  # fmt: skip
    return OpPlan(params, events)


def _check_shapes(ctx: PrepareContext, op: Op, whole: Tensor, parts: list[Tensor], axis: int) -> None:
    rank = len(whole.shape)
    along = 0
    for t in parts:
        if len(t.shape) != rank or any(t.shape[d] != whole.shape[d] for d in range(rank) if d != axis):
            raise ctx.fail(op, f"part {t.shape} does not fit {whole.shape} along axis {axis}")
        along += t.shape[axis]
    if along != whole.shape[axis]:
        raise ctx.fail(op, f"parts add up to {along} along axis {axis}, not {whole.shape[axis]}")


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    outer, whole_inner, split, shift, es = p[Row.outer], p[Row.whole_inner], p[Row.split], p[Row.shift], p[Row.es]
    zeros = 0
    pos = 0
    for k in range(p[Row.parts]):
        r = p[Row.table] + k * PART
        at, inner, zp_out = i32[r], i32[r + 1] * es, i32[r + 3]
        s, b = f32[p[Row.ftable] + 2 * k], f32[p[Row.ftable] + 2 * k + 1]
        scaled = i32[r + 4] != 0
        for o in range(outer):
            w = p[Row.whole] + o * whole_inner * es + pos
            q = at + o * inner
            if split:
                arena[q : q + inner] = arena[w : w + inner]
                dst = q
            elif scaled:
                for j in range(inner):
                    v = np.float32(np.float32(np.int32(arena[q + j]) + shift) * s) + b
                    a = np.floor(np.abs(np.float64(v)) + 0.5)  # std::round: half away from zero
                    u = np.int32(a if v >= 0 else -a) + zp_out + shift
                    arena[w + j] = min(max(u, shift - 128), shift + 127) - shift
                dst = w
            else:
                arena[w : w + inner] = arena[q : q + inner]
                dst = w
            if count:
                zeros += count_equal(arena, dst, inner // es, es, zp_out)
        pos += inner
    return 0, zeros
