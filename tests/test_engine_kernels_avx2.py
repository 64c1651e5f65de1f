"""Direct tests of the LLVM-IR kernels: madd16 (AVX2 `vpmaddwd` GEMM) and requant (8-lane output stage).

Each kernel is checked against an independent reference: an int64 numpy matmul for the GEMM, and a
pure-Python-integer MultiplyByQuantizedMultiplier written from gemmlowp's formulas
(SaturatingRoundingDoublingHighMul's nudge and truncating division, then RoundingDivideByPOT: ties away
from zero for TFLite, ties toward +inf for ruy) for the output stage, plus the engine's scalar
`fixedpoint.requantize_row` / `depthwise.requantize_blocks` that the 8-lane versions mirror. Outputs are
written into sentinel-filled buffers, so a write past the block fails too.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinysim.engine.fixedpoint import RUY, TFLITE, quantize_multiplier, requantize_row
from tinysim.engine.ops.depthwise import requantize_blocks, requantize_blocks8
from tinysim.engine.ops.requant import HAVE_AVX2, requantize_inplace8, requantize_row8

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SENTINEL8, SENTINEL32 = 99, 0x5A5A5A5A
MODES = (TFLITE, RUY)
needs_avx2 = pytest.mark.skipif(not HAVE_AVX2, reason="the CPU lacks AVX2 (or TINYSIM_NO_VNNI=1 turned it off)")


def ref_requantize(acc: int, mult: int, shift: int, mode: int, zp: int, lo: int, hi: int) -> int:
    """MultiplyByQuantizedMultiplier on Python integers: (acc << left) high-multiplied by mult, then a
    rounding right shift, plus zp, clamped."""
    left, right = max(shift, 0), max(-shift, 0)
    ab = (acc << left) * mult
    num = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    x = abs(num) >> 31 if num >= 0 else -(abs(num) >> 31)  # C++ division truncates toward zero
    if mode == RUY:
        v = (x + ((1 << right) >> 1)) >> right
    else:
        mask = (1 << right) - 1
        v = (x >> right) + (1 if (x & mask) > (mask >> 1) + (1 if x < 0 else 0) else 0)
    return min(max(v + zp, lo), hi)


def _accumulators(rng: np.random.Generator, n: int, left: int = 0) -> np.ndarray:
    """int32 accumulators mixing the extremes with random magnitudes; with a left shift, small enough that
    acc << left stays in int32 (as TFLite's int32 arithmetic needs)."""
    if left:
        bound = 2 ** (31 - left) - 1
        return rng.integers(-bound, bound + 1, n).astype(np.int32)
    pool = np.array([INT32_MIN, INT32_MAX, INT32_MIN + 1, 0, 1, -1], np.int64)
    wide = rng.integers(INT32_MIN, INT32_MAX, n, endpoint=True)
    small = rng.integers(-(2**20), 2**20, n)
    pick = rng.integers(0, 3, n)
    return np.where(pick == 0, rng.choice(pool, n), np.where(pick == 1, wide, small)).astype(np.int32)


def _multipliers(rng: np.random.Generator, n: int, shifts: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mult, shift): QuantizeMultiplier's range [2**30, 2**31) with its ends, shifts in `shifts`."""
    mult = rng.integers(2**30, 2**31, n)
    mult[rng.random(n) < 0.15] = 2**30
    mult[rng.random(n) < 0.15] = 2**31 - 1
    return mult.astype(np.int32), rng.integers(shifts[0], shifts[1], n, endpoint=True).astype(np.int32)


def _output_range(rng: np.random.Generator) -> tuple[int, int, int]:
    zp = int(rng.integers(-128, 128))
    return (zp, -128, 127) if rng.random() < 0.6 else (zp, max(-128, zp), int(rng.integers(max(-128, zp), 128)))


def _expected(acc, mult, shift, mode, zp, lo, hi) -> np.ndarray:
    return np.array([ref_requantize(int(a), int(m), int(s), mode, zp, lo, hi) for a, m, s in zip(acc, mult, shift)])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(12))
def test_requantize_row8_matches_reference(seed: int, mode: int):
    rng = np.random.default_rng(seed)
    for n in (int(rng.integers(1, 8)), 8, int(rng.integers(9, 70)), 64):
        left_shifts = seed % 4 == 3  # some channels shift left: the scalar fallback
        acc = _accumulators(rng, n, left=6 if left_shifts else 0)
        mult, shift = _multipliers(rng, n, (-6, 6) if left_shifts else (-31, 0))
        zp, lo, hi = _output_range(rng)
        base = int(rng.integers(0, 9))
        out = np.full(base + n + 16, SENTINEL8, np.int8)
        zeros = requantize_row8(acc, mult, shift, mode, zp, lo, hi, out, base)
        want = _expected(acc, mult, shift, mode, zp, lo, hi)
        np.testing.assert_array_equal(out[base : base + n], want)
        assert zeros == int((want == zp).sum())
        assert (out[:base] == SENTINEL8).all() and (out[base + n :] == SENTINEL8).all()
        scalar = np.full_like(out, SENTINEL8)  # the scalar kernel it mirrors, on the same inputs
        assert requantize_row(acc, mult, shift, mode, zp, lo, hi, scalar, base) == zeros
        np.testing.assert_array_equal(scalar, out)


