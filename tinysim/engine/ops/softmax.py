"""SOFTMAX int8 -> int8 over the last axis, in the two ways the reference runtimes compute it.

- LiteRT (x86 builtin, optimized_ops::Softmax): a 256-entry float32 table of
  expf(-input_scale * beta * d) for d = max - x, a float32 sum, prob = e / (sum * out_scale)
  rounded half away from zero. The table is built with the C library's expf, like LiteRT.
- TFLite Micro (reference_ops::Softmax): gemmlowp fixed point — the scaled difference in
  Q5.26, exp_on_negative_values, a Q12.19 sum, a Newton-Raphson reciprocal; output zero
  point -128, scale 1/256.

int16 -> int16 (LiteRT only) is softmax_int16: two interpolated int16 tables and integer arithmetic.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import INT32_MAX, INT32_MIN, quantize_multiplier, rdbpot, srdhm
from tinysim.engine.jit import kernel
from tinysim.engine.ops import softmax_int16
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import DType, Op

# The parameter row; `fixed` picks TFLite Micro's fields (1: mult left diff_min), LiteRT's int8 (0: table ...)
# or int16 (2: mult, left = the signed shift, exp_lut recip_lut in the i16 pool).
SoftmaxRow = IntEnum(
    "SoftmaxRow", "x y rows depth fixed mult left diff_min table out_scale_bits zp_out exp_lut recip_lut", start=0
)
Row = SoftmaxRow  # what prepare and the kernels say; the class name shows in pack's errors
SCALED_DIFF_BITS = 5
ACCUM_BITS = 12


def _expf() -> Callable[[float], float] | None:
    name = ctypes.util.find_library("m")
    if not name:
        return None
    fn = ctypes.CDLL(name).expf
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def exp_table(input_scale: float, beta: float) -> np.ndarray:
    """LiteRT's PopulateSoftmaxLookupTable: table[255 - d] = expf(-input_scale * beta * d)."""
    s = -np.float32(input_scale) * np.float32(beta)
    expf = _expf()
    args = [float(s * np.float32(d)) for d in range(256)]
    values = [expf(a) for a in args] if expf else [math.exp(a) for a in args]  # libm absent: correctly rounded
    return np.array(values[::-1], np.float32)


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if ctx.tensor(op, 0).dtype is DType.INT16:
        return prepare_int16(ctx, op)
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    if x.shape != y.shape or not x.shape:
        raise ctx.fail(op, f"input {x.shape} and output {y.shape} differ")
    depth = x.shape[-1]
    rows = x.size // depth
    beta = op.attrs.beta
    if ctx.semantics == "tflm":
        if zp(y) != -128 or scale(y) != 1.0 / 256:
            raise ctx.fail(op, "int8 output must have zero point -128 and scale 1/256")
        real = min(beta * scale(x) * (1 << (31 - SCALED_DIFF_BITS)), (1 << 31) - 1.0)
        mult, left = quantize_multiplier(real)
        radius = ((1 << SCALED_DIFF_BITS) - 1) * (1 << (31 - SCALED_DIFF_BITS)) / (1 << left)
        fields = {"fixed": 1, "mult": mult, "left": left, "diff_min": -math.floor(radius)}
    else:
        out_scale_bits = int(np.float32(scale(y)).view(np.int32))
        fields = {"table": ctx.f32.add(exp_table(scale(x), beta)), "out_scale_bits": out_scale_bits, "zp_out": zp(y)}
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), rows=rows, depth=depth, **fields)
    events = Events(
        act_bytes_read=2 * x.size,
        act_bytes_written=y.size,
        elementwise=2 * x.size,
        output_elements=y.size,
        act_bytes_unique_read=x.nbytes,
    )
    return OpPlan(params, events)


def prepare_int16(ctx: PrepareContext, op: Op) -> OpPlan:
    """LiteRT's SoftmaxPrepare for int16: zero points 0, output scale 1/32768, rank 1..4."""
    x = ctx.act(op, 0, dtypes=(DType.INT16,))
    y = ctx.act(op, 0, output=True, dtypes=(DType.INT16,))
    if ctx.semantics != "litert":
        raise ctx.fail(op, "int16 softmax is only implemented with LiteRT semantics")
    if x.shape != y.shape or not 1 <= len(x.shape) <= 4:
        raise ctx.fail(op, f"input {x.shape} and output {y.shape} must match, rank 1..4")
    if zp(x) != 0 or zp(y) != 0 or np.float32(scale(y)) != np.float32(1.0 / 32768):
        raise ctx.fail(op, "int16 softmax needs zero points 0 and output scale 1/32768")
    mult, shift = softmax_int16.input_multiplier(scale(x), op.attrs.beta)
    if shift > 15:  # (max - x) << shift would overflow int32 in MultiplyByQuantizedMultiplier
        raise ctx.fail(op, "input scale * beta >= 5 is not supported")
    exp_lut, recip_lut = softmax_int16.tables()
    depth = x.shape[-1]
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), rows=x.size // depth, depth=depth, fixed=2,
        mult=mult, left=shift, exp_lut=ctx.i16.add(exp_lut), recip_lut=ctx.i16.add(recip_lut),
    )  # fmt: skip
    events = Events(
        act_bytes_read=2 * x.nbytes,
        act_bytes_written=y.nbytes,
        elementwise=3 * x.size,
        output_elements=y.size,
        act_bytes_unique_read=x.nbytes,
    )
    return OpPlan(params, events, scratch32=depth)


