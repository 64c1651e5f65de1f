"""ADD of two int8 tensors of the same shape (TFLite integer_ops::Add, no broadcasting).

Both inputs are shifted left by 20 bits, rescaled to twice the larger input scale, summed
and rescaled to the output: three TFLite (double-rounding) requantizations per element.
The output depends only on the two int8 inputs, so a large ADD looks it up in a 256 x 256
table that the same kernel computes once at prepare time.

Legacy uint8 (tinysim.engine.uint8): LiteRT's uint8 kernel (optimized_ops::AddElementwise, NEON
emulated on x86) runs whole blocks of 8 elements with the input rescalings' final shift rounding
down (vqrdmulh, then a plain arithmetic shift), and the last size % 8 elements the scalar way
(`vec8`; found by tests/test_uint8_models.py).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, activation_range, quantize_multiplier, round_clamp, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, binary_events, pack, scale, zp
from tinysim.workload.graph import Op

AddRow = IntEnum("AddRow", "a b y size zp_a m_a s_a zp_b m_b s_b zp_out m_out s_out lo hi table vec8", start=0)
Row = AddRow  # what prepare and the kernels say; the class name shows in pack's errors
LEFT_SHIFT = 20  # int8 headroom, as TFLite
TABLE_FROM = 1024  # outputs from which a 256 x 256 output table (64 KiB, built at prepare) pays off


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    a, b, y = ctx.act(op, 0), ctx.act(op, 1), ctx.act(op, 0, output=True)
    if not (a.shape == b.shape == y.shape):
        raise ctx.fail(op, f"broadcasting {a.shape} + {b.shape} -> {y.shape} is not supported")
    twice_max = 2.0 * max(scale(a), scale(b))
    m_a, s_a = quantize_multiplier(scale(a) / twice_max)
    m_b, s_b = quantize_multiplier(scale(b) / twice_max)
    m_out, s_out = quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * scale(y)))
    lo, hi = activation_range(op.attrs.activation.value, scale(y), zp(y))
    stage = {"zp_a": zp(a), "m_a": m_a, "s_a": s_a, "zp_b": zp(b), "m_b": m_b, "s_b": s_b,
             "zp_out": zp(y), "m_out": m_out, "s_out": s_out, "lo": lo, "hi": hi}  # fmt: skip
    vec8 = op.inputs[0] in ctx.legacy
    table = -1
    if y.size >= TABLE_FROM:  # every (a, b) int8 pair's output, computed once by the same kernel
        grid = np.arange(-128, 128, dtype=np.int8)
        lut = np.empty(256 * 256, np.int8)
        add(np.repeat(grid, 256), np.tile(grid, 256), lut, **stage, floor_to=lut.size if vec8 else 0)
        table = ctx.i16.add(lut.view(np.int16))
    a_at, b_at, y_at = ctx.offset(op, 0), ctx.offset(op, 1), ctx.offset(op, 0, output=True)
    params = pack(Row, a=a_at, b=b_at, y=y_at, size=y.size, table=table, vec8=vec8, **stage)
    return OpPlan(params, binary_events(a, b, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size, table = p[Row.size], p[Row.table]
    a = arena[p[Row.a] : p[Row.a] + size]
    b = arena[p[Row.b] : p[Row.b] + size]
    out = arena[p[Row.y] : p[Row.y] + size]
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
def add(a, b, out, zp_a, m_a, s_a, zp_b, m_b, s_b, zp_out, m_out, s_out, lo, hi, floor_to=0):
    """Returns the number of outputs equal to the output zero point.

    Each requantization is TFLite's MultiplyByQuantizedMultiplier (multipliers > 0, so its high
    multiply never saturates), written branch-free so the loop vectorises; the first `floor_to`
    elements rescale their inputs with a final shift that rounds down (legacy uint8's 8-lane path).
    """
    la, ra = np.int64(max(s_a, 0)), np.int64(max(-s_a, 0))
    lb, rb = np.int64(max(s_b, 0)), np.int64(max(-s_b, 0))
    lo_, ro = np.int64(max(s_out, 0)), np.int64(max(-s_out, 0))
    ma, mb, mo_ = np.int64(m_a), np.int64(m_b), np.int64(m_out)
    out_zeros = 0
    for i in range(min(floor_to, out.shape[0])):
        xa = (np.int64(a[i]) - zp_a) << LEFT_SHIFT
        xb = (np.int64(b[i]) - zp_b) << LEFT_SHIFT
        va = (((xa << la) * ma + np.int64(1 << 30)) >> 31) >> ra  # vqrdmulh, then a truncating shift
        vb = (((xb << lb) * mb + np.int64(1 << 30)) >> 31) >> rb
        v = round_clamp(((va + vb) << lo_) * mo_, ro, TFLITE, zp_out, lo, hi)
        out[i] = v
        out_zeros += v == zp_out
    for i in range(max(floor_to, 0), out.shape[0]):
        xa = (np.int64(a[i]) - zp_a) << LEFT_SHIFT
        xb = (np.int64(b[i]) - zp_b) << LEFT_SHIFT
        va = round_shift((xa << la) * ma, ra, TFLITE)
        vb = round_shift((xb << lb) * mb, rb, TFLITE)
        v = round_clamp(((va + vb) << lo_) * mo_, ro, TFLITE, zp_out, lo, hi)
        out[i] = v
        out_zeros += v == zp_out
    return out_zeros
