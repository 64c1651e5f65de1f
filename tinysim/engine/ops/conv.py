"""CONV_2D, int8 activations with per-channel int8 weights (TFLite integer_ops::ConvPerChannel).

Two paths, both int32-exact:
- im2col + dot products (most convs): a block of output pixels' receptive fields is gathered
  into a uint8 matrix holding x + 128 (rows in (kh, kw, ic) order, the order of an OHWI weight
  row) and multiplied by the int8 weights, 4 pixels x 4 channels per pass, then requantized as
  one long row. Padded taps hold zp_in + 128 and the bias is pre-folded with
  -(zp_in + 128) * sum(w), so a padded tap contributes exactly 0, as the reference's skipped tap.
  On AVX2 hosts without VNNI (madd16.py) the patch is int16 x - zp_in (padded taps 0) instead, and
  the products run 8 channels per vector with `vpmaddwd`.
- direct (short patches over wide rows: the stems, 1x1 on < 16 channels; with madd16 only up to
  16 output channels): the padded
  input is split once into row/column-phase planes so that each tap reads one contiguous run
  per block of output rows, and the GEMM is vectorised over output pixels.

Zero-operand MACs are counted without a per-MAC test: an input read with x == zp_in by a tap adds
(oc - zero weights of that tap), every tap read adds its zero weights (a constant of prepare).
The dot path counts once per input value (`count_input_zeros`: each input's taps from a table by
row and column class); the direct path counts on the planes and corrects padded taps (always
== zp_in, never MACs) by a constant computed at prepare time.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import activation_range, requantize_row
from tinysim.engine.jit import kernel
from tinysim.engine.ops import conv_int16
from tinysim.engine.ops.conv_direct import PLANE_ACC_BUDGET, conv2d_by_pixel, plane_geometry
from tinysim.engine.ops.im2col import gather
from tinysim.engine.ops.madd16 import HAVE_MADD16, ROWS, conv2d_by_row16, pack_weights
from tinysim.engine.ops.vnni import HAVE_VNNI, dot_block_vnni
from tinysim.engine.ops.zero_count import count_input_zeros, zero_tap_table
from tinysim.engine.program import OpPlan, PrepareContext, conv_geometry, pack, pixel_tile, scale, zp
from tinysim.events import Events
from tinysim.ops import tap_counts
from tinysim.workload.graph import DType, Op

# The parameter row; the last two lines are the direct path's and the dot path's own fields.
ConvRow = IntEnum("ConvRow", """
    wide x y w bias mult shift n h wd c oh ow oc kh kw sh sw dh dw ph pw
    zp_in zp_out lo hi mode by_pixel tile static_zero
    nz_w taps frame cols mask
    zero_table kr ry rx ny nx zp_w ocp