@pytest.mark.parametrize("mode", MODES)
def test_requantize_row8_rounds_ties_like_reference(mode: int):
    """Exact ties of the final shift, every right shift 1..30: mult 2**30 halves acc = +-(2j + 1) << r
    exactly, so the high part is an odd multiple of 2**(r - 1): TFLite rounds those away from zero, ruy up."""
    odd = 2 * np.arange(16) + 1
    for r in range(1, 31):
        j = odd[odd < 2 ** (31 - r)]
        acc = np.concatenate([j << r, -(j << r)])[:16]
        acc = np.resize(acc, 16).astype(np.int32)  # two whole 8-lane groups
        mult, shift = np.full(16, 2**30, np.int32), np.full(16, -r, np.int32)
        out = np.zeros(16, np.int8)
        requantize_row8(acc, mult, shift, mode, 0, -128, 127, out, 0)
        np.testing.assert_array_equal(out, _expected(acc, mult, shift, mode, 0, -128, 127), err_msg=f"shift -{r}")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(10))
def test_requantize_inplace8_matches_reference(seed: int, mode: int):
    rng = np.random.default_rng(100 + seed)
    for n in (int(rng.integers(1, 8)), 16, int(rng.integers(17, 60))):
        shift_value = int(rng.integers(1, 5)) if seed % 5 == 4 else int(rng.integers(-31, 1))
        acc = _accumulators(rng, n, left=max(shift_value, 0))
        mult = int(rng.choice([2**30, 2**31 - 1, int(rng.integers(2**30, 2**31))]))
        zp, lo, hi = _output_range(rng)
        buf = np.concatenate([acc, np.full(8, SENTINEL32, np.int32)])
        zeros = requantize_inplace8(buf[:n], mult, shift_value, mode, zp, lo, hi)
        want = _expected(acc, [mult] * n, [shift_value] * n, mode, zp, lo, hi)
        np.testing.assert_array_equal(buf[:n], want)
        assert zeros == int((want == zp).sum())
        assert (buf[n:] == SENTINEL32).all()


@pytest.mark.parametrize("seed", range(8))
def test_requantize_blocks8_matches_blocks(seed: int):
    """Whole blocks of 8 channels with `mode`, the last n % 8 with TFLite's rounding (LiteRT's x86
    depthwise output stage), as `requantize_blocks` on int64 accumulators."""
    rng = np.random.default_rng(200 + seed)
    mode = MODES[seed % 2]
    for n in (int(rng.integers(1, 8)), 24, int(rng.integers(9, 50))):
        acc = _accumulators(rng, n)
        mult, shift = _multipliers(rng, n, (-31, 0))
        zp, lo, hi = _output_range(rng)
        out = np.full(n + 8, SENTINEL8, np.int8)
        zeros = requantize_blocks8(acc, mult, shift, mode, zp, lo, hi, out, 0)
        c8 = n - n % 8
        want = np.concatenate([_expected(acc[:c8], mult[:c8], shift[:c8], mode, zp, lo, hi),
                               _expected(acc[c8:], mult[c8:], shift[c8:], TFLITE, zp, lo, hi)])  # fmt: skip
        np.testing.assert_array_equal(out[:n], want)
        assert zeros == int((want == zp).sum()) and (out[n:] == SENTINEL8).all()
        wide = np.full_like(out, SENTINEL8)
        assert requantize_blocks(acc.astype(np.int64), mult, shift, mode, zp, lo, hi, wide, 0) == zeros
        np.testing.assert_array_equal(wide, out)


def test_reference_rounding_ties():
    """The reference itself on hand-worked ties (mult 2**30 is one half): the high multiply rounds +1.5 up
    and -1.5 toward zero (gemmlowp's nudge 1 - 2**30 below zero); the shift rounds -1.5 away from zero
    (TFLite) or toward +inf (ruy)."""
    wide = -(2**40), 2**40
    assert ref_requantize(3, 2**30, 0, TFLITE, 0, *wide) == 2
    assert ref_requantize(-3, 2**30, 0, TFLITE, 0, *wide) == -1
    assert ref_requantize(5, 2**30, -1, TFLITE, 0, *wide) == 2  # high part 3, then 1.5 -> 2
    assert ref_requantize(-6, 2**30, -1, TFLITE, 0, *wide) == -2  # high part -3, then -1.5 -> -2
    assert ref_requantize(-6, 2**30, -1, RUY, 0, *wide) == -1  # -1.5 -> -1
    assert ref_requantize(INT32_MAX, 2**31 - 1, 0, TFLITE, 0, *wide) == INT32_MAX - 1  # (2**31 - 1)**2 / 2**31
    assert ref_requantize(100, 2**30, 1, TFLITE, 3, -128, 127) == 103  # left shift: 100 * 2 * 0.5, + zp


