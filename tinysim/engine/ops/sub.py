"""SUB of two int8 tensors of the same shape (TFLite integer_ops Sub, no broadcasting).

TFLite's PrepareGeneralSubOp sets ADD's parameters and negates the second input's multiplier, so
SUB runs ADD's kernels (and its 256 x 256 output table for large tensors) on those parameters.
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.fixedpoint import activation_range, quantize_multiplier
from tinysim.engine.ops.add import LEFT_SHIFT, TABLE_FROM, AddRow, add, evaluate
from tinysim.engine.program import OpPlan, PrepareContext, binary_events, pack, scale, zp
from tinysim.workload.graph import Op

__all__ = ["evaluate", "prepare"]
Row = AddRow


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    a, b, y = ctx.act(op, 0), ctx.act(op, 1), ctx.act(op, 0, output=True)
    if not (a.shape == b.shape == y.shape):
        raise ctx.fail(op, f"broadcasting {a.shape} - {b.shape} -> {y.shape} is not supported")
    twice_max = 2.0 * max(scale(a), scale(b))
    m_a, s_a = quantize_multiplier(scale(a) / twice_max)
    m_b, s_b = quantize_multiplier(scale(b) / twice_max)
    m_out, s_out = quantize_multiplier(twice_max / ((1 << LEFT_SHIFT) * scale(y)))
    lo, hi = activation_range(op.attrs.activation.value, scale(y), zp(y))
    stage = {"zp_a": zp(a), "m_a": m_a, "s_a": s_a, "zp_b": zp(b), "m_b": -m_b, "s_b": s_b,
             "zp_out": zp(y), "m_out": m_out, "s_out": s_out, "lo": lo, "hi": hi}  # fmt: skip
    table = -1
    if y.size >= TABLE_FROM:
        grid = np.arange(-128, 128, dtype=np.int8)
        lut = np.empty(256 * 256, np.int8)
        add(np.repeat(grid, 256), np.tile(grid, 256), lut, **stage)
        table = ctx.i16.add(lut.view(np.int16))
    a_at, b_at, y_at = ctx.offset(op, 0), ctx.offset(op, 1), ctx.offset(op, 0, output=True)
    params = pack(Row, a=a_at, b=b_at, y=y_at, size=y.size, table=table, **stage)
    return OpPlan(params, binary_events(a, b, y))
