"""QUANTIZE (float32 -> int8/uint8/int16, and integer requantization) and DEQUANTIZE (-> float32), as LiteRT.

float -> int: LiteRT's x86 build (optimized_ops::AffineQuantize) converts whole blocks of 8 values
with AVX: x * (1.0f / scale) in float32, rounded half to even (cvtps2dq); the size % 8 tail in
scalar code: round(x / (double)scale) half away from zero. Out-of-range and NaN convert to INT32_MIN,
then the zero point is added with int32 wraparound and the result clamped (measured).
int -> int (int8/uint8/int16/int32 in any combination LiteRT accepts): Requantize,
MultiplyByQuantizedMultiplier(x - zp_in, QuantizeMultiplier(scale_in / scale_out)) + zp_out, clamped. Between
8-bit types LiteRT's optimized_ops::Requantize runs blocks of 16 through NEON intrinsics (emulated on x86):
vqrdmulh and vrshl both round ties toward +inf (ruy's output stage); the size % 16 tail, and every other
pair of types, rounds as TFLite's reference (ties away from zero). Measured.
DEQUANTIZE: blocks of 8 in AVX as float(x) * scale - float(zp) * scale (float32, no FMA), the tail
as float32(scale * (x - zp)) (exact in double, rounded once); int16 needs zero point 0 (LiteRT's Prepare).

Legacy uint8 tensors are int8 in the engine (tinysim.engine.uint8), which leaves requantization and
requantization unchanged; DEQUANTIZE's AVX blocks add 128 back to value and zero point; float -> uint8 adds the model's own zero point and clamps to [0, 255] before
the -128 shift, so that the int32 wraparound of an out-of-range value matches LiteRT's.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, quantize_multiplier, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op, Tensor
from tinysim.workload.validate import short_name

QuantizeRow = IntEnum("QuantizeRow", "x y size src dst zp_in zp_out m s scale lo hi store_bias vector_end", start=0)
Row = QuantizeRow

# dtype codes of the kernels (shared with cast.py)
F32, I8, I16, I32, I64 = 0, 1, 2, 3, 4
CODE = {DType.FLOAT32: F32, DType.INT8: I8, DType.UINT8: I8, DType.INT16: I16, DType.INT32: I32, DType.INT64: I64}
INT32_MIN = -(2**31)
_BITS = {DType.INT8: 9, DType.INT16: 17, DType.INT32: 32}  # bits of x - zp_in
AVX_FLOATS = 8  # LiteRT's AffineQuantize and Dequantize convert blocks of 8 floats (AVX), then a scalar tail
NEON_BYTES = 16  # LiteRT's 8-bit Requantize: NEON blocks of 16 (ruy rounding), then a reference tail

# QUANTIZE's requantization pairs LiteRT's Prepare accepts (uint8 tensors are int8 here)
_REQUANT = {
    DType.INT8: (DType.INT8, DType.INT16),
    DType.INT16: (DType.INT8, DType.INT16, DType.INT32),
    DType.INT32: (DType.INT8, DType.INT16),
}


def _quantized(ctx: PrepareContext, op: Op, t: Tensor) -> Tensor:
    if t.quant is None or t.quant.per_axis:
        raise ctx.fail(op, f"tensor '{short_name(t.name)}' needs per-tensor quantization")
    return t


def _range(ctx: PrepareContext, op: Op, output: bool) -> tuple[int, int, int]:
    """(lo, hi, bias): the model dtype's clamp range and what the engine subtracts when it stores (uint8: 128)."""
    t = op.outputs[0] if output else op.inputs[0]
    if t in ctx.legacy:
        return 0, 255, 128
    info = np.iinfo(ctx.graph.tensors[t].dtype.numpy)
    return int(info.min), int(info.max), 0


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.tensor(op, 0), ctx.tensor(op, 0, output=True)
    if x.is_constant:
        raise ctx.fail(op, f"constant input '{short_name(x.name)}' is not supported")
    if x.size != y.size:
        raise ctx.fail(op, f"input size {x.size} != output size {y.size}")
    if op.kind is OpKind.DEQUANTIZE:
        if x.dtype not in (DType.INT8, DType.INT16) or y.dtype is not DType.FLOAT32:
            raise ctx.fail(op, f"{x.dtype.value} -> {y.dtype.value} is not supported (int8/uint8/int16 -> float32)")
        _quantized(ctx, op, x)
        if x.dtype is DType.INT16 and zp(x) != 0:
            raise ctx.fail(op, f"int16 input zero point must be 0, got {zp(x)}")
        bias = _range(ctx, op, output=False)[2]
        fields = {"scale": ctx.f32.add(np.array([scale(x)], np.float32)), "zp_in": zp(x), "store_bias": bias,
                  "vector_end": x.size // AVX_FLOATS * AVX_FLOATS}  # fmt: skip
    elif x.dtype is DType.FLOAT32:
        if y.dtype not in (DType.INT8, DType.INT16):
            raise ctx.fail(op, f"float32 -> {y.dtype.value} is not supported (int8/uint8/int16)")
        _quantized(ctx, op, y)
        lo, hi, bias = _range(ctx, op, output=True)
        s = np.float32(scale(y))
        fields = {"scale": ctx.f32.add(np.array([s, np.float32(1.0) / s], np.float32)), "lo": lo, "hi": hi,
                  "zp_out": zp(y) + bias, "store_bias": bias, "vector_end": x.size // AVX_FLOATS * AVX_FLOATS}  # fmt: skip
    else:
        legacy = bool({op.inputs[0], op.outputs[0]} & ctx.legacy)
        if y.dtype not in _REQUANT.get(x.dtype, ()) or legacy and y.dtype is not x.dtype:
            raise ctx.fail(op, f"requantizing {x.dtype.value} -> {y.dtype.value} is not supported")
        _quantized(ctx, op, x)
        _quantized(ctx, op, y)
        m, s = quantize_multiplier(float(np.float64(scale(x)) / np.float64(scale(y))))
        if s > 0 and s + _BITS[x.dtype] > 31:  # (x - zp_in) << s must stay int32, as in LiteRT
            raise ctx.fail(op, f"input scale {scale(x):g} / output scale {scale(y):g} is too large")
        info = np.iinfo(y.dtype.numpy)
        neon = x.dtype is DType.INT8 and y.dtype is DType.INT8
        fields = {"zp_in": zp(x), "zp_out": zp(y), "m": m, "s": s, "lo": int(info.min), "hi": int(info.max),
                  "vector_end": x.size // NEON_BYTES * NEON_BYTES if neon else 0}  # fmt: skip
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size, src=CODE[x.dtype],
                  dst=CODE[y.dtype], **fields)  # fmt: skip
    return OpPlan(params, unary_events(x, y))


def unary_events(x: Tensor, y: Tensor, elementwise: bool = True) -> Events:
    """Each input element read once, one operation (or none for a pure conversion) and one write per output."""
    return Events(
        act_bytes_read=x.nbytes,
        act_bytes_written=y.nbytes,
        elementwise=y.size if elementwise else 0,
        output_elements=y.size,
        act_bytes_unique_read=x.nbytes,
    )


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n, xo, yo = p[Row.size], p[Row.x], p[Row.y]
    src, dst = p[Row.src], p[Row.dst]
    if dst == F32:  # DEQUANTIZE
        out = arena[yo : yo + 4 * n].view(np.float32)
        args = (p[Row.zp_in], f32[p[Row.scale]], p[Row.vector_end], p[Row.store_bias])
        if src == I8:
            return 0, dequantize(arena[xo : xo + n], out, *args)
        return 0, dequantize(arena[xo : xo + 2 * n].view(np.int16), out, *args)
    if src == F32:
        x = arena[xo : xo + 4 * n].view(np.float32)
        args = (f32[p[Row.scale]], f32[p[Row.scale] + 1], p[Row.vector_end], p[Row.zp_out], p[Row.lo], p[Row.hi],
                p[Row.store_bias])  # fmt: skip
        if dst == I8:
            return 0, affine_quantize(x, arena[yo : yo + n], *args)
        return 0, affine_quantize(x, arena[yo : yo + 2 * n].view(np.int16), *args)
    if src == I8:
        return 0, _requantize_to(arena[xo : xo + n], arena, yo, n, p)
    if src == I16:
        return 0, _requantize_to(arena[xo : xo + 2 * n].view(np.int16), arena, yo, n, p)
    return 0, _requantize_to(arena[xo : xo + 4 * n].view(np.int32), arena, yo, n, p)


@kernel
def _requantize_to(x, arena, yo, n, p):
    args = (p[Row.zp_in], p[Row.zp_out], p[Row.m], p[Row.s], p[Row.lo], p[Row.hi], p[Row.vector_end])
    dst = p[Row.dst]
    if dst == I8:
        return requantize(x, arena[yo : yo + n], *args)
    if dst == I16:
        return requantize(x, arena[yo : yo + 2 * n].view(np.int16), *args)
    return requantize(x, arena[yo : yo + 4 * n].view(np.int32), *args)


@kernel
def requantize(x, out, zp_in, zp_out, m, s, lo, hi, vector_end):
    """out = clamp(MultiplyByQuantizedMultiplier(x - zp_in, m, s) + zp_out), ruy's rounding before vector_end;
    returns the number of outputs equal to zp_out."""
    zeros = 0
    left, right = np.int64(max(s, 0)), np.int64(max(-s, 0))
    for i in range(x.shape[0]):
        v = (np.int64(x[i]) - zp_in) << left
        r = min(max(round_shift(v * m, right, RUY if i < vector_end else TFLITE) + zp_out, lo), hi)
        out[i] = r
        zeros += r == zp_out
    return zeros


@kernel
def affine_quantize(x, out, s, inv, vector_end, zp_out, lo, hi, bias):
    """LiteRT's float -> int: AVX blocks (x * inv, half to even) up to vector_end, then the scalar tail
    (x / (double)s, half away from zero); zp_out is the model's zero point (uint8: before the shift)."""
    zeros = 0
    for i in range(x.shape[0]):
        if i < vector_end:
            r = np.float64(np.rint(np.float32(x[i] * inv)))
        else:
            d = np.float64(x[i]) / np.float64(s)
            r = np.floor(d + 0.5) if d >= 0 else -np.floor(-d + 0.5)
        q = np.int64(INT32_MIN)
        if r >= -2147483648.0 and r < 2147483648.0:  # NaN and out-of-range convert to INT32_MIN
            q = np.int64(r)
        q = ((q + zp_out + 2**31) & 0xFFFFFFFF) - 2**31  # int32 wraparound
        v = min(max(q, lo), hi) - bias
        out[i] = v
        zeros += v == zp_out - bias
    return zeros


@kernel
def dequantize(x, out, zp_in, s, vector_end, bias):
    """LiteRT's int -> float: AVX blocks up to vector_end on the model's values (stored + bias), then the tail."""
    zeros = 0
    zs = np.float32(np.float32(zp_in + bias) * s)
    for i in range(x.shape[0]):
        if i < vector_end:
            v = np.float32(np.float32(np.int64(x[i]) + bias) * s) - zs
        else:
            v = np.float32(np.float64(s) * np.float64(np.int64(x[i]) - zp_in))  # exact in double, rounded once
        out[i] = v
        zeros += v == 0
    return zeros
