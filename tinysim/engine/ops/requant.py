"""`fixedpoint.requantize_row` 8 lanes at a time in 32-bit arithmetic, written as LLVM vector IR.

Numba types every integer operation on int32 values as int64, so the loop of `requantize_row`
runs its rounding shifts in 64-bit lanes, which AVX2 lacks an arithmetic shift for: about
1 ns per output, more than the GEMM itself on MobileNet's short-k 1x1 convs. Here only the
product is 64-bit (`vpmuldq`); the rest is int32 lanes.

Exactness (multipliers > 0, shifts <= 0, as `requantize_row`'s fast branch):
- h = (acc * mult + 2**30) >> 31 fits in int32 (|acc * mult| < 2**62), and its low 32 bits are
  the same whether the 64-bit shift is arithmetic or logical.
- with r = -shift, mask = 2**r - 1: h >> r plus 1 when (h & mask) > threshold, threshold =
  mask >> 1 for ruy (ties toward +inf), mask >> 1 + [h < 0] for TFLite (gemmlowp's
  RoundingDivideByPOT, ties away from zero): the same value as `fixedpoint.round_shift`.
- the clamp runs before adding zp_out (on [lo - zp_out, hi - zp_out]), so nothing overflows:
  h >> r + 1 overflows only if r = 0, where the increment is 0.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from tinysim.engine.fixedpoint import requantize_row, round_clamp
from tinysim.engine.jit import host_cpu_has, kernel

_I1, _I8, _I32, _I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
_V32, _V8 = ir.VectorType(_I32, 8), ir.VectorType(_I8, 8)


def _splat(builder, v32):
    vec = builder.insert_element(ir.Constant(_V32, None), v32, ir.Constant(_I32, 0))
    return builder.shuffle_vector(vec, ir.Constant(_V32, None), ir.Constant(_V32, [0] * 8))


HAVE_AVX2 = host_cpu_has("avx2")


def _high8(builder, acc8, mul8):
    """(acc * mult + 2**30) >> 31 truncated to int32, per lane: `vpmuldq` on the even lanes and on the odd
    lanes shifted down, the even results' low halves and the odd results' high halves blended (no
    sign extension or cross-lane shuffle of 64-bit lanes)."""
    v4 = ir.VectorType(_I64, 4)
    pmuldq = cgutils.get_or_insert_function(builder.module, ir.FunctionType(v4, [_V32, _V32]), "llvm.x86.avx2.pmul.dq")
    half, s31, s32 = (ir.Constant(v4, [v] * 4) for v in (1 << 30, 31, 32))

    def odd(v):  # lanes 1, 3, 5, 7 moved to 0, 2, 4, 6 (pmuldq reads the low half of each 64-bit lane)
        return builder.bitcast(builder.lshr(builder.bitcast(v, v4), s32), _V32)

    even_p = builder.add(builder.call(pmuldq, [acc8, mul8]), half)
    odd_p = builder.add(builder.call(pmuldq, [odd(acc8), odd(mul8)]), half)
    lo = builder.bitcast(builder.lshr(even_p, s31), _V32)  # bits 31..62 in the low half
    hi = builder.bitcast(builder.shl(odd_p, ir.Constant(v4, [1] * 4)), _V32)  # bits 31..62 in the high half
    return builder.shuffle_vector(lo, hi, ir.Constant(_V32, [0, 9, 2, 11, 4, 13, 6, 15]))


def round8(builder, acc8, mul8, sh8, zpv, lov, hiv, ruyv):
    """The output stage on 8 lanes (see the module docstring): (clamped values + zp_out as <8 x i32>,
    the number of lanes equal to zp_out as i64)."""
    if HAVE_AVX2:
        h = _high8(builder, acc8, mul8)
    else:  # the same value in generic IR (64-bit lanes)
        v64 = ir.VectorType(_I64, 8)
        ab = builder.add(builder.mul(builder.sext(acc8, v64), builder.sext(mul8, v64)), ir.Constant(v64, [1 << 30] * 8))
        h = builder.trunc(builder.lshr(ab, ir.Constant(v64, [31] * 8)), _V32)
    one, zero = ir.Constant(_V32, [1] * 8), ir.Constant(_V32, [0] * 8)
    r = builder.sub(zero, sh8)
    mask = builder.sub(builder.shl(one, r), one)
    thr = builder.lshr(mask, one)
    neg = builder.zext(builder.icmp_signed("<", h, zero), _V32)
    tflite = builder.icmp_signed("==", ruyv, ir.Constant(_I64, 0))
    thr = builder.add(thr, builder.select(tflite, neg, zero))
    inc = builder.zext(builder.icmp_signed(">", builder.and_(h, mask), thr), _V32)
    q = builder.add(builder.ashr(h, r), inc)
    zp = builder.trunc(zpv, _I32)
    lo8 = _splat(builder, builder.sub(builder.trunc(lov, _I32), zp))
    hi8 = _splat(builder, builder.sub(builder.trunc(hiv, _I32), zp))
    q = builder.select(builder.icmp_signed("<", q, lo8), lo8, q)
    q = builder.select(builder.icmp_signed(">", q, hi8), hi8, q)
    zeros = builder.bitcast(builder.icmp_signed("==", q, zero), _I8)
    count = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I8, [_I8]), "llvm.ctpop.i8")
    return builder.add(q, _splat(builder, zp)), builder.zext(builder.call(count, [zeros]), _I64)


def _typed(*pairs) -> bool:
    return all(isinstance(a, types.Array) and a.dtype == d for a, d in pairs)


def _pointer(context, builder, arytype, value, elem, at, vt):
    data = cgutils.create_struct_proxy(arytype)(context, builder, value=value).data
    return builder.bitcast(builder.gep(builder.bitcast(data, elem.as_pointer()), [at]), vt.as_pointer())


@intrinsic
def _requant8(typingctx, acc, mult, shift, out, i, ob, zp_out, lo, hi, ruy):
    """out[ob : ob + 8] = requantized acc[i : i + 8] (mult, shift[i : i + 8]); returns how many equal zp_out."""
    if not _typed((acc, types.int32), (mult, types.int32), (shift, types.int32), (out, types.int8)):
        return None  # a typing error: the codegen reads raw int32 / int8 data
    sig = types.int64(acc, mult, shift, out, *([types.int64] * 6))

    def codegen(context, builder, signature, args):
        aa, ma, sa, oa, iv, obv, zpv, lov, hiv, ruyv = args
        at = signature.args
        acc8 = builder.load(_pointer(context, builder, at[0], aa, _I32, iv, _V32), align=4)
        mul8 = builder.load(_pointer(context, builder, at[1], ma, _I32, iv, _V32), align=4)
        sh8 = builder.load(_pointer(context, builder, at[2], sa, _I32, iv, _V32), align=4)
        v, zeros = round8(builder, acc8, mul8, sh8, zpv, lov, hiv, ruyv)
        builder.store(builder.trunc(v, _V8), _pointer(context, builder, at[3], oa, _I8, obv, _V8), align=1)
        return zeros

    return sig, codegen


@intrinsic
def _requant8_inplace(typingctx, acc, i, mult, shift, zp_out, lo, hi, ruy):
    """acc[i : i + 8] = requantized acc[i : i + 8] with one multiplier and shift, as int32 values; returns
    how many equal zp_out."""
    if not _typed((acc, types.int32)):
        return None
    sig = types.int64(acc, *([types.int64] * 7))

    def codegen(context, builder, signature, args):
        aa, iv, mv, sv, zpv, lov, hiv, ruyv = args
        ptr = _pointer(context, builder, signature.args[0], aa, _I32, iv, _V32)
        mul8, sh8 = _splat(builder, builder.trunc(mv, _I32)), _splat(builder, builder.trunc(sv, _I32))
        v, zeros = round8(builder, builder.load(ptr, align=4), mul8, sh8, zpv, lov, hiv, ruyv)
        builder.store(v, ptr, align=4)
        return zeros

    return sig, codegen


@kernel
def requantize_row8(acc, mult, shift, mode, zp_out, lo, hi, out, base):
    """`requantize_row` (same arguments, same result), whole groups of 8 through `_requant8`."""
    n = acc.shape[0]
    if n > mult.shape[0] or n > shift.shape[0] or base + n > out.shape[0]:
        raise ValueError("requantize_row8: row outside its arrays")
    left_shift = False
    for i in range(n):
        left_shift |= shift[i] > 0
    n8 = n - n % 8
    if left_shift or n8 == 0:
        return requantize_row(acc, mult, shift, mode, zp_out, lo, hi, out, base)
    zeros = 0
    for i in range(0, n8, 8):
        zeros += _requant8(acc, mult, shift, out, i, base + i, zp_out, lo, hi, mode)
    if n8 < n:
        zeros += requantize_row(acc[n8:], mult[n8:], shift[n8:], mode, zp_out, lo, hi, out, base + n8)
    return zeros


@kernel
def requantize_inplace8(acc, mult, shift, mode, zp_out, lo, hi):
    """acc[i] = clamp(requantize(acc[i]) + zp_out) in place with one multiplier (conv_direct's output
    rows), 8 at a time through `_requant8_inplace`; returns the number equal to zp_out."""
    n = acc.shape[0]
    n8 = n - n % 8 if shift <= 0 else 0  # a left shift: all through the scalar loop
    zeros = 0
    for i in range(0, n8, 8):
        zeros += _requant8_inplace(acc, i, mult, shift, zp_out, lo, hi, mode)
    for i in range(n8, n):
        if shift > 0:
            ab = (np.int64(acc[i]) << np.int64(shift)) * np.int64(mult)
            v = round_clamp(ab, 0, mode, zp_out, lo, hi)
        else:
            v = round_clamp(np.int64(acc[i]) * np.int64(mult), -np.int64(shift), mode, zp_out, lo, hi)
        acc[i] = v
        zeros += v == zp_out
    return zeros
