"""TFLite's fixed-point requantization: multiplier/shift from a real scale, and its rounding.

Two output stages exist in the reference runtimes and differ only on negative ties:
- `TFLITE` — gemmlowp SaturatingRoundingDoublingHighMul then RoundingDivideByPOT (ties away
  from zero): TFLite's default (double-rounding) MultiplyByQuantizedMultiplier, used by every
  TFLite Micro kernel and by LiteRT's depthwise conv and ADD.
- `RUY` — the same high multiply, then a rounding right shift with ties toward +infinity: the
  output stage of ruy's x86 GEMM kernels, which LiteRT's builtin CONV_2D and FULLY_CONNECTED
  go through. Measured on all four MLPerf Tiny models (per-op, LiteRT preserve_all_tensors).
"""

from __future__ import annotations

import math

import numpy as np

from tinysim.engine.jit import kernel

TFLITE = 0
RUY = 1
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real ≈ m * 2**(shift - 31), with m in [2**30, 2**31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.copysign(math.floor(abs(q) * 2.0**31 + 0.5), q))  # TfLiteRound = std::round
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def quantize_multipliers(reals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel `quantize_multiplier` as int32 arrays (multiplier, shift)."""
    pairs = [quantize_multiplier(float(r)) for r in np.asarray(reals, np.float64).ravel()]
    return np.array([m for m, _ in pairs], np.int32), np.array([s for _, s in pairs], np.int32)


def activation_range(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8 outputs (the fused ReLU/ReLU6 clamps)."""

    def q(f: float) -> int:
        r = float(np.float32(f) / np.float32(scale))  # float32 division, as TFLite
        return zero_point + int(math.copysign(math.floor(abs(r) + 0.5), r))

    if activation == "RELU":
        return max(-128, zero_point), 127
    if activation == "RELU6":
        return max(-128, zero_point), min(127, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(-128, q(-1.0)), min(127, q(1.0))
    return -128, 127


@kernel
def srdhm(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values held in int64."""
    if a == INT32_MIN and b == INT32_MIN:
        return INT32_MAX
    ab = np.int64(a) * np.int64(b)
    num = ab + (np.int64(1 << 30) if ab >= 0 else np.int64(1 - (1 << 30)))
    # C++ division truncates toward zero; >> floors, so correct negative non-multiples.
    q = num >> 31
    if num < 0 and (num & np.int64(0x7FFFFFFF)) != 0:
        q += 1
    return q


@kernel
def rdbpot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT: x / 2**exponent rounded, ties away from zero."""
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


@kernel
def requantize(acc: int, mult: int, shift: int, mode: int) -> int:
    """MultiplyByQuantizedMultiplier with the output stage `mode` (TFLITE or RUY)."""
    left = max(0, shift)
    right = -shift if shift < 0 else 0
    hi = srdhm(np.int64(acc) * (np.int64(1) << left), mult)
    if mode == RUY:
        if right == 0:
            return hi
        return (hi + (np.int64(1) << (right - 1))) >> right
    return rdbpot(hi, right)


@kernel
def requantize_row(acc, mult, shift, mode, zp_out, lo, hi, out, base):
    """out[base + i] = clamp(requantize(acc[i]) + zp_out): branch-free so LLVM vectorises it.

    Valid for multipliers > 0 (prepare guarantees it), so srdhm cannot saturate.
    Returns the number of outputs equal to zp_out.
    """
    n = acc.shape[0]
    left_shift = False
    for i in range(n):
        left_shift |= shift[i] > 0
    if left_shift:
        return _requantize_row_shifted(acc, mult, shift, mode, zp_out, lo, hi, out, base)
    dst = out[base : base + n]
    zeros = 0
    for i in range(n):  # no left shift: a 32 x 32 -> 64-bit product (vpmuldq)
        right = np.int64(-shift[i])
        ab = np.int64(acc[i]) * np.int64(mult[i])
        v = round_clamp(ab, right, mode, zp_out, lo, hi)
        dst[i] = v
        zeros += v == zp_out
    return zeros


@kernel
def round_shift(ab, right, mode):
    """The rounded high half of 2 * ab, shifted right with `mode`'s rounding (ab = acc * 2**left * mult).

    srdhm's nudge (2**30, or 1 - 2**30 below zero) followed by a truncating division by 2**31 is,
    in both signs, (ab + 2**30) >> 31. RoundingDivideByPOT (ties away from zero) is
    (hi + half - [hi < 0]) >> right, ruy's (ties toward +inf) (hi + half) >> right, half = 2**right / 2.
    Branch-free (selects), so loops over it vectorise.
    """
    hi32 = (ab + np.int64(1 << 30)) >> 31
    half = (np.int64(1) << right) >> 1
    if mode == 1:  # RUY: ties toward +inf
        return (hi32 + half) >> right
    return (hi32 + half - (np.int64(1) if (hi32 < 0) & (right > 0) else np.int64(0))) >> right  # TFLITE


@kernel
def round_clamp(ab, right, mode, zp_out, lo, hi):
    """`round_shift` plus the output zero point, clamped to [lo, hi]."""
    return min(max(round_shift(ab, right, mode) + zp_out, lo), hi)


@kernel
def _requantize_row_shifted(acc, mult, shift, mode, zp_out, lo, hi, out, base):
    """`requantize_row` where some shift is positive (a left shift before the high multiply)."""
    dst = out[base : base + acc.shape[0]]
    zeros = 0
    for i in range(acc.shape[0]):
        s = np.int64(shift[i])
        ab = (np.int64(acc[i]) << max(s, 0)) * np.int64(mult[i])
        dst[i] = round_clamp(ab, max(-s, 0), mode, zp_out, lo, hi)
        zeros += dst[i] == zp_out
    return zeros
