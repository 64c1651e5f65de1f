"""LOGISTIC and TANH on int8, legacy uint8 and int16, as LiteRT's builtin kernels on x86.

int8 / uint8: LiteRT's 256-entry lookup table built in Prepare.

LiteRT (kGenericOptimized, the builtin on x86) fills table[q] in float32 with the C library:
v = scale_in * (q - zp_in), t = 1.0f / (1.0f + expf(-v)) or tanhf(v), then
clamp((int)(round(t * (1.0f / scale_out)) + zp_out)); Eval is a lookup. Prepare requires the output quantization: LOGISTIC scale 1/256, zero point -128 (uint8: 0);
TANH scale 1/128, zero point 0 (uint8: 128). In the engine's int8 view of a uint8 model both zero
points are the int8 ones, and the table (indexed by q + 128) is the same.

int16 (zero points 0, output scale 2**-15): reference_integer_ops::Logistic / Tanh, an interpolated
table of sigmoid(i / 24) in Q0.16 on the input rescaled by an integer multiplier and shift that
Prepare derives from scale_in * 4096 * 3. LiteRT takes that path unless the input scale is a power of
two with input_left_shift = 12 + log2(scale_in) = 0 (LOGISTIC), 0 or 1 (TANH): those run gemmlowp's
logistic / tanh on FixedPoint<int16, 3>, after a saturating doubling of the input when the shift is 1
(optimized_ops::Logistic / Tanh int16; Prepare leaves input_multiplier 0 there, which picks the path).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from collections.abc import Callable
from enum import IntEnum
from functools import cache

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops.lstm_math import logistic16, tanh16
from tinysim.engine.ops.quantize import unary_events
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

LutRow = IntEnum("LutRow", "x y size table zp_out wide mult shift", start=0)  # wide: 0 int8, 1 LOGISTIC16, 2 TANH16
Row = LutRow

# (output scale, output zero point in the int8 view) that LiteRT's Prepare requires
INT8_16 = (DType.INT8, DType.INT16)
_OUTPUT = {OpKind.LOGISTIC: (1.0 / 256, -128), OpKind.TANH: (1.0 / 128, 0)}


@cache
def libm_f32(name: str) -> Callable[[float], float]:
    """The C library's float32 function `name` (expf, tanhf), what LiteRT calls; correctly rounded
    double math when there is no libm to load."""
    path = ctypes.util.find_library("m")
    if not path:
        return getattr(math, name[:-1])
    fn = getattr(ctypes.CDLL(path), name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


def _transform(kind: OpKind) -> Callable[[np.float32], np.float32]:
    one = np.float32(1.0)
    if kind is OpKind.LOGISTIC:
        expf = libm_f32("expf")
        return lambda v: one / (one + np.float32(expf(float(-v))))
    tanhf = libm_f32("tanhf")
    return lambda v: np.float32(tanhf(float(v)))


def lookup_table(kind: OpKind, s_in: float, zp_in: int, s_out: float, zp_out: int) -> np.ndarray:
    """LiteRT's PopulateLookupTable over the int8 codes -128..127 (table index q + 128)."""
    transform = _transform(kind)
    s_in32, inverse = np.float32(s_in), np.float32(1.0) / np.float32(s_out)
    table = np.empty(256, np.int16)
    for q in range(-128, 128):
        t = transform(np.float32(s_in32 * np.float32(q - zp_in)))
        r = np.float32(t * inverse)
        rounded = math.copysign(math.floor(abs(float(r)) + 0.5), float(r))  # std::round
        table[q + 128] = min(max(int(np.float32(rounded) + np.float32(zp_out)), -128), 127)
    return table


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0, dtypes=INT8_16), ctx.act(op, 0, output=True, dtypes=INT8_16)
    if x.shape != y.shape or x.dtype is not y.dtype:
        raise ctx.fail(op, f"input {x.dtype.value}{list(x.shape)} and output {y.dtype.value}{list(y.shape)} differ")
    if x.dtype is DType.INT16:
        return _prepare16(ctx, op, x, y)
    want_scale, want_zp = _OUTPUT[op.kind]
    if np.float32(scale(y)) != np.float32(want_scale) or zp(y) != want_zp:
        legacy = op.outputs[0] in ctx.legacy
        raise ctx.fail(op, f"output must have scale {want_scale:g} and zero point {want_zp + 128 * legacy}")
    table = lookup_table(op.kind, scale(x), zp(x), scale(y), zp(y))
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size,
                  table=ctx.i16.add(table), zp_out=zp(y))  # fmt: skip
    return OpPlan(params, unary_events(x, y))


