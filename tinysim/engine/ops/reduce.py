"""MEAN and SUM over constant axes (KeepDims or not), as LiteRT's builtin (optimized) reduce kernels.

The integer sums are exact, so prepare maps every input element to its output (a table of indices) and
the kernel accumulates in input order; what differs per path is the final rescale:
- MEAN int8/uint8 of a 4D tensor over H and W with KeepDims (global average pooling): the optimized
  Mean4D, bias = zp_out - round(zp_in * s_in / s_out) and one multiplier for s_in / (N * s_out). On x86
  (NEON through NEON_2_SSE) whole blocks of 16 channels requantize with vqrdmulh + vrshl (at least one
  right shift; ties toward +inf), the depth % 16 tail with MultiplyByQuantizedMultiplier.
- other int8/uint8/int16 MEAN: reference QuantizedMeanOrSum, the multiplier s_in / s_out folded with 1 / N;
  int16 (int64 MultiplyByQuantizedMultiplier?) is refused: ties still differ from LiteRT.
- int8/uint8/int16 SUM: the same with the multiplier s_in / s_out alone (measured: LiteRT clamps, as the
  reference kernel; its optimized float variant would wrap). uint8 SUM is refused (ties differ).
- float32: sums in input order (MEAN divides by N); MEAN over the last axis (ignoring trailing size-1
  dims) is refused (Eigen).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, quantize_multiplier, requantize, round_shift
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

ReduceRow = IntEnum(
    "ReduceRow", "x y n_in n_out map mode item count depth mult shift bias zp_in zp_out lo hi off", start=0
)
Row = ReduceRow
MEAN_HW, MEAN_Q, MEAN_F, SUM_F = range(4)
F32 = np.float32


def _axes(ctx: PrepareContext, op: Op, rank: int) -> list[int]:
    t = ctx.tensor(op, 1)
    if not t.is_constant:
        raise ctx.fail(op, "the axis must be a constant input")
    axes: list[int] = []
    for a in t.constant().reshape(-1).tolist():
        if not -rank <= a < rank:
            raise ctx.fail(op, f"axis {a} is out of range for rank {rank}")
        if a % rank not in axes:
            axes.append(a % rank)
    return axes


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x = ctx.act(op, 0, dtypes=(DType.INT8, DType.FLOAT32))  # int16: LiteRT's rounding not yet reproduced
    y = ctx.act(op, 0, output=True, dtypes=(x.dtype,))
    rank = len(x.shape)
    axes = _axes(ctx, op, rank)
    keep = bool(op.attrs.option("KeepDims", False))
    shape = [1 if d in axes else s for d, s in enumerate(x.shape) if keep or d not in axes]
    if tuple(shape) != tuple(y.shape) or not axes or x.size == 0:
        raise ctx.fail(op, f"output {y.shape} is not input {x.shape} reduced over {axes} (keep_dims={keep})")
    kept = [s if d not in axes else 1 for d, s in enumerate(x.shape)]
    out_index = np.arange(y.size, dtype=np.int32).reshape(kept)
    table = np.broadcast_to(out_index, x.shape).reshape(-1)
    count = x.size // y.size
    mean = op.kind is OpKind.MEAN
    legacy = op.inputs[0] in ctx.legacy
    off = 128 if legacy else 0  # legacy uint8: values and zero points back in uint8 for float math / clamps
    fields = {"x": ctx.offset(op, 0), "y": ctx.offset(op, 0, output=True), "n_in": x.size, "n_out": y.size,
                  "map": ctx.i32.add(table), "item": x.dtype.itemsize, "count": count, "depth": x.shape[-1], "off": off}  # fmt: skip
    if x.dtype is DType.FLOAT32:
        # LiteRT drops size-1 dims first, so a reduction ending at the last dim longer than 1 is "the last axis"
        last = max((d for d, s in enumerate(x.shape) if s > 1), default=rank - 1)
        if mean and any(d in axes for d in range(last, rank)):
            raise ctx.fail(op, "float32 MEAN over the last axis (LiteRT may sum with Eigen's vector order)")
        fields["mode"] = MEAN_F if mean else SUM_F
    else:
        info = np.iinfo(x.dtype.numpy)
        s_in, s_out = F32(scale(x)), F32(scale(y))
        zi, zo = zp(x) + off, zp(y) + off
        if x.dtype is DType.INT16 and (zi or zo):
            raise ctx.fail(op, "int16 needs zero points 0 (LiteRT)")
        fields.update(zp_in=zi, zp_out=zo, lo=int(info.min) + off, hi=int(info.max) + off)
        if not mean and legacy:
            raise ctx.fail(op, "uint8 SUM is not supported (LiteRT rounds it unlike int8)")
        if not mean:  # reference QuantizedMeanOrSum: the plain multiplier, clamped
            mult, shift = quantize_multiplier(float(s_in) / float(s_out))
            fields.update(mode=MEAN_Q, mult=mult, shift=shift)
        elif x.dtype is DType.INT8 and keep and rank == 4 and sorted(axes) == [1, 2]:
            t = F32(F32(F32(zi) * s_in) / s_out)
            t = F32(t + F32(0.5)) if t > 0 else F32(t - F32(0.5))
            mult, shift = quantize_multiplier(float(F32(s_in / F32(F32(count) * s_out))))
            fields.update(mode=MEAN_HW, mult=mult, shift=shift, bias=zo - int(t))
        else:
            mult, shift = quantize_multiplier(float(s_in) / float(s_out))
            n = min(count.bit_length() - 1, 32, 31 + shift)
            fields.update(mode=MEAN_Q, mult=(mult << n) // count, shift=shift - n)
    events = Events(act_bytes_read=x.nbytes, act_bytes_written=y.nbytes, elementwise=x.size,
                    output_elements=y.size, act_bytes_unique_read=x.nbytes)  # fmt: skip
    return OpPlan(pack(Row, **fields), events)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n_in, n_out, item, mode = p[Row.n_in], p[Row.n_out], p[Row.item], p[Row.mode]
    table = i32[p[Row.map] : p[Row.map] + n_in]
    xb = arena[p[Row.x] : p[Row.x] + n_in * item]
    yb = arena[p[Row.y] : p[Row.y] + n_out * item]
    if mode == MEAN_F or mode == SUM_F:
        x, y = xb.view(np.float32), yb.view(np.float32)
        acc = np.full(n_out, np.float32(0.0) if mode == MEAN_F else np.float32(-0.0), np.float32)
        for i in range(n_in):
            acc[table[i]] = np.float32(acc[table[i]] + x[i])
        for j in range(n_out):
            y[j] = np.float32(acc[j] / np.float32(p[Row.count])) if mode == MEAN_F else acc[j]
        return 0, 0
    sums = np.zeros(n_out, np.int64)
    if item == 1:
        _sum(xb, table, sums)
    else:
        _sum(xb.view(np.int16), table, sums)
    sums += p[Row.off] * p[Row.count]  # legacy uint8: sums of uint8 values
    if item == 1:
        return 0, _rescale(p, sums, yb)
    return 0, _rescale(p, sums, yb.view(np.int16))


@kernel
def _sum(x, table, sums):
    for i in range(x.shape[0]):
        sums[table[i]] += x[i]
    return 0


@kernel
def _rescale(p, sums, y):
    mode, off, zo, lo, hi = p[Row.mode], p[Row.off], p[Row.zp_out], p[Row.lo], p[Row.hi]
    mult, shift, depth = p[Row.mult], p[Row.shift], p[Row.depth]
    neon = (depth // 16) * 16
    zeros = 0
    for j in range(sums.shape[0]):
        acc = sums[j]
        if mode == MEAN_Q and y.itemsize == 2:
            q = _requantize64(acc - p[Row.zp_in] * p[Row.count], mult, shift) + zo
        elif mode == MEAN_Q:
            q = requantize(acc - p[Row.zp_in] * p[Row.count], mult, shift, TFLITE) + zo
        elif j % depth < neon:  # NEON MultiplyByQuantizedMultiplier4Rows
            right = max(1, -shift)
            left = shift + right
            v32 = np.int64(np.int32(np.int64(acc) << left))
            q = round_shift(v32 * mult, right, RUY) + p[Row.bias]
        else:
            q = requantize(acc, mult, shift, TFLITE) + p[Row.bias]
        q = min(max(q, lo), hi) - off
        y[j] = q
        zeros += q == zo - off
    return zeros


@kernel
def _requantize64(x, mult, shift):
    """TFLite's int64 MultiplyByQuantizedMultiplier (int16 sums): a 16-bit multiplier, one rounding
    (ties toward +inf)."""
    reduced = (mult + (1 << 15)) >> 16 if mult < 0x7FFF0000 else 0x7FFF
    total = 15 - shift
    return (np.int64(x) * reduced + (np.int64(1) << (total - 1))) >> total
