"""CONV_2D's direct path: short patches (a spatial kernel on few input channels, the stems) over
wide output rows, vectorised over output pixels instead of im2col + dot products.

The padded input is split once into planes by row phase, column phase and channel
(`split_planes`), so a tap's inputs for a block of consecutive output pixels, taken row by row
over `cols` columns, are one contiguous run; the GEMM then runs four taps per pass over the run
for each output channel, and the last cols - ow columns of each row are discarded.
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.ops.requant import requantize_inplace8

PLANE_ACC_BUDGET = 8192  # int32 accumulators per block


def plane_geometry(kh, kw, c, oh, ow, sh, sw, dh, dw) -> tuple[int, int, np.ndarray]:
    """Layout of `split_planes`: per-batch frame size, plane row width, each tap's run start."""
    hq = -(-((oh - 1) * sh + (kh - 1) * dh + 1) // sh)
    cols = -(-((ow - 1) * sw + (kw - 1) * dw + 1) // sw)
    i, j, ci = (g.ravel() for g in np.meshgrid(np.arange(kh), np.arange(kw), np.arange(c), indexing="ij"))
    plane = (ci * sh + i * dh % sh) * sw + j * dw % sw
    return c * sh * sw * hq * cols, cols, (plane * hq + i * dh // sh) * cols + j * dw // sw


@kernel
def split_planes(x, planes, geometry, frame, cols, zp_in):
    """The padded input split by row and column phase: planes[b, ci, Y % sh, X % sw, Y // sh, X // sw]
    = x[b, Y - ph, X - pw, ci] (zp_in outside x), plus `cols` elements of slack at the end.

    Then tap q's inputs for consecutive output pixels, taken row by row over `cols` columns (the
    last cols - ow of each row are discarded), are one contiguous run starting at taps[q] + pixel.
    """
    n, h, wd, c, _, _, _, _, _, sh, sw, _, _, ph, pw = geometry
    plane = frame // (c * sh * sw)
    for q in range(planes.shape[0]):
        planes[q] = zp_in
    cstride = sh * sw * plane
    for b in range(n):
        for iy in range(max(0, -ph), min(h, (plane // cols) * sh - ph)):
            xrow = x[(b * h + iy) * wd * c : (b * h + iy + 1) * wd * c]
            py = iy + ph
            for r in range(sw):  # column phase r: padded columns r, r + sw, ...; no division per pixel
                u0 = max(0, -(-(pw - r) // sw))  # first u with an input column u * sw + r - pw >= 0
                u1 = min(cols, (wd - 1 + pw - r) // sw + 1)
                if u1 <= u0:
                    continue
                at = b * frame + ((py % sh) * sw + r) * plane + (py // sh) * cols + u0
                first = (u0 * sw + r - pw) * c
                for ci in range(c):  # a strided read of channel ci, a contiguous write
                    src = xrow[first + ci : first + ci + (u1 - u0 - 1) * sw * c + 1 : sw * c]
                    dst = planes[at + ci * cstride : at + ci * cstride + u1 - u0]
                    for u in range(u1 - u0):
                        dst[u] = src[u]


@kernel
def conv2d_by_pixel(x, w, bias, mult, shift, nz_w, out, planes, acc, geometry, zp_in, zp_out, lo, hi, mode,
                    taps, frame, cols, mask, count):  # fmt: skip
    """Direct conv vectorised over output pixels: acc[o, v] = bias[o] + sum_q w[o, q] * planes[taps[q] + v].

    v runs over output rows of `cols` columns (see split_planes), a block of whole rows at a time;
    mask[v] is 1 on real output columns. Returns (dynamic zero-operand MACs, outputs == zp_out).
    """
    n, _, _, _, oh, ow, oc, _, _, _, _, _, _, _, _ = geometry
    kp = w.shape[0] // oc
    tile = mask.shape[0]
    split_planes(x, planes, geometry, frame, cols, zp_in)
    zero_macs = 0
    out_zeros = 0
    for b in range(n):
        for v0 in range(0, oh * cols, tile):
            tv = min(tile, oh * cols - v0)
            base = b * frame + v0
            if count:
                zp8 = np.int8(zp_in)  # compare int8 with int8, not widened to int64
                for q in range(kp):
                    run = planes[base + taps[q] : base + taps[q] + tv]
                    z = np.int32(0)
                    for t in range(tv):
                        z = np.int32(z + ((run[t] == zp8) & (mask[t] != 0)))
                    zero_macs += z * nz_w[q]
            for o in range(oc):
                arow = acc[o * tile : o * tile + tv]
                for t in range(tv):
                    arow[t] = bias[o]
                wo = w[o * kp : o * kp + kp]
                ab = np.uint64(o * tile)
                for q in range(0, kp, 4):
                    w0, w1, w2, w3 = np.int32(wo[q]), np.int32(wo[q + 1]), np.int32(wo[q + 2]), np.int32(wo[q + 3])
                    x0, x1 = np.uint64(base + taps[q]), np.uint64(base + taps[q + 1])
                    x2, x3 = np.uint64(base + taps[q + 2]), np.uint64(base + taps[q + 3])
                    for t in range(tv):  # unsigned indices, int32 wrapping: 32-bit vector lanes
                        u = np.uint64(t)
                        s01 = np.int32(w0 * np.int32(planes[x0 + u]) + w1 * np.int32(planes[x1 + u]))
                        s23 = np.int32(w2 * np.int32(planes[x2 + u]) + w3 * np.int32(planes[x3 + u]))
                        acc[ab + u] = np.int32(acc[ab + u] + np.int32(s01 + s23))
                requantize_inplace8(arow, mult[o], shift[o], mode, zp_out, lo, hi)  # arow is tv long
                z = np.int32(0)
                zp32 = np.int32(zp_out)
                for t in range(tv):
                    z = np.int32(z + ((arow[t] == zp32) & (mask[t] != 0)))
                out_zeros += z
            for r in range(tv // cols):  # transpose to NHWC; unsigned indices, no array views
                dst = np.uint64((b * oh + v0 // cols + r) * ow * oc)
                for t in range(ow):
                    src = np.uint64(r * cols + t)
                    d = dst + np.uint64(t * oc)
                    for o in range(oc):
                        out[d + np.uint64(o)] = acc[src + np.uint64(o * tile)]
    return zero_macs, out_zeros
