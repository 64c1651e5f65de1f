"""BATCH_MATMUL, int8 (per-tensor lhs, rhs and output, any zero points; rhs an activation or a constant).

out[b] = lhs[b] @ rhs[b] with AdjX / AdjY transposing the last two axes of an operand and the batch axes
broadcast as NumPy does. int32 sums of (lhs - zp) * (rhs - zp), then TFLite's double-rounding
MultiplyByQuantizedMultiplier in LiteRT too (unlike its CONV_2D / FULLY_CONNECTED, not ruy's ties toward
+inf: measured by tests/test_op_fuzz_mac.py); the multiplier is GetQuantizedConvolutionMultipler's (the two
input scales multiplied in float32, divided by the output scale in double); no fused activation.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, requantize_row
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import Op

BatchMatMulRow = IntEnum("BatchMatMulRow", """
    lhs rhs y batches m k n lhs_at rhs_at ls_m ls_k rs_k rs_n zp_l zp_r zp_out mult shift mode
""", start=0)  # fmt: skip
Row = BatchMatMulRow  # what prepare and the kernels say; the class name shows in pack's errors


def _batch_offsets(shape: tuple[int, ...], batch: tuple[int, ...], size: int) -> np.ndarray:
    """Element offset of each output batch's matrix in an operand of `shape` (its batch axes broadcast)."""
    lead = shape[:-2]
    index = np.arange(int(np.prod(lead, dtype=np.int64))).reshape(lead) * size
    return np.broadcast_to(index.reshape((1,) * (len(batch) - len(lead)) + lead), batch).ravel()


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    lhs, rhs = ctx.act(op, 0), ctx.act(op, 1, constant=True)
    y = ctx.act(op, 0, output=True)
    if len(lhs.shape) < 2 or len(rhs.shape) < 2:
        raise ctx.fail(op, "needs operands of rank >= 2")
    adj_x, adj_y = bool(op.attrs.option("AdjX", False)), bool(op.attrs.option("AdjY", False))
    m, k = lhs.shape[-1:-3:-1] if adj_x else lhs.shape[-2:]
    k2, n = rhs.shape[-1:-3:-1] if adj_y else rhs.shape[-2:]
    try:
        batch = tuple(np.broadcast_shapes(lhs.shape[:-2], rhs.shape[:-2]))
    except ValueError:
        raise ctx.fail(op, f"batch axes of {lhs.shape} and {rhs.shape} do not broadcast") from None
    if k2 != k or y.shape != (*batch, m, n):
        raise ctx.fail(op, f"{lhs.shape} x {rhs.shape} (adj {adj_x}, {adj_y}) does not give {y.shape}")
    mult, shift = quantize_multiplier(float(np.float32(scale(lhs)) * np.float32(scale(rhs))) / scale(y))
    batches = int(np.prod(batch, dtype=np.int64))
    params = pack(
        Row, lhs=ctx.offset(op, 0), rhs=ctx.offset(op, 1), y=ctx.offset(op, 0, output=True), batches=batches,
        m=m, k=k, n=n, lhs_at=ctx.i32.add(_batch_offsets(lhs.shape, batch, m * k)),
        rhs_at=ctx.i32.add(_batch_offsets(rhs.shape, batch, k * n)),
        ls_m=1 if adj_x else k, ls_k=m if adj_x else 1, rs_k=1 if adj_y else n, rs_n=k if adj_y else 1,
        zp_l=zp(lhs), zp_r=zp(rhs), zp_out=zp(y), mult=mult, shift=shift, mode=TFLITE,
    )  # fmt: skip
    macs = batches * m * n * k
    weights = rhs.is_constant
    events = Events(
        macs=macs, weight_bytes_read=macs if weights else 0, act_bytes_read=macs if weights else 2 * macs,
        act_bytes_written=y.size, elementwise=y.size, output_elements=y.size,
        weight_bytes_unique=rhs.nbytes if weights else 0,
        act_bytes_unique_read=lhs.nbytes + (0 if weights else rhs.nbytes),
    )  # fmt: skip
    return OpPlan(params, events, scratch32=3 * n)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    batches, m, k, n = p[Row.batches], p[Row.m], p[Row.k], p[Row.n]
    lhs_at, rhs_at = i32[p[Row.lhs_at] : p[Row.lhs_at] + batches], i32[p[Row.rhs_at] : p[Row.rhs_at] + batches]
    ls_m, ls_k, rs_k, rs_n = p[Row.ls_m], p[Row.ls_k], p[Row.rs_k], p[Row.rs_n]
    zp_l, zp_r = p[Row.zp_l], p[Row.zp_r]
    acc, mult, shift = s32[:n], s32[n : 2 * n], s32[2 * n : 3 * n]
    mult[:] = p[Row.mult]
    shift[:] = p[Row.shift]
    out = arena[p[Row.y] : p[Row.y] + batches * m * n]
    zero_macs = 0
    out_zeros = 0
    for b in range(batches):
        lb, rb = p[Row.lhs] + lhs_at[b], p[Row.rhs] + rhs_at[b]
        for i in range(m):
            for j in range(n):
                s = np.int32(0)
                for q in range(k):
                    lv = np.int32(arena[lb + i * ls_m + q * ls_k])
                    rv = np.int32(arena[rb + q * rs_k + j * rs_n])
                    s += (lv - zp_l) * (rv - zp_r)
                    if count and (lv == zp_l or rv == zp_r):
                        zero_macs += 1
                acc[j] = s
            out_zeros += requantize_row(acc, mult, shift, p[Row.mode], p[Row.zp_out], -128, 127, out, (b * m + i) * n)
    return zero_macs, out_zeros
