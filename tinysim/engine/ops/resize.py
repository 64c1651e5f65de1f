"""RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR on NHWC tensors, as LiteRT's builtin (optimized) kernels.

Which arithmetic LiteRT runs depends on the dtype:
- int8 and int16 bilinear: reference ResizeBilinearInteger, 10-bit fixed-point source positions and a
  20-bit weighted sum rounded half away from zero (double-rounding build).
- uint8 bilinear: optimized ResizeBilinearGenericSmallChannel, float32 weights, the four products summed
  left to right plus 0.5, truncated. (Its 8x half-pixel NEON special case, depth % 8 == 0, is refused.)
- float32 bilinear: optimized ResizeBilinearGeneric (the output accumulates the four weighted taps in
  order), or the 2x2 kernel (midpoints) for an exact 2x upscale without align_corners/half_pixel_centers.
- nearest neighbour: a source index per output row/column (reference GetNearestNeighbor, or the
  optimized 16.16 fixed-point step for int8/uint8 without either option), then a copy of the depth.
Source positions depend only on the output row/column, so prepare tabulates them; the kernel reads them.
Legacy uint8 (tinysim.engine.uint8) is held as int8 - 128: the float kernel shifts values back.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Op

ResizeRow = IntEnum("ResizeRow", "x y batches ih iw depth oh ow mode tab ftab shift item", start=0)
Row = ResizeRow
# kernel modes
BILINEAR_INT, BILINEAR_U8, BILINEAR_F32, BILINEAR_2X2, NEAREST = range(5)
DTYPES = (DType.INT8, DType.INT16, DType.FLOAT32)


def _cdiv(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _int_positions(out: int, size: int, align: bool, half: bool) -> np.ndarray:
    """(scaled, lower, upper) per output index, ResizeBilinearInteger's 10-bit fixed point."""
    if align and out > 1:
        s10 = ((1 << 10) * (size - 1) + (out - 1) // 2) // (out - 1)
    else:
        s10 = ((1 << 10) * size + out // 2) // out
    rows = []
    for v in range(out):
        scaled = v * s10 + s10 // 2 - (1 << 9) if half else v * s10
        rows.append((scaled, max(_cdiv(scaled, 1 << 10), 0), min(_cdiv(scaled + (1 << 10) - 1, 1 << 10), size - 1)))
    return np.array(rows, np.int64).reshape(out, 3)


def _float_positions(out: int, size: int, align: bool, half: bool) -> tuple[np.ndarray, np.ndarray]:
    """float32 source position and (lower, upper) per output index (ComputeInterpolationValues)."""
    f = np.float32
    s = f(size - 1) / f(out - 1) if align and out > 1 else f(size) / f(out)
    pos = np.zeros(out, np.float32)
    bounds = np.zeros((out, 3), np.int64)
    for v in range(out):
        p = f(f(f(v) + f(0.5)) * s - f(0.5)) if half else f(f(v) * s)
        pos[v] = p
        bounds[v] = (0, max(int(np.floor(p)), 0), min(int(np.ceil(p)), size - 1))
    return pos, bounds


def _nearest(out: int, size: int, align: bool, half: bool, fixed: bool) -> np.ndarray:
    """Source index per output index: reference GetNearestNeighbor, or the optimized 16.16 step."""
    if fixed:
        step = (size << 16) // out + 1
        return np.array([(0, min((v * step) >> 16, size - 1), 0) for v in range(out)], np.int64).reshape(out, 3)
    f = np.float32
    s = f(size - 1) / f(out - 1) if align and out > 1 else f(size) / f(out)
    off = f(0.5) if half else f(0.0)
    idx = []
    for v in range(out):
        p = f(f(f(v) + off) * s)
        i = int(np.sign(p) * np.floor(np.abs(p) + 0.5)) if align else int(np.floor(p))
        i = min(i, size - 1)
        idx.append((0, max(i, 0) if half else i, 0))
    return np.array(idx, np.int64).reshape(out, 3)


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x = ctx.act(op, 0, dtypes=DTYPES)
    y = ctx.act(op, 0, output=True, dtypes=(x.dtype,))
    size = ctx.tensor(op, 1)
    if not size.is_constant or size.constant().size != 2:
        raise ctx.fail(op, "the size must be a constant int32 tensor of 2 values")
    oh, ow = (int(v) for v in size.constant().reshape(-1))
    if len(x.shape) != 4 or y.shape != (x.shape[0], oh, ow, x.shape[3]):
        raise ctx.fail(op, f"input {x.shape} and size ({oh}, {ow}) do not give the output {y.shape}")
    n, ih, iw, depth = x.shape
    align, half = bool(op.attrs.option("AlignCorners", False)), bool(op.attrs.option("HalfPixelCenters", False))
    if align and half:
        raise ctx.fail(op, "AlignCorners and HalfPixelCenters together are not supported (LiteRT refuses)")
    legacy = op.inputs[0] in ctx.legacy
    if x.dtype is not DType.FLOAT32 and (zp(x) != zp(y) or np.float32(scale(x)) != np.float32(scale(y))):
        raise ctx.fail(op, "input and output quantization must be equal (LiteRT copies the integers)")
    bilinear = op.kind is OpKind.RESIZE_BILINEAR
    ftab = np.zeros(oh + ow, np.float32)
    if not bilinear:
        fixed = x.dtype is DType.INT8 and not align and not half
        rows, cols, mode = _nearest(oh, ih, align, half, fixed), _nearest(ow, iw, align, half, fixed), NEAREST
    elif x.dtype is DType.FLOAT32 and not align and not half and (oh, ow) == (2 * ih, 2 * iw):
        rows, cols, mode = _nearest(oh, ih, False, False, False), _nearest(ow, iw, False, False, False), BILINEAR_2X2
    elif x.dtype is DType.FLOAT32 or legacy:
        if legacy and half and depth % 8 == 0 and oh >= 8 and ow >= 8 and (oh, ow) == (8 * ih, 8 * iw):
            raise ctx.fail(op, "uint8 8x half-pixel upscale with depth % 8 == 0 (LiteRT's NEON 888 kernel)")
        fr, rows = _float_positions(oh, ih, align, half)
        fc, cols = _float_positions(ow, iw, align, half)
        ftab = np.concatenate([fr, fc])
        mode = BILINEAR_F32 if x.dtype is DType.FLOAT32 else BILINEAR_U8
    else:
        rows, cols, mode = _int_positions(oh, ih, align, half), _int_positions(ow, iw, align, half), BILINEAR_INT
    tab = ctx.i32.add(np.concatenate([rows, cols]).astype(np.int32))
    params = pack(Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), batches=n, ih=ih, iw=iw,
                  depth=depth, oh=oh, ow=ow, mode=mode, tab=tab, ftab=ctx.f32.add(ftab),
                  shift=128 if legacy else 0, item=x.dtype.itemsize)  # fmt: skip
    taps = 4 if bilinear else 1
    item = x.dtype.itemsize
    events = Events(act_bytes_read=y.size * taps * item, act_bytes_written=y.nbytes,
                    elementwise=y.size * taps if bilinear else 0, output_elements=y.size,
                    act_bytes_unique_read=x.nbytes)  # fmt: skip
    return OpPlan(params, events)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    n, depth, item, mode = p[Row.batches], p[Row.depth], p[Row.item], p[Row.mode]
    ih, iw, oh, ow = p[Row.ih], p[Row.iw], p[Row.oh], p[Row.ow]
    t, ft = p[Row.tab], p[Row.ftab]
    rows = i32[t : t + 3 * oh].reshape(oh, 3)
    cols = i32[t + 3 * oh : t + 3 * (oh + ow)].reshape(ow, 3)
    frow, fcol = f32[ft : ft + oh], f32[ft + oh : ft + oh + ow]
    xb = arena[p[Row.x] : p[Row.x] + n * ih * iw * depth * item]
    yb = arena[p[Row.y] : p[Row.y] + n * oh * ow * depth * item]
    if mode == NEAREST:  # a copy of each source pixel's bytes
        nearest(xb.reshape(n, ih, iw, depth * item), yb.reshape(n, oh, ow, depth * item), rows, cols)
    elif mode == BILINEAR_INT and item == 1:
        bilinear_int(xb.reshape(n, ih, iw, depth), yb.reshape(n, oh, ow, depth), rows, cols)
    elif mode == BILINEAR_INT:
        x16, y16 = xb.view(np.int16).reshape(n, ih, iw, depth), yb.view(np.int16).reshape(n, oh, ow, depth)
        bilinear_int(x16, y16, rows, cols)
    elif mode == BILINEAR_U8:
        bilinear_u8(xb.reshape(n, ih, iw, depth), yb.reshape(n, oh, ow, depth), rows, cols, frow, fcol, p[Row.shift])
    else:
        xf, yf = xb.view(np.float32).reshape(n, ih, iw, depth), yb.view(np.float32).reshape(n, oh, ow, depth)
        if mode == BILINEAR_2X2:
            bilinear_2x2(xf, yf)
        else:
            bilinear_float(xf, yf, rows, cols, frow, fcol)
    return 0, 0


@kernel
def nearest(x, y, rows, cols):
    for b in range(x.shape[0]):
        for oy in range(y.shape[1]):
            for ox in range(y.shape[2]):
                y[b, oy, ox, :] = x[b, rows[oy, 1], cols[ox, 1], :]
    return 0


@kernel
def bilinear_int(x, y, rows, cols):
    """ResizeBilinearInteger: weights in 1/1024, the sum in 1/2**20, rounded half away from zero."""
    n, _ih, _iw, depth = x.shape
    for b in range(n):
        for oy in range(y.shape[1]):
            sy, y0, y1 = np.int64(rows[oy, 0]), rows[oy, 1], rows[oy, 2]
            dy = sy - 1024 * y0
            for ox in range(y.shape[2]):
                sx, x0, x1 = np.int64(cols[ox, 0]), cols[ox, 1], cols[ox, 2]
                dx = sx - 1024 * x0
                for c in range(depth):
                    acc = (np.int64(x[b, y0, x0, c]) * (1024 - dy) * (1024 - dx)
                           + np.int64(x[b, y1, x0, c]) * dy * (1024 - dx)
                           + np.int64(x[b, y0, x1, c]) * (1024 - dy) * dx
                           + np.int64(x[b, y1, x1, c]) * dy * dx)  # fmt: skip
                    r = acc + (np.int64(1 << 19) if acc > 0 else np.int64(-(1 << 19)))
                    q = abs(r) >> 20
                    y[b, oy, ox, c] = q if r >= 0 else -q
    return 0


@kernel
def tap_weights(fy, y0, fx, x0):
    """Float32 weights of the taps (y0,x0), (y0,x1), (y1,x0), (y1,x1) at source position (fy, fx)."""
    one = np.float32(1.0)
    wy = np.float32(fy - np.float32(y0))
    wx = np.float32(fx - np.float32(x0))
    return (np.float32(np.float32(one - wy) * np.float32(one - wx)), np.float32(np.float32(one - wy) * wx),
            np.float32(wy * np.float32(one - wx)), np.float32(wy * wx))  # fmt: skip


@kernel
def bilinear_u8(x, y, rows, cols, frow, fcol, shift):
    """ResizeBilinearGenericSmallChannel<uint8>: float32 weights, sum + 0.5 truncated."""
    n, _ih, _iw, depth = x.shape
    half = np.float32(0.5)
    for b in range(n):
        for oy in range(y.shape[1]):
            y0, y1 = rows[oy, 1], rows[oy, 2]
            for ox in range(y.shape[2]):
                x0, x1 = cols[ox, 1], cols[ox, 2]
                s0, s1, s2, s3 = tap_weights(frow[oy], y0, fcol[ox], x0)
                for c in range(depth):
                    v = np.float32(np.float32(np.int32(x[b, y0, x0, c]) + shift) * s0)
                    v = np.float32(v + np.float32(np.float32(np.int32(x[b, y0, x1, c]) + shift) * s1))
                    v = np.float32(v + np.float32(np.float32(np.int32(x[b, y1, x0, c]) + shift) * s2))
                    v = np.float32(v + np.float32(np.float32(np.int32(x[b, y1, x1, c]) + shift) * s3))
                    v = np.float32(v + half)
                    q = (np.int32(v) & 255) - shift if shift else np.int32(v)
                    y[b, oy, ox, c] = q
    return 0


@kernel
def bilinear_float(x, y, rows, cols, frow, fcol):
    """ResizeBilinearGeneric (float32): the output accumulates the taps (y0,x0), (y0,x1), (y1,x0), (y1,x1)."""
    n, _ih, _iw, depth = x.shape
    for b in range(n):
        for oy in range(y.shape[1]):
            y0, y1 = rows[oy, 1], rows[oy, 2]
            for ox in range(y.shape[2]):
                x0, x1 = cols[ox, 1], cols[ox, 2]
                s0, s1, s2, s3 = tap_weights(frow[oy], y0, fcol[ox], x0)
                for c in range(depth):
                    v = np.float32(np.float32(0.0) + np.float32(x[b, y0, x0, c] * s0))
                    v = np.float32(v + np.float32(x[b, y0, x1, c] * s1))
                    v = np.float32(v + np.float32(x[b, y1, x0, c] * s2))
                    y[b, oy, ox, c] = np.float32(v + np.float32(x[b, y1, x1, c] * s3))
    return 0


@kernel
def bilinear_2x2(x, y):
    """ResizeBilinear2x2 (float32, exact 2x): each input pixel and its right/lower neighbours give 2x2 outputs."""
    n, ih, iw, depth = x.shape
    h = np.float32(0.5)
    for b in range(n):
        for y0 in range(ih):
            y1 = min(y0 + 1, ih - 1)
            for x0 in range(iw):
                x1 = min(x0 + 1, iw - 1)
                for c in range(depth):
                    a, r, d, rd = x[b, y0, x0, c], x[b, y0, x1, c], x[b, y1, x0, c], x[b, y1, x1, c]
                    y[b, 2 * y0, 2 * x0, c] = a
                    y[b, 2 * y0, 2 * x0 + 1, c] = np.float32(np.float32(a + r) * h)
                    bl = np.float32(np.float32(a + d) * h)
                    y[b, 2 * y0 + 1, 2 * x0, c] = bl
                    br = np.float32(r + rd)
                    y[b, 2 * y0 + 1, 2 * x0 + 1, c] = np.float32(np.float32(bl + np.float32(br * h)) * h)
    return 0
