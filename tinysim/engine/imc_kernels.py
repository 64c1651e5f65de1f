"""Numba kernels of an in-memory-compute MAC layer: im2col per output pixel, chunked bit-plane column sums, ADC.

One kernel serves CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: weights are (oc, K) columns,
the receptive field of one output pixel is gathered as u[group, K] (u = x + 128; one group for
conv / FC, one per input channel for depthwise; output channel o reads group o // (oc / groups)).
The semantics are documented in tinysim.engine.imc_numerics.
"""

from __future__ import annotations

import math

import numpy as np

from tinysim.engine.fixedpoint import requantize_row
from tinysim.engine.imc_numerics import Geometry as G
from tinysim.engine.jit import kernel


@kernel
def gather_u(x, u, valid, pix, geo, zp_in):
    """u[g, q] = x + 128 over the receptive field of output pixel `pix` (pad taps: zp_in + 128)."""
    h, wd, c, oh, ow, kh, kw = geo[G.h], geo[G.wd], geo[G.c], geo[G.oh], geo[G.ow], geo[G.kh], geo[G.kw]
    sh, sw, dh, dw, ph, pw, groups = geo[G.sh], geo[G.sw], geo[G.dh], geo[G.dw], geo[G.ph], geo[G.pw], geo[G.groups]
    b = pix // (oh * ow)
    oy = (pix // ow) % oh
    ox = pix % ow
    for i in range(kh):
        iy = oy * sh - ph + i * dh
        for j in range(kw):
            ix = ox * sw - pw + j * dw
            inside = 0 <= iy < h and 0 <= ix < wd
            src = ((b * h + iy) * wd + ix) * c
            tap = i * kw + j
            if groups == 1:
                for ci in range(c):
                    valid[tap * c + ci] = inside
                    u[0, tap * c + ci] = (np.int32(x[src + ci]) if inside else zp_in) + 128
            else:
                valid[tap] = inside
                for ci in range(c):
                    u[ci, tap] = (np.int32(x[src + ci]) if inside else zp_in) + 128


@kernel
def bit_planes(u, planes, input_bits):
    """planes[g, b, q] = bit b of u rounded to its top `input_bits` bits."""
    s = 8 - input_bits
    top = (1 << input_bits) - 1
    for g in range(u.shape[0]):
        for q in range(u.shape[1]):
            v = u[g, q]
            if s > 0:
                v = min((v + (1 << (s - 1))) >> s, top)
            for bb in range(input_bits):
                planes[g, bb, q] = (v >> bb) & 1


@kernel
def column_sum(cells, planes, o, j, g, bb, q0, q1):
    """Sum over rows q0..q1 of column (o, slice j) cells times input bit-plane bb of group g."""
    s = np.int64(0)
    for q in range(q0, q1):
        s += np.int64(cells[o, j, q]) * planes[g, bb, q]
    return s


@kernel
def imc_layer(x, out, w, cells, slice_weight, bias, mult, shift, zero_w, geo, zp_in, zp_out, lo, hi, mode,
              input_bits, adc_bits, code_lo, code_hi, rows, lsb, noise_sigma, seed, hist, count):  # fmt: skip
    """Run one MAC layer on the array model; writes int8 `out`.

    w (oc, K): weights, for the digital path; cells (oc, slices, K): what each column holds, its sum
    weighted by slice_weight[j]. adc_bits 0 = digital readout, else codes clip to code_lo..code_hi.
    hist (int64, may be empty) collects |column sum| for calibration.
    Returns (zero-operand MACs, outputs equal to zp_out).
    """
    pixels, oc, groups = geo[G.n] * geo[G.oh] * geo[G.ow], geo[G.oc], geo[G.groups]
    k = w.shape[1]
    per_group = oc // groups
    u = np.empty((groups, k), np.int32)
    valid = np.empty(k, np.bool_)
    planes = np.empty((groups, input_bits, k), np.int32)
    acc = np.empty(oc, np.int64)
    acc32 = np.empty(oc, np.int32)
    s = 8 - input_bits
    bit_serial = adc_bits > 0 or s > 0 or hist.shape[0] > 0
    if noise_sigma > 0.0:
        np.random.seed(seed)
    zero_macs = 0
    out_zeros = 0
    for pix in range(pixels):
        gather_u(x, u, valid, pix, geo, zp_in)
        if count:
            for g in range(groups):
                for q in range(k):
                    if valid[q]:
                        zero_macs += per_group if u[g, q] == zp_in + 128 else zero_w[g, q]
        if not bit_serial:
            for o in range(oc):
                g = o // per_group
                a = np.int64(0)
                for q in range(k):
                    a += np.int64(w[o, q]) * u[g, q]
                acc[o] = bias[o] + a
        else:
            bit_planes(u, planes, input_bits)
            for o in range(oc):
                g = o // per_group
                total = np.int64(0)
                for q0 in range(0, k, rows):
                    q1 = min(q0 + rows, k)
                    for j in range(cells.shape[1]):
                        for bb in range(input_bits):
                            ps = column_sum(cells, planes, o, j, g, bb, q0, q1)
                            if hist.shape[0] > 0:
                                hist[min(abs(ps), hist.shape[0] - 1)] += 1
                            if adc_bits > 0:
                                v = ps / lsb[o]
                                if noise_sigma > 0.0:
                                    v += noise_sigma * np.random.standard_normal()
                                ps = min(max(np.int64(math.floor(v + 0.5)), code_lo), code_hi)
                            total += (ps * slice_weight[j]) << (bb + s)
                if adc_bits > 0:
                    acc[o] = bias[o] + np.int64(math.floor(lsb[o] * total + 0.5))
                else:
                    acc[o] = bias[o] + total
        for o in range(oc):
            acc32[o] = np.int32(acc[o])  # wraps as the engine's int32 accumulator
        out_zeros += requantize_row(acc32, mult, shift, mode, zp_out, lo, hi, out, pix * oc)
    return zero_macs, out_zeros
