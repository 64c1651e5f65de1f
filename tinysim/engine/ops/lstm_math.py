"""gemmlowp's 16-bit fixed point, as TFLite's integer LSTM (8x8_16) and SVDF use it.

tensor_utils' ApplySigmoid / ApplyTanh evaluate gemmlowp::logistic and gemmlowp::tanh on
FixedPoint<int16_t, IntegerBits> raw values: 16-bit SaturatingRoundingDoublingHighMul,
wrapping 16-bit adds, saturating power-of-two rescales, and the library's int32 constants
rounding-shifted by 16 bits (RescaleConstantInitializer). Every value here is an int16 held
in an int64; `_wrap` reproduces the int16 wrap-around of plain gemmlowp adds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tinysim.engine.fixedpoint import rdbpot
from tinysim.engine.jit import kernel

INT16_MIN = -32768
INT16_MAX = 32767
ONE_Q0 = INT16_MAX  # FixedPoint<int16, 0>::One()


def _c16(raw32: int) -> int:
    """RescaleConstantInitializer<int16>: an int32 gemmlowp constant rounded to 16 bits."""
    mask = (1 << 16) - 1
    threshold = (mask >> 1) + (1 if raw32 < 0 else 0)
    return (raw32 >> 16) + (1 if (raw32 & mask) > threshold else 0)


EXP_M1_8 = _c16(1895147668)  # exp(-1/8)
ONE_THIRD = _c16(715827883)
C48_17 = _c16(1515870810)  # 48/17 in Q2.13
CNEG32_17 = _c16(-1010580540)  # -32/17 in Q2.13
# exp(-2**k) for k = -2 .. 4 (the barrel shifter of exp_on_negative_values)
BARREL = np.array([_c16(v) for v in (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)], np.int64)


@kernel
def _wrap(x):
    return ((x + 32768) & 0xFFFF) - 32768


@kernel
def srdhm16(a, b):
    """16-bit SaturatingRoundingDoublingHighMul (the FixedPoint product)."""
    if a == INT16_MIN and b == INT16_MIN:
        return INT16_MAX
    ab = a * b
    num = ab + (16384 if ab >= 0 else 1 - 16384)
    q = num >> 15  # C++ truncates toward zero: correct floor for negative non-multiples
    if num < 0 and (num & 0x7FFF) != 0:
        q += 1
    return q


@kernel
def _shl_sat(x, e):
    """SaturatingRoundingMultiplyByPOT<e> for e > 0 on int16."""
    threshold = (1 << (15 - e)) - 1
    if x > threshold:
        return INT16_MAX
    if x < -threshold:
        return INT16_MIN
    return x << e


@kernel
def _rounding_half_sum(a, b):
    s = a + b
    sign = 1 if s >= 0 else -1
    t = s + sign
    q = abs(t) >> 1
    return _wrap(q if t >= 0 else -q)  # C++ division truncates toward zero


@kernel
def _exp_quarter(a):
    """exp(a) for a in [-1/4, 0), Q0.15."""
    x = _wrap(a + (1 << 12))
    x2 = srdhm16(x, x)
    x3 = srdhm16(x2, x)
    x4 = srdhm16(x2, x2)
    x4_4 = rdbpot(x4, 2)
    t = rdbpot(_wrap(srdhm16(_wrap(x4_4 + x3), ONE_THIRD) + x2), 1)
    return min(max(EXP_M1_8 + srdhm16(EXP_M1_8, _wrap(x + t)), INT16_MIN), INT16_MAX)


@kernel
def exp_on_negative_values(a, integer_bits):
    """gemmlowp exp_on_negative_values of FixedPoint<int16, integer_bits> raw `a`, result Q0.15."""
    frac = 15 - integer_bits
    quarter = 1 << (frac - 2)
    a_mod = _wrap((a & (quarter - 1)) - quarter)
    result = _exp_quarter(_shl_sat(a_mod, integer_bits) if integer_bits > 0 else a_mod)
    remainder = _wrap(a_mod - a)
    for k in range(7):
        exponent = k - 2
        if integer_bits > exponent and (remainder & (1 << (frac + exponent))) != 0:
            result = srdhm16(result, BARREL[k])
    if integer_bits > 5:
        clamp = _wrap(rdbpot(-(1 << (36 - integer_bits)), 16))
        if a < clamp:
            result = 0
    if a == 0:
        result = ONE_Q0
    return result


@kernel
def _newton_reciprocal(a):
    """The Newton-Raphson iterate x ~ 1 / half_denominator (Q2.13) shared by logistic and tanh."""
    half = _rounding_half_sum(a, ONE_Q0)
    x = _wrap(C48_17 + srdhm16(half, CNEG32_17))
    for _ in range(3):
        one_minus = _wrap((1 << 13) - srdhm16(half, x))
        x = _wrap(x + _shl_sat(srdhm16(x, one_minus), 2))
    return x


@kernel
def logistic16(a, integer_bits):
    """gemmlowp::logistic on FixedPoint<int16, integer_bits>, result Q0.15."""
    if a == 0:
        return 1 << 14
    positive = a > 0
    abs_a = a if positive else _wrap(-a)
    e = exp_on_negative_values(_wrap(-abs_a), integer_bits)
    pos = _shl_sat(_newton_reciprocal(e), 1)  # one_over_one_plus_x_for_x_in_0_1
    return pos if positive else _wrap(ONE_Q0 - pos)


@kernel
def tanh16(a, integer_bits):
    """gemmlowp::tanh on FixedPoint<int16, integer_bits>, result Q0.15."""
    if a == 0:
        return 0
    negative = a < 0
    n = a if negative else _wrap(-a)
    e = exp_on_negative_values(n, integer_bits + 1)  # ExactMulByPot<1>: exp(-2|a|)
    t = _shl_sat(_wrap(_newton_reciprocal(e) - (1 << 13)), 2)  # one_minus_x_over_one_plus_x
    return _wrap(-t) if negative else t


@kernel
def _table16(tanh, integer_bits):
    """The function on every int16 input, indexed by input + 32768."""
    out = np.empty(65536, np.int16)
    for i in range(65536):
        a = np.int64(i - 32768)
        out[i] = tanh16(a, integer_bits) if tanh else logistic16(a, integer_bits)
    return out


@lru_cache(maxsize=8)
def gate_tables(tanh_bits: int) -> np.ndarray:
    """logistic16(., 3), tanh16(., 3) and tanh16(., tanh_bits) as three consecutive 65,536-entry int16 tables
    (flat): the LSTM looks each gate element up instead of evaluating the ~60 ns fixed-point series, and
    is bit-exact by construction since each table is the function evaluated on every input."""
    tables = np.concatenate([_table16(False, 3), _table16(True, 3), _table16(True, tanh_bits)])
    tables.flags.writeable = False  # shared between prepares (cached)
    return tables
