"""ADD of int8, legacy uint8 or int16 tensors, with broadcasting (TFLite integer_ops::Add / BroadcastAdd6DSlow).

Both inputs are shifted left by 20 bits (15 for int16), rescaled to twice the larger input scale,
summed and rescaled to the output: three TFLite (double-rounding) requantizations per element.
An int8 output depends only on the two int8 inputs, so a large ADD looks it up in a 256 x 256
table that the same kernel computes once at prepare time. A broadcast input is first expanded to
the output's shape (tinysim.engine.ops.broadcast). float32 and int32 ADD run tinysim.engine.ops.float_binary.

int16 with PotScaleInt16 (the option's default) and power-of-two scales runs LiteRT's special path:
the input with the smaller scale is divided by 2**shift (gemmlowp RoundingDivideByPOT) and added with
saturation; LiteRT aborts on that path with broadcasting, so tinysim refuses it.

Legacy uint8 (tinysim.engine.uint8): LiteRT's uint8 kernel (optimized_ops::AddElementwise, NEON
emulated on x86) runs whole blocks of 8 elements with the input rescalings' final shift rounding
down (vqrdmulh, then a plain arithmetic shift), and the last size % 8 elements the scalar way
(`vec8`; found by tests/test_uint8_models.py).
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, rdbpot, round_clamp, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.ops import broadcast, float_binary
from tinysim.engine.ops.broadcast import act_range, operand
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.workload.graph import DType, Op

AddRow = IntEnum(
    "AddRow", "path a b y size zp_a m_a s_a zp_b m_b s_b zp_out m_out s_out lo hi table vec8 bc wide pot", start=0
)
Row = AddRow  # what prepare and the kernels say; the class name shows in pack's errors
LEFT_SHIFT = 20  # int8 headroom, as TFLite
LEFT_SHIFT_16 = 15
TABLE_FROM = 1024  # outputs from which a 256 x 256 output table (64 KiB, built at prepare) pays off


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    return prepare_add_sub(ctx, op, negate=False)


def prepare_add_sub(ctx: PrepareContext, op: Op, negate: bool) -> OpPlan:
    """ADD, or SUB (`negate`: TFLite's PrepareGeneralSubOp negates the second input's multiplier)."""
    if ctx.tensor(op, 0).dtype in float_binary.DTYPES:
        return float_binary.prepare(ctx, op)
    a, b, y = broadcast.operands(ctx, op)
    bc, scratch = broadcast.plan(ctx, op, a, b, y)
    wide = a.dtype is DType.INT16
    lo, hi = act_range(op.attrs.activation.value, scale(y), zp(y), 16 if wide else 8)
    sign = -1 if negate else 1
    if wide and (zp(a), zp(b), zp(y)) != (0, 0, 0):
        raise ctx.fail(op, "int16 zero points must be 0")
    pots = [_log2(scale(t)) for t in (a, b, y)]
    if wide and op.attrs.option("PotScaleInt16", True) and None not in pots:
        return _prepare_pot(ctx, op, pots, sign, lo, hi, bc, scratch, negate)
    left = LEFT_SHIFT_16 if wide else LEFT_SHIFT
    twice_max = 2.0 * max(scale(a), scale(b))
    m_a, s_a = quantize_multiplier(scale(a) / twice_max)
    m_b, s_b = quantize_multiplier(scale(b) / twice_max)
    m_out, s_out = quantize_multiplier(twice_max / ((1 << left) * scale(y)))
    stage = {"zp_a": zp(a), "m_a": m_a, "s_a": s_a, "zp_b": zp(b), "m_b": sign * m_b, "s_b": s_b,
             "zp_out": zp(y), "m_out": m_out, "s_out": s_out, "lo": lo, "hi": hi}  # fmt: skip
    vec8 = op.inputs[0] in ctx.legacy and not negate
    table = -1
    if y.size >= TABLE_FROM and not wide:  # every (a, b) int8 pair's output, computed once by the same kernel
        grid = np.arange(-128, 128, dtype=np.int8)
        lut = np.empty(256 * 256, np.int8)
        add(np.repeat(grid, 256), np.tile(grid, 256), lut, **stage, floor_to=lut.size if vec8 else 0)
        table = ctx.i16.add(lut.view(np.int16))
    a_at, b_at, y_at = ctx.offset(op, 0), ctx.offset(op, 1), ctx.offset(op, 0, output=True)
    params = pack(Row, a=a_at, b=b_at, y=y_at, size=y.size, table=table, vec8=vec8, bc=bc, wide=wide, **stage)
    return OpPlan(params, broadcast.events(a, b, y), scratch32=scratch)


def _log2(s: float) -> int | None:
    """TFLite CheckedLog2: the rounded log2 of a scale if it is a power of two (within 1e-3)."""
    r = round(math.log2(s))
    return r if abs(math.log2(s) - r) < 1e-3 else None


def _prepare_pot(ctx, op, pots, sign, lo, hi, bc, scratch, negate) -> OpPlan:
    shift_a, shift_b = pots[0] - pots[2], pots[1] - pots[2]
    if not (shift_a == 0 or shift_b == 0) or shift_a > 0 or shift_b > 0:
        raise ctx.fail(op, "int16 power-of-two scales: one input must share the output scale, the other be finer")
    if bc >= 0 and not negate:
        raise ctx.fail(op, "int16 ADD with power-of-two scales and broadcasting (LiteRT aborts on it)")
    a, b, y = ctx.tensor(op, 0), ctx.tensor(op, 1), ctx.tensor(op, 0, output=True)
    params = pack(Row, a=ctx.offset(op, 0), b=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), size=y.size,
                  s_a=-shift_a, s_b=-shift_b, m_b=sign, lo=lo, hi=hi, table=-1, bc=bc, wide=1, pot=1)  # fmt: skip
    return OpPlan(params, broadcast.events(a, b, y), scratch32=scratch)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.path] != 0:
        return float_binary.evaluate(p, arena, i16, i32, f32, s16, s32, count)
    size, table, bc, item = p[Row.size], p[Row.table], p[Row.bc], 1 + p[Row.wide]
    a = operand(arena, i32, s32, p[Row.a], bc, 0, size, item)
    b = operand(arena, i32, s32, p[Row.b], bc, 1, size, item)
    out = arena[p[Row.y] : p[Row.y] + size * item]
    if p[Row.pot] != 0:
        return 0, add_pot(a.view(np.int16), b.view(np.int16), out.view(np.int16), p[Row.s_a], p[Row.s_b],
                          p[Row.m_b], p[Row.lo], p[Row.hi])  # fmt: skip
    if p[Row.wide] != 0:
        return 0, add(
            a.view(np.int16), b.view(np.int16), out.view(np.int16), p[Row.zp_a], p[Row.m_a], p[Row.s_a],
            p[Row.zp_b], p[Row.m_b], p[Row.s_b], p[Row.zp_out], p[Row.m_out], p[Row.s_out], p[Row.lo], p[Row.hi],
            0, LEFT_SHIFT_16,
        )  # fmt: skip
    lead = size - size % 8 if p[Row.vec8] != 0 else 0  # elements on LiteRT's 8-lane uint8 path
    done = 0
    zeros = 0
    if table >= 0:  # the table holds the 8-lane path's outputs for a legacy uint8 ADD
        done = lead if p[Row.vec8] != 0 else size
        zeros = add_table(a[:done], b[:done], out[:done], i16.view(np.int8)[2 * table : 2 * table + 256 * 256],
                          p[Row.zp_out])  # fmt: skip
    return 0, zeros + add(
        a[done:], b[done:], out[done:], p[Row.zp_a], p[Row.m_a], p[Row.s_a], p[Row.zp_b], p[Row.m_b], p[Row.s_b],
        p[Row.zp_out], p[Row.m_out], p[Row.s_out], p[Row.lo], p[Row.hi], lead - done,
    )  # fmt: skip


@kernel
def add_table(a, b, out, lut, zp_out):
    """out = lut[a, b] (the 256 x 256 table of `add`); returns the number of outputs == zp_out."""
    out_zeros = 0
    for i in range(out.shape[0]):
        u = np.uint64(i)
        v = lut[np.uint64((np.int32(a[u]) + 128) * 256 + np.int32(b[u]) + 128)]
        out[u] = v
        out_zeros += v == zp_out
    return out_zeros


@kernel
def add_pot(a, b, out, ra, rb, sign_b, lo, hi):
    """int16 power-of-two path: clamp(RoundingDivideByPOT(a, ra) + sign_b * RoundingDivideByPOT(b, rb));
    returns the number of zero outputs."""
    out_zeros = 0
    for i in range(out.shape[0]):
        v = min(max(rdbpot(np.int64(a[i]), ra) + sign_b * rdbpot(np.int64(b[i]), rb), lo), hi)
        out[i] = v
        out_zeros += v == 0
    return out_zeros


@kernel
def add(a, b, out, zp_a, m_a, s_a, zp_b, m_b, s_b, zp_out, m_out, s_out, lo, hi, floor_to=0, left=LEFT_SHIFT):
    """Returns the number of outputs equal to the output zero point.

    Each requantization is TFLite's MultiplyByQuantizedMultiplier (multipliers > 0, so its high
    multiply never saturates), written branch-free so the loop vectorises; the first `floor_to`
    elements rescale their inputs with a final shift that rounds down (legacy uint8's 8-lane path).
    """
    la, ra = np.int64(max(s_a, 0)), np.int64(max(-s_a, 0))
    lb, rb = np.int64(max(s_b, 0)), np.int64(max(-s_b, 0))
    lo_, ro = np.int64(max(s_out, 0)), np.int64(max(-s_out, 0))
    ma, mb, mo_ = np.int64(m_a), np.int64(m_b), np.int64(m_out)
    left_ = np.int64(left)
    out_zeros = 0
    for i in range(min(floor_to, out.shape[0])):
        xa = (np.int64(a[i]) - zp_a) << left_
        xb = (np.int64(b[i]) - zp_b) << left_
        va = (((xa << la) * ma + np.int64(1 << 30)) >> 31) >> ra  # vqrdmulh, then a truncating shift
        vb = (((xb << lb) * mb + np.int64(1 << 30)) >> 31) >> rb
        v = round_clamp(((va + vb) << lo_) * mo_, ro, TFLITE, zp_out, lo, hi)
        out[i] = v
        out_zeros += v == zp_out
    for i in range(max(floor_to, 0), out.shape[0]):
        xa = (np.int64(a[i]) - zp_a) << left_
        xb = (np.int64(b[i]) - zp_b) << left_
        va = round_shift((xa << la) * ma, ra, TFLITE)
        vb = round_shift((xb << lb) * mb, rb, TFLITE)
        v = round_clamp(((va + vb) << lo_) * mo_, ro, TFLITE, zp_out, lo, hi)
        out[i] = v
        out_zeros += v == zp_out
    return out_zeros
