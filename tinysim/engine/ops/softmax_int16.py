"""SOFTMAX int16 -> int16 as LiteRT's builtin kernel computes it (reference_ops::SoftmaxInt16).

Prepare builds two 513-entry int16 tables in double (LUTPopulate<int16_t>: exp on [-10, 0] and
1 / (1 + x) on [0, 1], both with output range [-1, 1)); the kernel scales each difference to the
max into the exp table's input range with MultiplyByQuantizedMultiplier, sums the Q0.15 exps,
normalises the sum to [1, 2) and looks up its reciprocal, then rescales each exp by it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, requantize
from tinysim.engine.jit import kernel

LUT_SIZE = 513
_RANGE = 65535  # int16 max - min


def _round(v: float) -> float:
    """std::round: half away from zero (exact, unlike floor(v + 0.5) near 0.5)."""
    a = abs(v)
    f = math.floor(a)
    return math.copysign(f + 1.0 if a - f >= 0.5 else f, v)


def lut_populate(input_scale: float, input_zp: int, fn: Callable[[float], float]) -> np.ndarray:
    """LUTPopulateInt16<double> with output scale 2/65535, zero point 0: 512 samples biased so the
    linear interpolation hits the midpoints, plus the end point (used only for the last slope)."""
    out_scale = 2.0 / _RANGE
    in_min, in_max = input_scale * (-32768 - input_zp), input_scale * (32767 - input_zp)
    inv = 65536.0 / (out_scale * 32767 - out_scale * -32768)
    step = (in_max - in_min) / 512
    half = step / 2
    lut = np.empty(LUT_SIZE, np.int16)
    for i in range(512):
        val = fn(in_min + i * step)
        val_mid = fn(in_min + i * step + half)
        val_next = fn(in_min + (i + 1) * step)
        sample = _round(val * inv)
        interp = _round((val_next * inv + _round(val * inv)) / 2)
        bias = _round((interp - _round(val_mid * inv)) / 2)
        lut[i] = min(max(sample - bias, -32768.0), 32767.0)
    lut[512] = min(max(_round(fn(in_max) * inv), -32768.0), 32767.0)
    return lut


def tables() -> tuple[np.ndarray, np.ndarray]:
    """The exp and 1 / (1 + x) tables of LiteRT's SoftmaxPrepare."""
    exp_lut = lut_populate(10.0 / _RANGE, 32767, math.exp)
    recip_lut = lut_populate(1.0 / _RANGE, -32768, lambda v: 1.0 / (1.0 + v))
    return exp_lut, recip_lut


def input_multiplier(input_scale: float, beta: float) -> tuple[int, int]:
    """QuantizeMultiplier(scale * beta / (10 / 65535)); the scale * beta product is float32 as in C++."""
    real = float(np.float32(input_scale) * np.float32(beta)) / (10.0 / _RANGE)
    return quantize_multiplier(real)


@kernel
def lut_lookup(value, lut):
    """lut_lookup_with_interpolation for an int16 value: 512 segments of 128 steps."""
    index = 256 + (value >> 7)
    offset = value & 0x7F
    base = np.int32(lut[index])
    slope = np.int32(lut[index + 1]) - base
    return base + ((slope * offset + 64) >> 7)


@kernel
def softmax_int16(x, out, exp_lut, recip_lut, mult, shift, exps):
    """reference_ops::SoftmaxInt16 over rows of x (rows, depth); `exps` is int32 scratch of depth."""
    for r in range(x.shape[0]):
        mx = np.int32(-32768)
        for j in range(x.shape[1]):
            mx = max(mx, np.int32(x[r, j]))
        total = np.int64(0)
        for j in range(x.shape[1]):
            scaled = requantize(np.int32(x[r, j]) - mx, mult, shift, TFLITE) + 32767
            e = lut_lookup(min(max(scaled, -32768), 32767), exp_lut)
            exps[j] = e
            total += e
        clz = 0  # CountLeadingZeros of the (positive, < 2**31) sum
        while clz < 32 and not (total << clz) & (np.int64(1) << 31):
            clz += 1
        shifted = ((total << (clz - 1)) + (1 << 13)) >> 14
        recip = lut_lookup(min(max(shifted - 98304, -32768), 32767), recip_lut)
        right = 31 - clz
        for j in range(x.shape[1]):
            v = (np.int64(exps[j]) * recip + (np.int64(1) << (right - 1))) >> right
            out[r, j] = min(max(v, 0), 32767)
