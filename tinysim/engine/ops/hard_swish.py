"""HARD_SWISH on int8 and legacy uint8: TFLite's reference int16 fixed-point HardSwish.

LiteRT's optimized_ops::HardSwish runs NEON only on real ARM (its comment: arm_neon_sse.h's vqshl is
buggy with zero shifts), so on x86 every element takes reference_ops::HardSwish: the input on a
"hires" scale (x - zp) * 2**7, a "reluish" factor in [0, 1] from a 16-bit multiplier (gemmlowp's
rounding doubling high multiply, saturating shifts), the product with the non-rounding doubling
high multiply, then a rounding right shift to the output scale. Prepare computes the multipliers in
float32 and keeps the top 16 bits of QuantizeMultiplier's (DownScaleInt32ToInt16Multiplier).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import quantize_multiplier, rdbpot
from tinysim.engine.jit import kernel
from tinysim.engine.ops.quantize import unary_events
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.workload.graph import Op

HardSwishRow = IntEnum("HardSwishRow", "x y size zp_in zp_out out_m out_e relu_m relu_e", start=0)
Row = HardSwishRow
I16_MIN, I16_MAX = -(2**15), 2**15 - 1


def multiplier16(real: np.float32) -> tuple[int, int]:
    """QuantizeMultiplier, then DownScaleInt32ToInt16Multiplier: (16-bit multiplier, exponent)."""
    m, e = quantize_multiplier(float(real))
    return (I16_MAX if m >= 2**31 - 1 - (1 << 15) else (m + (1 << 15)) >> 16), e


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    if x.shape != y.shape:
        raise ctx.fail(op, f"input shape {x.shape} != output shape {y.shape}")
    hires = np.float32(1.0 / 128.0) * np.float32(scale(x))
    out_m, out_e = multiplier16(hires / np.float32(scale(y)))
    relu_m, relu_e = multiplier16(hires / (np.float32(3.0) / np.float32(32768.0)))
    if out_e > 0:  # LiteRT's Prepare: TF_LITE_ENSURE(output_multiplier_exponent <= 0)
        raise ctx.fail(op, f"output scale {scale(y):g} is too small for the input scale {scale(x):g}")
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size, zp_in=zp(x),
                  zp_out=zp(y), out_m=out_m, out_e=out_e, relu_m=relu_m, relu_e=relu_e)  # fmt: skip
    return OpPlan(params, unary_events(x, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n = p[Row.size]
    x, out = arena[p[Row.x] : p[Row.x] + n], arena[p[Row.y] : p[Row.y] + n]
    zeros = 0
    for i in range(n):
        v = hard_swish(np.int64(x[i]) - p[Row.zp_in], p[Row.out_m], p[Row.out_e], p[Row.relu_m], p[Row.relu_e])
        r = min(max(v + p[Row.zp_out], -128), 127)
        out[i] = r
        zeros += r == p[Row.zp_out]
    return 0, zeros


@kernel
def srdhm16(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul on int16: (a * b + nudge) / 2**15, ties away from zero."""
    if a == I16_MIN and b == I16_MIN:
        return np.int64(I16_MAX)
    ab = np.int64(a) * np.int64(b)
    num = ab + (np.int64(1 << 14) if ab >= 0 else np.int64(1 - (1 << 14)))
    q = abs(num) >> 15  # C++ division truncates toward zero
    return -q if num < 0 else q


@kernel
def sat_shl16(v, amount):
    return min(max(v << amount, I16_MIN), I16_MAX)


@kernel
def hard_swish(v, out_m, out_e, relu_m, relu_e):
    """reference_ops::HardSwish on x - zp_in (int16 arithmetic), before the output zero point."""
    hires = v * 128
    preshift = srdhm16(hires, out_m)
    reluish = hires
    if relu_e > 0:
        reluish = sat_shl16(reluish, relu_e - 1)
    reluish = srdhm16(reluish, relu_m)
    if relu_e > 0:
        reluish = sat_shl16(reluish, 1)
    if relu_e < 0:
        reluish = rdbpot(reluish, -relu_e)
    reluish = (reluish + (1 << 15)) >> 1
    ab = reluish * preshift  # SaturatingDoublingHighMul: no rounding, truncation toward zero
    product = abs(ab) >> 15
    product = -product if ab < 0 else product
    return rdbpot(product, -out_e)
