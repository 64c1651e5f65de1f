"""im2col for the dot paths of CONV_2D (conv.py, madd16.py): a block of output pixels' receptive fields
as rows of a patch matrix in (kh, kw, ic) order, the order of an OHWI weight row."""

from __future__ import annotations

import numpy as np

from tinysim.engine.jit import kernel


@kernel
def gather(x, patch, p0, tn, kr, geometry, off, fill):
    """im2col of output pixels p0 .. p0+tn (flat over batch, rows, columns): patch[t, (i, j, ci)]
    = x + off (truncated to patch's dtype), padded taps `fill`: x + 128 as uint8 (fill zp_in + 128) for dot_block,
    x - zp_in as int16 (fill 0) for madd_block. Rows are kr apart (kr >= k; the kr - k elements after
    a row are left as they are: their weights are 0).

    Indices are unsigned (no negative-index wraparound check, no array views whose reference
    counting costs atomics), so the copies vectorise.
    """
    _, h, wd, c, oh, ow, _, kh, kw, sh, sw, dh, dw, ph, pw = geometry
    o32 = np.int32(off)
    if kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0 and kr == c:
        src = np.uint64(p0 * c)  # 1x1 stride-1 unpadded: the block is a contiguous run of x
        for q in range(tn * c):
            patch[np.uint64(q)] = np.int32(x[src + np.uint64(q)]) + o32
        return
    span = kw * c
    b = p0 // (oh * ow)  # the block's first pixel; then step through columns without dividing
    oy = (p0 // ow) % oh
    ox = p0 % ow
    for t in range(tn):
        ix0 = ox * sw - pw
        inside = dw == 1 and ix0 >= 0 and ix0 + kw <= wd
        for i in range(kh):
            iy = oy * sh - ph + i * dh
            dst = np.uint64(t * kr + i * span)
            if iy < 0 or iy >= h:
                for q in range(span):
                    patch[dst + np.uint64(q)] = fill
                continue
            row = (b * h + iy) * wd
            if inside:
                src = np.uint64((row + ix0) * c)
                for q in range(span):
                    patch[dst + np.uint64(q)] = np.int32(x[src + np.uint64(q)]) + o32
                continue
            for j in range(kw):
                ix = ix0 + j * dw
                d = dst + np.uint64(j * c)
                if 0 <= ix < wd:
                    src = np.uint64((row + ix) * c)
                    for ci in range(c):
                        patch[d + np.uint64(ci)] = np.int32(x[src + np.uint64(ci)]) + o32
                else:
                    for ci in range(c):
                        patch[d + np.uint64(ci)] = fill
        ox += 1
        if ox == ow:
            ox = 0
            oy += 1
            if oy == oh:
                oy = 0
                b += 1
