"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED in int16x8: int16 activations (zero point 0), int8
symmetric weights (per-channel or per-tensor), int64 or int32 bias.

LiteRT runs all three through TFLite's reference_integer_ops kernels for int16: an int64 accumulator
(sum of x * w, plus the bias), the int64 MultiplyByQuantizedMultiplier (the multiplier reduced to 16
bits, one rounding: (acc * m16 + 2**(14 - shift)) >> (15 - shift)), a clamp to the int16 activation
range; except FULLY_CONNECTED, whose sums LiteRT requantizes with the full 32-bit multiplier (see `prepare_fc`). One kernel serves the three ops: FULLY_CONNECTED is a 1x1 conv over (batches, 1, 1, n_in), and
depth multiplier m > 0 makes output channel ci * m + q read only input channel ci (depthwise).

The int8 modules dispatch here: their rows carry `wide` = 1 in column 0 for a row of this layout.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, requantize
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, conv_geometry, pack, scale
from tinysim.events import Events
from tinysim.ops import tap_counts
from tinysim.workload.graph import DType, Op, Tensor

Conv16Row = IntEnum("Conv16Row", """
    wide x y w bias mult shift zero_w n h wd c oh ow oc kh kw sh sw dh dw ph pw m lo hi mode
""", start=0)  # fmt: skip
Row = Conv16Row  # what prepare and the kernels say; the class name shows in pack's errors
INT16_MIN, INT16_MAX = -32768, 32767
# `mode`s beyond the int32 output stages RUY and TFLITE: TFLite's int64 MultiplyByQuantizedMultiplier
# (REDUCED), and one rounding of |acc| * multiplier with the sign put back (AWAY: LiteRT's int16
# FULLY_CONNECTED with an int64 bias; measured, tests/test_op_fuzz_mac.py)
REDUCED, AWAY = 2, 3