@kernel
def evaluate_int16(p, arena, i16, s32):
    rows, depth = p[Row.rows], p[Row.depth]
    x = arena[p[Row.x] : p[Row.x] + 2 * rows * depth].view(np.int16).reshape(rows, depth)
    out = arena[p[Row.y] : p[Row.y] + 2 * rows * depth].view(np.int16).reshape(rows, depth)
    exp_lut = i16[p[Row.exp_lut] : p[Row.exp_lut] + softmax_int16.LUT_SIZE]
    recip_lut = i16[p[Row.recip_lut] : p[Row.recip_lut] + softmax_int16.LUT_SIZE]
    softmax_int16.softmax_int16(x, out, exp_lut, recip_lut, p[Row.mult], p[Row.left], s32[:depth])
    zeros = 0
    for r in range(rows):
        for j in range(depth):
            zeros += out[r, j] == 0
    return 0, zeros


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.fixed] == 2:
        return evaluate_int16(p, arena, i16, s32)
    rows, depth = p[Row.rows], p[Row.depth]
    x = arena[p[Row.x] : p[Row.x] + rows * depth].reshape(rows, depth)
    out = arena[p[Row.y] : p[Row.y] + rows * depth].reshape(rows, depth)
    if p[Row.fixed] == 1:
        softmax_fixed(x, out, p[Row.mult], p[Row.left], p[Row.diff_min])
        zp_out = -128
    else:
        out_scale = np.array([p[Row.out_scale_bits]], np.int32).view(np.float32)[0]
        softmax_table(x, out, f32[p[Row.table] : p[Row.table] + 256], out_scale, p[Row.zp_out])
        zp_out = p[Row.zp_out]
    zeros = 0
    for r in range(rows):
        for j in range(depth):
            zeros += out[r, j] == zp_out
    return 0, zeros


@kernel
def softmax_table(x, out, table, out_scale, zp_out):
    for r in range(x.shape[0]):
        mx = np.int32(-128)
        for j in range(x.shape[1]):
            mx = max(mx, np.int32(x[r, j]))
        total = np.float32(0.0)
        for j in range(x.shape[1]):
            total += table[255 - mx + x[r, j]]
        inv = np.float32(1.0) / (total * out_scale)
        for j in range(x.shape[1]):
            prob = np.float64(table[255 - mx + x[r, j]] * inv)
            q = math.floor(abs(prob) + 0.5)  # std::round: half away from zero
            v = np.int64(q if prob >= 0 else -q) + zp_out
            out[r, j] = min(max(v, -128), 127)


@kernel
def _sat_shl(x, e):
    v = np.int64(x) << e
    return min(max(v, INT32_MIN), INT32_MAX)


@kernel
def exp_on_negative_values(a):
    """gemmlowp exp for a Q5.26 input <= 0; result in Q0.31."""
    quarter = np.int64(1) << 24
    amq = (a & (quarter - 1)) - quarter
    x = _sat_shl(amq, 5) + (1 << 28)  # Taylor expansion around -1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    poly = rdbpot(srdhm(rdbpot(x4, 2) + x3, 715827883) + x2, 1)
    result = 1895147668 + srdhm(1895147668, x + poly)
    remainder = amq - a
    mults = (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)
    for i in range(7):
        if remainder & (np.int64(1) << (24 + i)):
            result = srdhm(result, mults[i])
    return INT32_MAX if a == 0 else result


@kernel
def one_over_one_plus_x(a):
    """gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out."""
    total = np.int64(a) + INT32_MAX  # RoundingHalfSum(a, One): (sum + sign) / 2, truncating
    num = total + (1 if total >= 0 else -1)
    half = num // 2 if num >= 0 else -((-num) // 2)
    x = 1515870810 + srdhm(half, -1010580540)
    for _ in range(3):
        x = x + _sat_shl(srdhm(x, (1 << 29) - srdhm(half, x)), 2)
    return _sat_shl(x, 1)


@kernel
def softmax_fixed(x, out, mult, left, diff_min):
    for r in range(x.shape[0]):
        mx = np.int32(-128)
        for j in range(x.shape[1]):
            mx = max(mx, np.int32(x[r, j]))
        total = np.int64(0)
        for j in range(x.shape[1]):
            d = np.int32(x[r, j]) - mx
            if d >= diff_min:
                total += rdbpot(exp_on_negative_values(srdhm(np.int64(d) << left, mult)), ACCUM_BITS)
        headroom = 0
        while headroom < 32 and not (total << headroom) & (np.int64(1) << 31):
            headroom += 1
        bits_over_unit = ACCUM_BITS - headroom
        shifted = ((total << headroom) & np.int64(0xFFFFFFFF)) - (np.int64(1) << 31)
        recip = one_over_one_plus_x(shifted)
        for j in range(x.shape[1]):
            d = np.int32(x[r, j]) - mx
            v = -128
            if d >= diff_min:
                e = exp_on_negative_values(srdhm(np.int64(d) << left, mult))
                v = rdbpot(srdhm(recip, e), bits_over_unit + 31 - 8) - 128
            out[r, j] = min(max(v, -128), 127)
