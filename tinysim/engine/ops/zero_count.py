"""Zero-operand MACs of a convolution counted on its input, not per MAC (conv's dot path, depthwise).

A MAC has a zero operand when its input equals the input zero point or its weight is 0. The
weight part is static (prepare: each tap's zero weights times the outputs that tap makes MACs
for); the input part is one pass over the input: a value equal to zp_in adds, for every tap that
reads it, the MACs it feeds that have a nonzero weight (`zero_tap_table`).
"""

from __future__ import annotations

import numpy as np

from tinysim.engine.jit import kernel


def zero_tap_table(h, oh, kh, sh, dh, ph, wd, ow, kw, sw, dw, pw, nz_w):
    """Zero-operand MACs per input value equal to zp_in, by input row class, column class and channel.

    An input at (iy, ix, ci) is read by tap (i, j) of exactly one output pixel when row iy is some
    oy * sh - ph + i * dh (oy < oh) and likewise for the column, and each such read with x == zp_in
    makes nz_w[i, j, ci] (= oc - zero weights of that tap) zero-operand MACs. Rows (columns) read by
    the same taps share a class: table[ry[iy], rx[ix], ci] sums nz_w over the taps that read them.
    """

    def reads(size, out, k, stride, dil, pad):
        pos = np.arange(out)[:, None] * stride - pad + np.arange(k)[None, :] * dil  # (out, k) input index
        used = np.zeros((size, k), np.int64)
        for t in range(k):
            p = pos[:, t]
            used[p[(p >= 0) & (p < size)], t] = 1
        classes, which = np.unique(used, axis=0, return_inverse=True)
        return classes, which.ravel().astype(np.int32)

    cy, ry = reads(h, oh, kh, sh, dh, ph)
    cx, rx = reads(wd, ow, kw, sw, dw, pw)
    table = np.einsum("ai,bj,ijc->abc", cy, cx, nz_w.astype(np.int64))
    return table, ry, rx


@kernel
def count_input_zeros(x, table, ry, rx, n, h, wd, c, nx, zp_in):
    """Dynamic zero-operand MACs of the dot path: sum of table[ry[iy], rx[ix], ci] over inputs == zp_in."""
    zp8 = np.int8(zp_in)
    total = 0
    for b in range(n):
        for iy in range(h):
            z = 0
            for ix in range(wd):
                tb = np.uint64((ry[iy] * nx + rx[ix]) * c)
                xb = np.uint64(((b * h + iy) * wd + ix) * c)
                zp = np.int32(0)  # at most c * kh * kw * oc per input pixel
                for ci in range(c):
                    u = np.uint64(ci)
                    zp = np.int32(zp + (table[tb + u] if x[xb + u] == zp8 else np.int32(0)))
                z += zp
            total += z
    return total
