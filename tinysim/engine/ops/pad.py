"""PAD and PADV2: fill the output with the pad value, then copy the input into its interior.

The pad value (LiteRT pad.cc): PAD's is the output zero point of a quantized tensor (already shifted
for legacy uint8, see tinysim.engine.uint8) and 0 otherwise; PADV2's is its constant-values input
(which LiteRT requires to be quantized as the output), or PAD's when absent. The kernel fills raw bits,
so one path serves every dtype (strided_copy).
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.ops import strided_copy as sc
from tinysim.engine.program import QUANTIZED, OpPlan, PrepareContext, scale, zp
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

evaluate = sc.evaluate


def bits(value, dtype: DType) -> int:
    """The element's bytes as one signed little-endian integer (what the kernel fills with)."""
    return int.from_bytes(np.asarray([value], dtype.numpy).tobytes(), "little", signed=True)


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0, dtypes=sc.COPY_DTYPES), ctx.act(op, 0, output=True, dtypes=sc.COPY_DTYPES)
    sc.same_quant(ctx, op, x, y)
    pads = ctx.tensor(op, 1)
    if not pads.is_constant or pads.dtype not in (DType.INT32, DType.INT64):
        raise ctx.fail(op, "paddings must be a constant int32/int64 tensor")
    rank = len(x.shape)
    flat = [int(v) for v in pads.constant().reshape(-1)]
    if len(flat) != 2 * rank or min(flat, default=0) < 0:
        raise ctx.fail(op, f"paddings {flat} do not fit rank {rank} (non-negative pairs)")
    widths = list(zip(flat[::2], flat[1::2]))
    shape = tuple(int(d + a + b) for d, (a, b) in zip(x.shape, widths))
    if tuple(y.shape) != shape:
        raise ctx.fail(op, f"output shape {tuple(y.shape)} != padded {shape}")
    value = zp(y) if y.dtype in QUANTIZED else 0
    if op.kind is OpKind.PADV2 and len(op.inputs) > 2 and op.inputs[2] >= 0:
        v = ctx.tensor(op, 2)
        if not v.is_constant or v.size != 1 or v.dtype is not y.dtype:
            raise ctx.fail(op, "the pad value must be a constant scalar of the output's dtype")
        if y.dtype in QUANTIZED and (v.quant is None or zp(v) != zp(y) or np.float32(scale(v)) != np.float32(scale(y))):
            raise ctx.fail(op, "the pad value must be quantized as the output (LiteRT requires it)")
        value = v.constant().reshape(-1)[0]
    out_strides = sc.strides(shape)
    dst = ctx.offset(op, 0, output=True)
    start = dst + y.dtype.itemsize * sum(int(a) * s for (a, _), s in zip(widths, out_strides))
    copy = sc.piece(ctx.offset(op, 0), start, x.shape, sc.strides(x.shape), out_strides)
    return sc.plan(ctx, op, [copy], [(dst, y)], read=x.nbytes, fill=bits(value, y.dtype))
