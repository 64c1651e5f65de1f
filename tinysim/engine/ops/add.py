"""ADD of two int8 tensors of the same shape (TFLite integer_ops::Add, no broadcasting).

Both inputs are shifted left by 20 bits, rescaled to twice the larger input scale, summed
and rescaled to the output: three TFLite (double-rounding) requantizations per element.
The output depends only on the two int8 inputs, so a large ADD looks it up in a 256 x 256
table that the same kernel computes once at prepare time.
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, activation_range, quantize_multiplier, round_clamp, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, row, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import Op

OPCODE = 6
LEFT_SHIFT = 20  # int8 headroom, as TFLite
TABLE_FROM = 1024  # outputs from which a 256 x 256 output table (64 KiB, built at prepare) pays off


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    a, b, y = ctx.act(op, 0), ctx.act(op, 1), ctx.act(op, 0, output=True)
    if not (a.shape == b.shape == y.shape):
        raise ctx.fail(op, f"broadcasting {a.shape} + {b.shape} -> {y.shape} is not supported")
    twice_max = 2.0 * max(scale(a), scale(b))
    m1, s1 = quantize_multiplier(scale(a) / twice_max)
    m2, s2 = quantize_multiplier(scale(b) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * scale(y)))
    lo, hi = activation_range(op.attrs.activation.value, scale(y), zp(y))
    stage = (zp(a), m1, s1, zp(b), m2, s2, zp(y), mo, so, lo, hi)
    table = -1
    if y.size >= TABLE_FROM:  # every (a, b) int8 pair's output, computed once by the same kernel
        grid = np.arange(-128, 128, dtype=np.int8)
        lut = np.empty(256 * 256, np.int8)
        add(np.repeat(grid, 256), np.tile(grid, 256), lut, *stage)
        table = ctx.i16.add(lut.view(np.int16))
    params = row(ctx.offset(op, 0), ctx.offset(op, 1), ctx.offset(op, 0, output=True), y.size, *stage, table)
    events = Events(
        act_bytes_read=2 * y.size,
        act_bytes_written=y.size,
        elementwise=y.size,
        output_elements=y.size,
        act_bytes_unique_read=a.nbytes + b.nbytes,
    )
    return OpPlan(OPCODE, params, events)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    size = p[3]
    a, b, out = arena[p[0] : p[0] + size], arena[p[1] : p[1] + size], arena[p[2] : p[2] + size]
    if p[15] >= 0:
        return 0, add_table(a, b, out, i16.view(np.int8)[2 * p[15] : 2 * p[15] + 256 * 256], p[10])
    return 0, add(a, b, out, p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14])


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
def add(a, b, out, zp1, m1, s1, zp2, m2, s2, zp_out, mo, so, lo, hi):
    """Returns the number of outputs equal to the output zero point.

    Each requantization is TFLite's MultiplyByQuantizedMultiplier (multipliers > 0, so its high
    multiply never saturates), written branch-free so the loop vectorises.
    """
    la, ra = np.int64(max(s1, 0)), np.int64(max(-s1, 0))
    lb, rb = np.int64(max(s2, 0)), np.int64(max(-s2, 0))
    lo_, ro = np.int64(max(so, 0)), np.int64(max(-so, 0))
    ma, mb, mo_ = np.int64(m1), np.int64(m2), np.int64(mo)
    out_zeros = 0
    for i in range(out.shape[0]):
        xa = (np.int64(a[i]) - zp1) << LEFT_SHIFT
        xb = (np.int64(b[i]) - zp2) << LEFT_SHIFT
        va = round_shift((xa << la) * ma, ra, TFLITE)
        vb = round_shift((xb << lb) * mb, rb, TFLITE)
        v = round_clamp(((va + vb) << lo_) * mo_, ro, TFLITE, zp_out, lo, hi)
        out[i] = v
        out_zeros += v == zp_out
    return out_zeros