def activation_range16(activation: str, scale: float, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int16 outputs."""

    def q(f: float) -> int:
        r = float(np.float32(f) / np.float32(scale))  # float32 division, as TFLite
        return zero_point + int(math.copysign(math.floor(abs(r) + 0.5), r))

    if activation == "RELU":
        return max(INT16_MIN, zero_point), INT16_MAX
    if activation == "RELU6":
        return max(INT16_MIN, zero_point), min(INT16_MAX, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(INT16_MIN, q(-1.0)), min(INT16_MAX, q(1.0))
    return INT16_MIN, INT16_MAX


def io16(ctx: PrepareContext, op: Op) -> tuple[Tensor, Tensor]:
    """The int16 input and output, both with zero point 0 (LiteRT's 16x8 kernels require it)."""
    x = ctx.act(op, 0, dtypes=(DType.INT16,))
    y = ctx.act(op, 0, output=True, dtypes=(DType.INT16,))
    if x.quantized().zero_point[0] != 0 or y.quantized().zero_point[0] != 0:
        raise ctx.fail(op, "int16 activations need zero point 0")
    return x, y


def bias64(ctx: PrepareContext, op: Op, position: int, oc: int, dtypes=(DType.INT64,)) -> tuple[np.ndarray, int]:
    """The bias as int64 (zeros if absent) and its bytes. LiteRT's int16 CONV_2D and TRANSPOSE_CONV read
    an int32 bias as if it were int64 (garbage results), its DEPTHWISE_CONV_2D refuses one: int64 only
    unless `dtypes` says (FULLY_CONNECTED takes both)."""
    idx = op.inputs[position] if position < len(op.inputs) else -1
    if idx < 0:
        return np.zeros(oc, np.int64), 0
    t = ctx.graph.tensors[idx]
    if not t.is_constant or t.dtype not in dtypes or t.size != oc:
        names = "/".join(d.value for d in dtypes)
        raise ctx.fail(op, f"bias '{t.name}' must be a constant {names} vector of {oc}")
    return t.constant().astype(np.int64), t.nbytes


def prepare_conv(ctx: PrepareContext, op: Op, depthwise: bool) -> OpPlan:
    """CONV_2D (OHWI weights) or DEPTHWISE_CONV_2D (1HW(C*M) weights)."""
    x, y = io16(ctx, op)
    w = ctx.const(op, 1, DType.INT8)
    if w is None or w.quant is None or len(w.shape) != 4 or len(x.shape) != 4:
        raise ctx.fail(op, "needs a 4-D input and 4-D int8 weights with quantization")
    n, h, wd, c = x.shape
    if depthwise:
        _, kh, kw, oc = w.shape
        m = oc // c if c else 0
        if w.shape[0] != 1 or m * c != oc or op.attrs.depth_multiplier not in (0, m):
            raise ctx.fail(op, f"weights {w.shape} are not 1HW(C*M) for {c} input channels")
        wk = w.constant().reshape(kh, kw, oc).astype(np.int32)
        zero_w = (wk.reshape(kh, kw, c, m) == 0).sum(axis=3)  # (kh, kw, c): zero weights read by x[.., ci]
    else:
        oc, kh, kw, ic = w.shape
        if ic != c:
            raise ctx.fail(op, f"weights expect {ic} input channels, input has {c}")
        m = 0
        wk = w.constant().astype(np.int32)
        zero_w = (wk == 0).sum(axis=0)
    a = op.attrs
    oh, ph, ow, pw, mult, shift = conv_geometry(ctx, op, x, w, y, kh, kw, oc)
    bias, bias_bytes = bias64(ctx, op, 2, oc)
    valid = n * np.outer(tap_counts(h, oh, kh, a.stride_h, a.dilation_h, ph),
                         tap_counts(wd, ow, kw, a.stride_w, a.dilation_w, pw))  # fmt: skip
    macs = int(valid.sum()) * (c * oc if m == 0 else oc)
    geometry = {"n": n, "h": h, "wd": wd, "c": c, "oh": oh, "ow": ow, "oc": oc, "kh": kh, "kw": kw,
                "sh": a.stride_h, "sw": a.stride_w, "dh": a.dilation_h, "dw": a.dilation_w, "ph": ph, "pw": pw}  # fmt: skip
    return _plan(ctx, op, x, y, w, wk, bias, bias_bytes, mult, shift, zero_w, geometry, m, macs, REDUCED)


def prepare_fc(ctx: PrepareContext, op: Op, mult: np.ndarray, shift: np.ndarray) -> OpPlan:
    """FULLY_CONNECTED as a 1x1 conv; `mult`, `shift` are the int8 module's (same TFLite formulas)."""
    x, y = io16(ctx, op)
    w = ctx.const(op, 1, DType.INT8)
    assert w is not None
    n_out, n_in = w.shape
    batches = x.size // n_in
    bias, bias_bytes = bias64(ctx, op, 2, n_out, (DType.INT64, DType.INT32))
    wk = w.constant().astype(np.int32)
    geometry = {"n": batches, "h": 1, "wd": 1, "c": n_in, "oh": 1, "ow": 1, "oc": n_out, "kh": 1, "kw": 1,
                "sh": 1, "sw": 1, "dh": 1, "dw": 1, "ph": 0, "pw": 0}  # fmt: skip
    zero_w = (wk == 0).sum(axis=0)
    macs = batches * n_in * n_out
    # LiteRT: int32 sums and ruy's output stage, AWAY with an int64 bias; TFLM: TFLite's reference, int32 sums
    # and TFLITE with an int32 bias, else int64 sums and REDUCED
    int64_bias = bias_bytes == 8 * n_out
    if ctx.semantics == "litert":
        mode = AWAY if int64_bias else RUY
    else:
        mode = TFLITE if bias_bytes and not int64_bias else REDUCED
    return _plan(ctx, op, x, y, w, wk, bias, bias_bytes, mult, shift, zero_w, geometry, 0, macs, mode)


def _plan(ctx, op, x, y, w, wk, bias, bias_bytes, mult, shift, zero_w, geometry, m, macs, mode) -> OpPlan:
    if np.any(np.asarray(mult) < 0) or np.any(np.asarray(shift) < -31) or np.any(np.asarray(shift) > 7):
        raise ctx.fail(op, "requantization scale out of TFLite's int16 range")
    lo, hi = activation_range16(op.attrs.activation.value, scale(y), 0)
    params = pack(
        Row, wide=1, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), w=ctx.i16.add(wk),
        bias=ctx.i32.add(bias.astype(np.int64).view(np.int32)), mult=ctx.i32.add(mult), shift=ctx.i32.add(shift),
        zero_w=ctx.i32.add(zero_w), m=m, lo=lo, hi=hi, mode=mode, **geometry,
    )  # fmt: skip
    out_elems = y.size
    events = Events(
        macs=macs, weight_bytes_read=macs + (bias_bytes // len(bias) * out_elems), act_bytes_read=2 * macs,
        act_bytes_written=2 * out_elems, elementwise=out_elems, output_elements=out_elems,
        weight_bytes_unique=w.nbytes + bias_bytes, act_bytes_unique_read=x.nbytes,
    )  # fmt: skip
    return OpPlan(params, events)


@kernel
def requantize16(acc, mult, shift, mode):
    """TFLite's MultiplyByQuantizedMultiplier(int64 x, int32 m, int shift): m reduced to 16 bits (REDUCED);
    AWAY: sign(acc) * ((|acc| * m + 2**(t - 1)) >> t), t = 31 - shift (>= 24), the product split at bit 24 so
    it stays in int64; else the int32 one with `mode`'s rounding on the sum wrapped to int32."""
    if mode == AWAY:
        a = -acc if acc < 0 else acc
        t = np.int64(31 - shift)
        low = ((a & np.int64(0xFFFFFF)) * mult + (np.int64(1) << (t - 1))) >> 24
        r = ((a >> 24) * mult + low) >> (t - 24)
        return -r if acc < 0 else r
    if mode != REDUCED:
        return requantize(np.int32(acc), mult, shift, mode)
    m16 = np.int64((mult + (1 << 15)) >> 16) if mult < 0x7FFF0000 else np.int64(0x7FFF)
    total = np.int64(15 - shift)
    return (acc * m16 + (np.int64(1) << (total - 1))) >> total


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n, h, wd, c, oh, ow, oc = p[Row.n], p[Row.h], p[Row.wd], p[Row.c], p[Row.oh], p[Row.ow], p[Row.oc]
    kh, kw, m = p[Row.kh], p[Row.kw], p[Row.m]
    x, y, w, bias = p[Row.x], p[Row.y], p[Row.w], p[Row.bias]
    mult, shift, zero_w = p[Row.mult], p[Row.shift], p[Row.zero_w]
    nw = kh * kw * (oc if m else oc * c)
    geometry = (n, h, wd, c, oh, ow, oc, kh, kw, p[Row.sh], p[Row.sw], p[Row.dh], p[Row.dw], p[Row.ph], p[Row.pw])
    return conv16(
        arena[x : x + 2 * n * h * wd * c].view(np.int16), i16[w : w + nw], i32[bias : bias + 2 * oc].view(np.int64),
        i32[mult : mult + oc], i32[shift : shift + oc], i32[zero_w : zero_w + kh * kw * c],
        arena[y : y + 2 * n * oh * ow * oc].view(np.int16), geometry, m, p[Row.lo], p[Row.hi], p[Row.mode], count,
    )  # fmt: skip


@kernel
def conv16(x, w, bias, mult, shift, zero_w, out, geometry, m, lo, hi, mode, count):
    """Returns (MACs with a zero operand, outputs equal to 0). w is (oc, kh, kw, c) for m == 0, else
    (kh, kw, oc); zero_w[(i * kw + j) * c + ci] counts the zero weights that x[.., ci] meets at tap (i, j)."""
    n, h, wd, c, oh, ow, oc, kh, kw, sh, sw, dh, dw, ph, pw = geometry
    k = kh * kw * c
    per = m if m else oc  # MACs of one input value at one tap
    acc = np.zeros(oc, np.int64)
    zero_macs = 0
    out_zeros = 0
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                acc[:] = 0
                for i in range(kh):
                    iy = oy * sh - ph + i * dh
                    if iy < 0 or iy >= h:
                        continue
                    for j in range(kw):
                        ix = ox * sw - pw + j * dw
                        if ix < 0 or ix >= wd:
                            continue
                        xb = ((b * h + iy) * wd + ix) * c
                        tap = (i * kw + j) * c
                        if m == 0:
                            for o in range(oc):
                                s = np.int64(0)
                                for ci in range(c):
                                    s += np.int64(x[xb + ci]) * np.int64(w[o * k + tap + ci])
                                acc[o] += s
                        else:
                            for ci in range(c):
                                xv = np.int64(x[xb + ci])
                                for q in range(m):
                                    acc[ci * m + q] += xv * np.int64(w[tap * m + ci * m + q])
                        if count:
                            for ci in range(c):
                                zero_macs += per if x[xb + ci] == 0 else zero_w[tap + ci]
                ob = ((b * oh + oy) * ow + ox) * oc
                for o in range(oc):
                    v = min(max(requantize16(acc[o] + bias[o], mult[o], shift[o], mode), lo), hi)
                    out[ob + o] = v
                    out_zeros += v == 0
    return zero_macs, out_zeros