def _gemm_case(rng: np.random.Generator, k_max: int = 90, oc_max: int = 44):
    """Random GEMM operands in [-255, 255] (x - zp, w - zp): ragged k (kr = k rounded up to even, padded
    patch columns random, padded weight columns 0) and ragged channel counts."""
    k = int(rng.integers(1, k_max))
    kr = k + k % 2
    oc = int(rng.integers(1, oc_max))
    ocp = -(-oc // 8) * 8
    w = rng.integers(-255, 256, (oc, k))
    bias = np.concatenate([rng.integers(-(2**22), 2**22, oc), np.zeros(ocp - oc, np.int64)]).astype(np.int32)
    return k, kr, oc, ocp, w, bias


def _padded_weights(w: np.ndarray, kr: int, ocp: int) -> np.ndarray:
    full = np.zeros((ocp, kr), np.int64)
    full[: w.shape[0], : w.shape[1]] = w
    return full


@needs_avx2
@pytest.mark.parametrize("seed", range(25))
def test_madd_block_matches_int64_matmul(seed: int):
    from tinysim.engine.ops.madd16 import ROWS, madd_block, pack_weights

    rng = np.random.default_rng(300 + seed)
    _, kr, _, ocp, w, bias = _gemm_case(rng)
    tn = int(rng.integers(1, 14))
    rows = -(-tn // ROWS) * ROWS  # the kernel computes whole tiles of ROWS rows
    patch = rng.integers(-255, 256, (rows, kr))
    acc = np.full(rows * ocp + 24, SENTINEL32, np.int32)
    madd_block(patch.astype(np.int16).ravel(), pack_weights(w, kr), bias, acc, tn, kr, ocp)
    want = patch @ _padded_weights(w, kr, ocp).T + bias
    np.testing.assert_array_equal(acc[: rows * ocp].reshape(rows, ocp), want)
    assert (acc[rows * ocp :] == SENTINEL32).all()


@needs_avx2
@pytest.mark.parametrize("seed", range(25))
def test_madd_row_matches_int64_matmul(seed: int):
    from tinysim.engine.ops.madd16 import madd_row, pack_weights

    rng = np.random.default_rng(400 + seed)
    _, kr, _, ocp, w, bias = _gemm_case(rng, k_max=600, oc_max=80)
    x = rng.integers(-255, 256, kr)
    acc = np.full(ocp + 16, SENTINEL32, np.int32)
    madd_row(x.astype(np.int16), pack_weights(w, kr), bias, acc, kr, ocp)
    np.testing.assert_array_equal(acc[:ocp], _padded_weights(w, kr, ocp) @ x + bias)
    assert (acc[ocp:] == SENTINEL32).all()


@needs_avx2
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("seed", range(15))
def test_madd_block_out_matches_matmul_then_reference_requantize(seed: int, mode: int):
    from tinysim.engine.ops.madd16 import ROWS, madd_block_out, pack_weights

    rng = np.random.default_rng(500 + seed)
    k, kr, oc, _, w, _ = _gemm_case(rng)
    oc = -(-oc // 8) * 8  # whole 8-channel blocks only (its contract)
    w = np.concatenate([w, rng.integers(-255, 256, (oc - w.shape[0], k))])
    bias = rng.integers(-(2**22), 2**22, oc).astype(np.int32)
    rows = ROWS * int(rng.integers(1, 5))
    patch = rng.integers(-255, 256, (rows, kr))
    # scales near 1 / |sum| (sums reach ~10**6..10**7), so outputs spread over int8 and its clamps
    mult, shift = (np.array(v, np.int32) for v in zip(*(quantize_multiplier(r) for r in rng.uniform(1e-6, 3e-4, oc))))
    zp, lo, hi = _output_range(rng)
    ob = int(rng.integers(0, 3)) * oc
    out = np.full(ob + rows * oc + 24, SENTINEL8, np.int8)
    zeros = madd_block_out(patch.astype(np.int16).ravel(), pack_weights(w, kr), bias, mult, shift, out, ob, rows,
                           kr, oc, zp, lo, hi, mode)  # fmt: skip
    sums = patch @ _padded_weights(w, kr, oc).T + bias
    want = np.array([_expected(row, mult, shift, mode, zp, lo, hi) for row in sums])
    np.testing.assert_array_equal(out[ob : ob + rows * oc].reshape(rows, oc), want)
    assert zeros == int((want == zp).sum())
    assert (out[:ob] == SENTINEL8).all() and (out[ob + rows * oc :] == SENTINEL8).all()


@needs_avx2
def test_madd_block_refuses_blocks_outside_its_arrays():
    from tinysim.engine.ops.madd16 import madd_block, pack_weights

    w = np.ones((8, 4), np.int64)
    acc = np.zeros(8 * 3, np.int32)  # room for 3 rows, but a 1-row block computes a whole tile of 4
    with pytest.raises(ValueError, match="outside"):
        madd_block(np.zeros(16, np.int16), pack_weights(w, 4), np.zeros(8, np.int32), acc, 1, 4, 8)
