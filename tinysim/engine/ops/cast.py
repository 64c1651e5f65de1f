"""CAST between float32, int8, uint8, int16, int32 and int64, as LiteRT's builtin kernel on x86.

Integer -> integer wraps (two's complement truncation); integer -> float32 rounds once (int64 too);
float32 -> integer truncates toward zero and saturates to the target's range, NaN giving its maximum
(LiteRT 2.x casts with saturation; measured). Legacy uint8 tensors are int8 in the engine holding
the real value - 128 (tinysim.engine.uint8), so a uint8 source adds 128 back and a uint8 destination
subtracts it after the conversion. Quantization parameters are ignored, as LiteRT does.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops.quantize import CODE, F32, I8, I16, I32, unary_events
from tinysim.engine.program import OpPlan, PrepareContext, pack
from tinysim.engine.uint8 import OFFSET
from tinysim.workload.graph import Op
from tinysim.workload.validate import short_name

CastRow = IntEnum("CastRow", "x y size src dst src_bias dst_bias lo hi", start=0)
Row = CastRow


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.tensor(op, 0), ctx.tensor(op, 0, output=True)
    if x.is_constant:
        raise ctx.fail(op, f"constant input '{short_name(x.name)}' is not supported")
    if x.dtype not in CODE or y.dtype not in CODE:
        raise ctx.fail(op, f"cast {x.dtype.value} -> {y.dtype.value} is not supported")
    if x.size != y.size:
        raise ctx.fail(op, f"input size {x.size} != output size {y.size}")
    legacy_in, legacy_out = op.inputs[0] in ctx.legacy, op.outputs[0] in ctx.legacy
    info = np.iinfo(np.uint8 if legacy_out else y.dtype.numpy) if CODE[y.dtype] != F32 else np.iinfo(np.int8)
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size, src=CODE[x.dtype],
                  dst=CODE[y.dtype], src_bias=OFFSET if legacy_in else 0, dst_bias=OFFSET if legacy_out else 0,
                  lo=int(info.min), hi=int(info.max))  # fmt: skip
    return OpPlan(params, unary_events(x, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    """Convert into int64 (or float32) values first, one loop per source type, then store them: 5 + 5 loops
    to compile instead of one per (source, destination) pair."""
    n, xo, src, dst = p[Row.size], p[Row.x], p[Row.src], p[Row.dst]
    ints = np.empty(n, np.int64)
    floats = np.empty(n if dst == F32 else 0, np.float32)
    args = (ints, floats, src == F32, p[Row.src_bias], dst == F32, p[Row.lo], p[Row.hi], p[Row.dst_bias])
    if src == F32:
        convert(arena[xo : xo + 4 * n].view(np.float32), *args)
    elif src == I8:
        convert(arena[xo : xo + n], *args)
    elif src == I16:
        convert(arena[xo : xo + 2 * n].view(np.int16), *args)
    elif src == I32:
        convert(arena[xo : xo + 4 * n].view(np.int32), *args)
    else:
        convert(arena[xo : xo + 8 * n].view(np.int64), *args)
    return 0, store(arena, p[Row.y], n, dst, ints, floats, p[Row.dst_bias])


@kernel
def convert(x, ints, floats, src_float, src_bias, dst_float, lo, hi, dst_bias):
    """The converted values (see the module docstring): floats[i] for a float32 destination, else ints[i], the
    value to store (uint8: already less 128) before the store wraps it to the destination's width; ints[i] is
    1 where the converted value is 0 for a float destination (the zero count)."""
    for i in range(x.shape[0]):
        if dst_float:
            floats[i] = x[i] if src_float else np.float32(np.int64(x[i]) + src_bias)
            ints[i] = floats[i] == 0
            continue
        if src_float:
            f = np.float64(x[i])
            v = np.int64(hi)  # NaN saturates to the maximum
            if f <= np.float64(lo):
                v = np.int64(lo)
            elif f < np.float64(hi):
                v = np.int64(f)  # truncation toward zero
        else:
            v = np.int64(x[i]) + src_bias
        ints[i] = v - dst_bias


@kernel
def store(arena, yo, n, dst, ints, floats, dst_bias):
    """Write the converted values as the destination type; returns the number of zero outputs (uint8: stored
    -128)."""
    if dst == F32:
        arena[yo : yo + 4 * n].view(np.float32)[:] = floats
        return int(ints.sum())
    if dst == I8:
        out8 = arena[yo : yo + n]
        for i in range(n):
            out8[i] = ints[i]
        return int((out8 == -dst_bias).sum())
    if dst == I16:
        out16 = arena[yo : yo + 2 * n].view(np.int16)
        for i in range(n):
            out16[i] = ints[i]
        return int((out16 == 0).sum())
    if dst == I32:
        out32 = arena[yo : yo + 4 * n].view(np.int32)
        for i in range(n):
            out32[i] = ints[i]
        return int((out32 == 0).sum())
    arena[yo : yo + 8 * n].view(np.int64)[:] = ints
    return int((ints == 0).sum())
