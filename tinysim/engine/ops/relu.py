"""RELU and RELU6 on int8 (TFLite QuantizedReluX): requantize by scale_in / scale_out, then clamp.

LiteRT's Prepare divides the scales in float32; the clamp is the fused-activation range of the
output (zero point up, and 6.0 / scale_out rounded for RELU6). One multiplier for both signs, so
the op is `leaky_relu.rescale` with equal multipliers. TFLite Micro's RELU6 (semantics "tflm") does not
rescale: it clamps the raw input to [zp_in, 6 / scale_in + zp_in], whatever the output's quantization.
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.fixedpoint import activation_range, quantize_multiplier
from tinysim.engine.ops.leaky_relu import evaluate, rescale_plan
from tinysim.engine.program import OpPlan, PrepareContext, scale, zp
from tinysim.ops import OpKind
from tinysim.workload.graph import Op

__all__ = ["evaluate", "prepare"]


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    if ctx.semantics == "tflm" and op.kind is OpKind.RELU6:  # TFLM's Relu6: raw clamp in the input's quantization
        identity = (1 << 30, 1)
        return rescale_plan(ctx, op, identity, identity, activation_range("RELU6", scale(x), zp(x)), zp_out=zp(x))
    m = quantize_multiplier(float(np.float32(scale(x)) / np.float32(scale(y))))
    return rescale_plan(ctx, op, m, m, activation_range(op.kind.value, scale(y), zp(y)))