""", start=0)  # fmt: skip
Row = ConvRow  # what prepare and the kernels say; the class name shows in pack's errors

# Direct conv vectorised over output pixels (conv_direct) for short patches over rows of >= 16
# outputs: a spatial kernel on few channels (the stems) or 1x1 on < 16 channels; else im2col and
# one dot product per (pixel, channel).
PIXEL_MAJOR_BELOW_K = 64
PIXEL_MAJOR_FROM_OW = 16
# With madd16 (AVX2) the dot path beats the direct one from 16 output channels up (DeepLab's 1x1 on 8/12
# channels: 3x, MobileNet's stem: 1.8x; VWW's stem on 8: 0.8x); 16 itself stays direct, as the tests pin.
PIXEL_MAJOR_MAX_OC_MADD16 = 16
ROW_BUDGET = 8192  # uint8 im2col elements per block of the dot-product path (8 KiB, within L1)
PATCH16_BUDGET, ACC16_BUDGET = 16384, 32768  # the same on AVX2 (madd16): int16 patch, int32 accumulators


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if ctx.tensor(op, 0).dtype is DType.INT16:
        return conv_int16.prepare_conv(ctx, op, depthwise=False)
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    w = ctx.const(op, 1, DType.INT8)
    b = ctx.const(op, 2, DType.INT32)
    if w is None or w.quant is None or len(w.shape) != 4 or len(x.shape) != 4:
        raise ctx.fail(op, "needs a 4-D input and 4-D int8 OHWI weights with quantization")
    n, h, wd, c = x.shape
    oc, kh, kw, ic = w.shape
    if ic != c:
        raise ctx.fail(op, f"weights expect {ic} input channels, input has {c}")
    a = op.attrs
    oh, ph, ow, pw, mult, shift = conv_geometry(ctx, op, x, w, y, kh, kw, oc)
    k = kh * kw * ic
    wk = w.constant().reshape(oc, k).astype(np.int32) - zp(w)  # zp(w) != 0 only for legacy uint8: -255..255
    bias = (b.constant().astype(np.int64) if b is not None else np.zeros(oc, np.int64)) - zp(x) * wk.sum(axis=1)
    lo, hi = activation_range(a.activation.value, scale(y), zp(y))
    tap_rows = tap_counts(h, oh, kh, a.stride_h, a.dilation_h, ph)
    tap_cols = tap_counts(wd, ow, kw, a.stride_w, a.dilation_w, pw)
    valid = n * np.outer(tap_rows, tap_cols)  # (kh, kw): MAC-making uses of each tap
    zero_w = (wk == 0).sum(axis=0).reshape(kh, kw, ic)
    padded = n * oh * ow - valid
    static_zero = int((valid[:, :, None] * zero_w).sum() - (padded[:, :, None] * (oc - zero_w)).sum())
    macs = int(valid.sum()) * ic * oc
    by_pixel = (kh * kw > 1 or k < 16) and k < PIXEL_MAJOR_BELOW_K and ow >= PIXEL_MAJOR_FROM_OW
    by_pixel = by_pixel and not (HAVE_MADD16 and oc > PIXEL_MAJOR_MAX_OC_MADD16)
    if by_pixel:  # weights (oc, kp), k padded to a multiple of 4 with zeros; per-channel multipliers
        kp = -(-k // 4) * 4
        wq = np.zeros((oc, kp), np.int32)
        wq[:, :k] = wk
        nz = np.zeros(kp, np.int64)
        nz[:k] = oc - zero_w.ravel()
        frame, cols, taps = plane_geometry(kh, kw, c, oh, ow, a.stride_h, a.stride_w, a.dilation_h, a.dilation_w)
        tile = cols * max(1, min(oh, PLANE_ACC_BUDGET // oc // cols))  # whole virtual rows per block
        mask = (np.arange(tile) % cols < ow).astype(np.int16)  # real (not padding-width) columns
        path: dict[str, int] = {
            "w": ctx.i16.add(wq), "bias": ctx.i32.add(bias), "mult": ctx.i32.add(mult), "shift": ctx.i32.add(shift),
            "nz_w": ctx.i32.add(nz), "taps": ctx.i32.add(np.concatenate([taps, np.zeros(kp - k, np.int64)])),
            "frame": frame, "cols": cols, "mask": ctx.i16.add(mask),
        }  # fmt: skip
        scratch16, scratch32 = -(-(n * frame + cols) // 2), oc * tile
    else:  # one dot product per (pixel, channel); mult, shift tiled over a block of pixels
        make = _madd16_path if HAVE_MADD16 else _dot_path
        tile, path, scratch16, scratch32 = make(ctx, w, b, wk, bias, n * oh * ow, oc, k)
        table, ry, rx = zero_tap_table(h, oh, kh, a.stride_h, a.dilation_h, ph, wd, ow, kw, a.stride_w, a.dilation_w,
                                       pw, oc - zero_w)  # fmt: skip
        static_zero = int((valid[:, :, None] * zero_w).sum())  # padded taps are never counted on this path
        path.update(
            mult=ctx.i32.add(np.tile(mult, tile)), shift=ctx.i32.add(np.tile(shift, tile)),
            zero_table=ctx.i32.add(table), ry=ctx.i32.add(ry), rx=ctx.i32.add(rx), ny=table.shape[0],
            nx=table.shape[1],
        )  # fmt: skip
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), n=n, h=h, wd=wd, c=c, oh=oh, ow=ow, oc=oc,
        kh=kh, kw=kw, sh=a.stride_h, sw=a.stride_w, dh=a.dilation_h, dw=a.dilation_w, ph=ph, pw=pw, zp_in=zp(x),
        zp_out=zp(y), lo=lo, hi=hi, mode=ctx.rounding_mac, by_pixel=by_pixel, tile=tile, static_zero=static_zero,
        **path,
    )  # fmt: skip
    out_elems = n * oh * ow * oc
    bias_bytes = 4 * oc if b is not None else 0
    events = Events(
        macs=macs, weight_bytes_read=macs + (4 * out_elems if b is not None else 0), act_bytes_read=macs,
        act_bytes_written=out_elems, elementwise=out_elems, output_elements=out_elems,
        weight_bytes_unique=w.nbytes + bias_bytes, act_bytes_unique_read=x.nbytes,
    )  # fmt: skip
    return OpPlan(params, events, scratch16=scratch16, scratch32=scratch32)


def _whole_passes(tile: int, pixels: int) -> int:
    """A block of pixels cut to whole 4-pixel passes of the micro-kernels (unless it is all of them)."""
    return tile - (tile % 4 if tile > 4 else 0) if tile < pixels else tile


def _dot_path(ctx, w, b, wk, bias, pixels, oc, k):
    """The dot path's weights: int8, rows padded to 16-byte vectors, packed in pairs into the int16 pool.
    Legacy uint8 weights w - zp(w) span -255..255, so the dot runs on the stored int8 w and the kernel
    subtracts zp(w) x (the patch's sum) per pixel. Returns (tile, row fields, scratch16, scratch32)."""
    kr = row_stride(k)
    tile = _whole_passes(pixel_tile(pixels, oc, kr, budget=ROW_BUDGET), pixels)
    w8 = np.zeros((oc, kr), np.int8)
    w8[:, :k] = w.constant().reshape(oc, k)
    bias_u8 = bias - 128 * wk.sum(axis=1)  # the patch holds x + 128
    path = {"w": ctx.i16.add(w8.ravel().view(np.int16)), "bias": ctx.i32.add(bias_u8), "kr": kr, "zp_w": zp(w)}
    return tile, path, tile * kr // 2, tile * oc


def _madd16_path(ctx, w, b, wk, bias, pixels, oc, k):
    """The dot path on madd16 (AVX2): int16 weights w - zp(w) packed by 8 channels, rows padded to pairs,
    and the unfolded bias (the int16 patch holds x - zp_in). Blocks are larger than `_dot_path`'s, so
    the weights are re-read less often. Returns (tile, row fields, scratch16, scratch32)."""
    kr, ocp = k + k % 2, -(-oc // 8) * 8
    tile = _whole_passes(min(pixels, max(1, min(PATCH16_BUDGET // kr, ACC16_BUDGET // ocp))), pixels)
    rows = -(-tile // ROWS) * ROWS
    raw = b.constant().astype(np.int64) if b is not None else np.zeros(oc, np.int64)
    path = {"w": ctx.i16.add(pack_weights(wk, kr)), "bias": ctx.i32.add(np.pad(raw, (0, ocp - oc))), "kr": kr,
            "ocp": ocp}  # fmt: skip
    return tile, path, rows * kr, rows * ocp


def row_stride(k: int) -> int:
    """Patch row length of the dot path: k rounded up to whole 16-byte vectors."""
    return -(-k // 16) * 16


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    if p[Row.wide] == 1:  # int16x8: a conv_int16 row
        return conv_int16.evaluate(p, arena, i16, i32, f32, s16, s32, count)
    n, h, wd, c, oh, ow, oc = p[Row.n], p[Row.h], p[Row.wd], p[Row.c], p[Row.oh], p[Row.ow], p[Row.oc]
    kh, kw, tile = p[Row.kh], p[Row.kw], p[Row.tile]
    k = kh * kw * c
    x = arena[p[Row.x] : p[Row.x] + n * h * wd * c]
    out = arena[p[Row.y] : p[Row.y] + n * oh * ow * oc]
    geometry = (n, h, wd, c, oh, ow, oc, kh, kw, p[Row.sh], p[Row.sw], p[Row.dh], p[Row.dw], p[Row.ph], p[Row.pw])
    zp_in, zp_out, lo, hi, mode = p[Row.zp_in], p[Row.zp_out], p[Row.lo], p[Row.hi], p[Row.mode]
    w, bias, mult, shift = p[Row.w], p[Row.bias], p[Row.mult], p[Row.shift]  # offsets into i16 / i32
    if p[Row.by_pixel] == 1:
        kp = -(-k // 4) * 4
        nz_w, taps, frame, cols, mask = p[Row.nz_w], p[Row.taps], p[Row.frame], p[Row.cols], p[Row.mask]
        zero_macs, out_zeros = conv2d_by_pixel(
            x, i16[w : w + oc * kp], i32[bias : bias + oc], i32[mult : mult + oc], i32[shift : shift + oc],
            i32[nz_w : nz_w + kp], out, s16.view(np.int8)[: n * frame + cols], s32[: tile * oc], geometry,
            zp_in, zp_out, lo, hi, mode, i32[taps : taps + kp], frame, cols, i16[mask : mask + tile], count,
        )  # fmt: skip
    else:
        kr, ny, nx, ry, rx, table = p[Row.kr], p[Row.ny], p[Row.nx], p[Row.ry], p[Row.rx], p[Row.zero_table]
        if HAVE_MADD16:  # a compile-time constant: one branch is compiled
            ocp = p[Row.ocp]
            out_zeros = conv2d_by_row16(
                x, i16[w : w + ocp * kr], i32[bias : bias + ocp], i32[mult : mult + tile * oc],
                i32[shift : shift + tile * oc], out, s16[: -(-tile // ROWS) * ROWS * kr],
                s32[: -(-tile // ROWS) * ROWS * ocp], geometry, zp_in, zp_out, lo, hi, mode, tile, ocp,
            )  # fmt: skip
        else:
            out_zeros = conv2d_by_row(
                x, i16.view(np.int8)[2 * w : 2 * w + oc * kr], i32[bias : bias + oc], i32[mult : mult + tile * oc],
                i32[shift : shift + tile * oc], out, s16.view(np.uint8)[: tile * kr], s32[: tile * oc],
                geometry, zp_in, zp_out, lo, hi, mode, tile, p[Row.zp_w],
            )  # fmt: skip
        zero_macs = 0
        if count:
            zero_macs = count_input_zeros(x, i32[table : table + ny * nx * c], i32[ry : ry + h], i32[rx : rx + wd],
                                          n, h, wd, c, nx, zp_in)  # fmt: skip
    return zero_macs + (p[Row.static_zero] if count else 0), out_zeros


@kernel
def subtract_patch_sums(patch, acc, tn, k, kr, oc, zp_w):
    """acc[t, o] -= zp_w * sum of patch row t's first k bytes (the kr - k tail is not the patch's)."""
    for t in range(tn):
        s = np.int32(0)
        for q in range(k):
            s = np.int32(s + np.int32(patch[t * kr + q]))
        corr = np.int32(zp_w * s)
        for o in range(oc):
            acc[t * oc + o] = np.int32(acc[t * oc + o] - corr)


@kernel
def dot_block(patch, w, bias, acc, tn, k, oc):
    """acc[t, o] = bias[o] + sum_q patch[t, q] * w[o, q] for t < tn: 4 pixels x 4 channels per pass.

    patch is uint8 (x + 128), w int8: LLVM widens them to 32-bit lanes and multiply-adds with
    vpdpwssd. Sums are wrapped to int32 at every step (np.int32(s + p)) so they stay 32-bit; the
    true sums fit in int32, so wrapping changes nothing.
    """
    t4 = tn - tn % 4
    o4 = oc - oc % 4
    for t in range(0, t4, 4):
        x0 = patch[(t + 0) * k : (t + 0 + 1) * k]
        x1 = patch[(t + 1) * k : (t + 1 + 1) * k]
        x2 = patch[(t + 2) * k : (t + 2 + 1) * k]
        x3 = patch[(t + 3) * k : (t + 3 + 1) * k]
        a = acc[t * oc : (t + 4) * oc]
        for o in range(0, o4, 4):
            r0 = w[(o + 0) * k : (o + 0 + 1) * k]
            r1 = w[(o + 1) * k : (o + 1 + 1) * k]
            r2 = w[(o + 2) * k : (o + 2 + 1) * k]
            r3 = w[(o + 3) * k : (o + 3 + 1) * k]
            s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = np.int32(0)
            for q in range(k):
                w0 = np.int32(r0[q])
                w1 = np.int32(r1[q])
                w2 = np.int32(r2[q])
                w3 = np.int32(r3[q])
                v0 = np.int32(x0[q])
                v1 = np.int32(x1[q])
                v2 = np.int32(x2[q])
                v3 = np.int32(x3[q])
                s00 = np.int32(s00 + v0 * w0)
                s01 = np.int32(s01 + v0 * w1)
                s02 = np.int32(s02 + v0 * w2)
                s03 = np.int32(s03 + v0 * w3)
                s10 = np.int32(s10 + v1 * w0)
                s11 = np.int32(s11 + v1 * w1)
                s12 = np.int32(s12 + v1 * w2)
                s13 = np.int32(s13 + v1 * w3)
                s20 = np.int32(s20 + v2 * w0)
                s21 = np.int32(s21 + v2 * w1)
                s22 = np.int32(s22 + v2 * w2)
                s23 = np.int32(s23 + v2 * w3)
                s30 = np.int32(s30 + v3 * w0)
                s31 = np.int32(s31 + v3 * w1)
                s32 = np.int32(s32 + v3 * w2)
                s33 = np.int32(s33 + v3 * w3)
            a[0 * oc + o + 0] = bias[o + 0] + s00
            a[0 * oc + o + 1] = bias[o + 1] + s01
            a[0 * oc + o + 2] = bias[o + 2] + s02
            a[0 * oc + o + 3] = bias[o + 3] + s03
            a[1 * oc + o + 0] = bias[o + 0] + s10
            a[1 * oc + o + 1] = bias[o + 1] + s11
            a[1 * oc + o + 2] = bias[o + 2] + s12
            a[1 * oc + o + 3] = bias[o + 3] + s13
            a[2 * oc + o + 0] = bias[o + 0] + s20
            a[2 * oc + o + 1] = bias[o + 1] + s21
            a[2 * oc + o + 2] = bias[o + 2] + s22
            a[2 * oc + o + 3] = bias[o + 3] + s23
            a[3 * oc + o + 0] = bias[o + 0] + s30
            a[3 * oc + o + 1] = bias[o + 1] + s31
            a[3 * oc + o + 2] = bias[o + 2] + s32
            a[3 * oc + o + 3] = bias[o + 3] + s33
        for o in range(o4, oc):
            r0 = w[o * k : (o + 1) * k]
            s0 = s1 = s2 = s3 = np.int32(0)
            for q in range(k):
                w0 = np.int32(r0[q])
                s0 = np.int32(s0 + np.int32(x0[q]) * w0)
                s1 = np.int32(s1 + np.int32(x1[q]) * w0)
                s2 = np.int32(s2 + np.int32(x2[q]) * w0)
                s3 = np.int32(s3 + np.int32(x3[q]) * w0)
            a[o], a[oc + o], a[2 * oc + o], a[3 * oc + o] = bias[o] + s0, bias[o] + s1, bias[o] + s2, bias[o] + s3
    for t in range(t4, tn):
        xr = patch[t * k : (t + 1) * k]
        for o in range(oc):
            r0 = w[o * k : (o + 1) * k]
            s0 = np.int32(0)
            for q in range(k):
                s0 = np.int32(s0 + np.int32(xr[q]) * np.int32(r0[q]))
            acc[t * oc + o] = bias[o] + s0


@kernel
def conv2d_by_row(x, w, bias, mult, shift, out, patch, acc, geometry, zp_in, zp_out, lo, hi, mode, tile, zp_w):
    """One dot product per (pixel, channel) over an im2col block; mult, shift tiled `tile` times. With a
    weight zero point zp_w (legacy uint8), acc -= zp_w x the pixel's patch sum: sum x (w - zp_w) exactly.

    Returns the number of outputs equal to the output zero point (zero-operand MACs are counted
    on the input by `count_input_zeros`).
    """
    n, _, _, c, oh, ow, oc, kh, kw, _, _, _, _, _, _ = geometry
    k = kh * kw * c
    kr = w.shape[0] // oc  # patch/weight row stride (k padded with zero weights)
    pixels = n * oh * ow
    out_zeros = 0
    for p0 in range(0, pixels, tile):
        tn = min(tile, pixels - p0)
        gather(x, patch, p0, tn, kr, geometry, 128, zp_in + 128)
        if HAVE_VNNI:  # a compile-time constant: one branch is compiled
            dot_block_vnni(patch, w, bias, acc, tn, kr, oc)
        else:
            dot_block(patch, w, bias, acc, tn, kr, oc)
        if zp_w != 0:
            subtract_patch_sums(patch, acc, tn, k, kr, oc, zp_w)
        out_zeros += requantize_row(acc[: tn * oc], mult, shift, mode, zp_out, lo, hi, out, p0 * oc)
    return out_zeros