def _log2_pot(s: float) -> tuple[bool, int]:
    """CheckedLog2: (is a power of two within 1e-3 of an octave, rounded log2)."""
    lg = math.log(s) / math.log(2.0)
    r = math.copysign(math.floor(abs(lg) + 0.5), lg)
    return abs(lg - r) < 1e-3, int(r)


def _prepare16(ctx: PrepareContext, op: Op, x, y) -> OpPlan:
    if zp(x) != 0 or zp(y) != 0 or np.float32(scale(y)) != np.float32(2.0**-15):
        raise ctx.fail(op, "int16 needs zero points 0 and output scale 2**-15")
    wide = 1 + (op.kind is OpKind.TANH)
    pot, log2 = _log2_pot(scale(x))
    if pot and 12 + log2 in ((0, 1) if op.kind is OpKind.TANH else (0,)):  # gemmlowp: mult 0, shift 0 or 1
        params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size, wide=wide,
                      table=ctx.i32.add(SIGMOID_Q16), mult=0, shift=12 + log2, zp_out=0)  # fmt: skip
        return OpPlan(params, unary_events(x, y))
    multiplier, shift = float(np.float32(scale(x))) * 4096.0 * 3.0, 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift, multiplier = shift + 1, multiplier * 2.0
    if multiplier * 32768 >= 2**31:  # x * multiplier must stay int32, as in LiteRT
        raise ctx.fail(op, f"int16 input scale {scale(x):g} is too large")
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), size=x.size, wide=wide,
                  table=ctx.i32.add(SIGMOID_Q16), mult=int(multiplier), shift=shift, zp_out=0)  # fmt: skip
    return OpPlan(params, unary_events(x, y))


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n = p[Row.size]
    if p[Row.wide]:
        x16 = arena[p[Row.x] : p[Row.x] + 2 * n].view(np.int16)
        out16 = arena[p[Row.y] : p[Row.y] + 2 * n].view(np.int16)
        table = i32[p[Row.table] : p[Row.table] + 256]
        if p[Row.mult] == 0:
            return 0, gemmlowp16(x16, out16, p[Row.shift], p[Row.wide] == 2)
        return 0, interpolate16(x16, out16, table, p[Row.mult], p[Row.shift], p[Row.wide] == 2)
    t = p[Row.table]
    return 0, lookup(arena[p[Row.x] : p[Row.x] + n], arena[p[Row.y] : p[Row.y] + n], i16[t : t + 256], p[Row.zp_out])


@kernel
def lookup(x, out, table, zp_out):
    """out[i] = table[x[i] + 128]; returns the number of outputs equal to zp_out."""
    zeros = 0
    for i in range(x.shape[0]):
        v = table[np.int64(x[i]) + 128]
        out[i] = v
        zeros += v == zp_out
    return zeros


@kernel
def gemmlowp16(x, out, left_shift, tanh):
    """gemmlowp::logistic / tanh on Q3.12 inputs, the input first doubled with saturation when left_shift is 1
    (SaturatingRoundingMultiplyByPOT<1>); returns the number of zero outputs."""
    zeros = 0
    for i in range(x.shape[0]):
        a = np.int64(x[i])
        if left_shift:
            a = min(max(2 * a, -32768), 32767)
        r = tanh16(a, 3) if tanh else logistic16(a, 3)
        out[i] = r
        zeros += r == 0
    return zeros


@kernel
def interpolate16(x, out, table, mult, shift, tanh):
    """reference_integer_ops::Logistic / Tanh on int16 (multiplier > 0); returns the number of zero outputs."""
    zeros = 0
    rnd = (np.int64(1) << (shift - 1)) if shift > 0 else np.int64(0)
    for i in range(x.shape[0]):
        v = (np.int64(x[i]) * mult + rnd) >> shift
        a = abs(v)
        if tanh:
            uh = a >> 8
            if uh >= 255:
                r = np.int64(0xFFFF << 8)
            else:
                r = (table[uh] << 8) + (a & 0xFF) * (table[uh + 1] - table[uh])
            r = r - (1 << 23) + (1 << 7) if v >= 0 else -r + (1 << 23) + (1 << 7) - 1
            r >>= 8
        else:
            uh = a >> 9
            if uh >= 255:
                r = np.int64(0x7FFF << 10)
            else:
                r = (table[uh] << 9) + (a & 0x1FF) * (table[uh + 1] - table[uh])
            r = r + (1 << 9) if v >= 0 else (1 << 25) - r + (1 << 9) - 1
            r >>= 10
        out[i] = r
        zeros += r == 0
    return zeros


# TFLite's sigmoid_table_uint16: sigmoid(i / 24) in Q0.16, fitted for interpolation (not plain rounding, so
# the values themselves are the specification)
SIGMOID_Q16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535,
], np.int32)  # fmt: skip
