"""Slow, obviously-correct NumPy twins of the engine's kernels (TFLite int8 semantics).

Each function follows the loop nest of TFLite's reference integer kernels
(tensorflow/lite/kernels/internal/reference/integer_ops/*.h) written with whole-array
int64 NumPy arithmetic, with no shortcut the fast kernels take (no pre-padding, no
zero-point folding, no GEMM). Fixed-point helpers are written from their definitions.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real = m * 2**(shift - 31), m in [2**30, 2**31)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = math.floor(abs(q) * 2**31 + 0.5) * (1 if q >= 0 else -1)
    if q_fixed == 2**31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def srdhm(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp SaturatingRoundingDoublingHighMul on int64 arrays holding int32 values."""
    a, b = np.broadcast_arrays(np.asarray(a, np.int64), np.asarray(b, np.int64))
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    num = ab + nudge
    q = np.abs(num) // (1 << 31) * np.sign(num)  # C++ division truncates toward zero
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, q)


def rdbpot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp RoundingDivideByPOT: round half away from zero of x / 2**exponent."""
    x = np.asarray(x, np.int64)
    e = np.broadcast_to(np.asarray(exponent, np.int64), x.shape)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def mbqm(x: np.ndarray, mult, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier (double rounding, the default build)."""
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rdbpot(srdhm(np.asarray(x, np.int64) * (np.int64(1) << left), mult), right)


def act_range(activation: str, scale: float, zp: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for int8 outputs."""

    def q(f: float) -> int:
        r = np.float32(f) / np.float32(scale)
        return zp + int(math.copysign(math.floor(abs(float(r)) + 0.5), float(r)))

    lo, hi = -128, 127
    if activation == "RELU":
        return max(lo, zp), hi
    if activation == "RELU6":
        return max(lo, zp), min(hi, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(lo, q(-1.0)), min(hi, q(1.0))
    return lo, hi


def _pad_before(size: int, k: int, stride: int, dilation: int, same: bool) -> tuple[int, int]:
    """Output size and leading padding as TFLite ComputePaddingHeightWidth."""
    eff = (k - 1) * dilation + 1
    out = (size + stride - 1) // stride if same else (size - eff + stride) // stride
    pad = max(0, ((out - 1) * stride + eff - size) // 2)
    return out, pad


def conv2d(x, w, b, zp_in, zp_out, mult, shift, act, stride=(1, 1), dilation=(1, 1), same=True, rounding="tflite"):
    """x (N,H,W,C) int8, w (O,KH,KW,C) int8, b (O,) int32 or None; per-channel mult/shift."""
    n, h, wd, _ = x.shape
    o, kh, kw, _ = w.shape
    oh, ph = _pad_before(h, kh, stride[0], dilation[0], same)
    ow, pw = _pad_before(wd, kw, stride[1], dilation[1], same)
    acc = np.zeros((n, oh, ow, o), np.int64)
    for y in range(oh):
        for xo in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy = y * stride[0] - ph + i * dilation[0]
                    ix = xo * stride[1] - pw + j * dilation[1]
                    if 0 <= iy < h and 0 <= ix < wd:  # taps outside the image are skipped
                        xv = x[:, iy, ix, :].astype(np.int64) - zp_in  # (n, c)
                        acc[:, y, xo, :] += xv @ w[:, i, j, :].astype(np.int64).T
    if b is not None:
        acc += b.astype(np.int64)
    out = REQUANT[rounding](acc, np.asarray(mult), np.asarray(shift)) + zp_out
    return np.clip(out, act[0], act[1]).astype(np.int8)


def depthwise_conv2d(
    x, w, b, zp_in, zp_out, mult, shift, act, depth_mult=1, stride=(1, 1), dilation=(1, 1), same=True, rounding="tflite"
):
    """x (N,H,W,C), w (1,KH,KW,C*M): output channel c*M+m reads input channel c.

    rounding "litert_depthwise": LiteRT's x86 output stage (optimized_ops::Quantize), see mbqm_litert_depthwise."""
    n, h, wd, _ = x.shape
    _, kh, kw, oc = w.shape
    oh, ph = _pad_before(h, kh, stride[0], dilation[0], same)
    ow, pw = _pad_before(wd, kw, stride[1], dilation[1], same)
    src = np.arange(oc) // depth_mult
    acc = np.zeros((n, oh, ow, oc), np.int64)
    for y in range(oh):
        for xo in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy = y * stride[0] - ph + i * dilation[0]
                    ix = xo * stride[1] - pw + j * dilation[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        xv = x[:, iy, ix, src].astype(np.int64) - zp_in
                        acc[:, y, xo, :] += xv * w[0, i, j, :].astype(np.int64)
    if b is not None:
        acc += b.astype(np.int64)
    out = REQUANT[rounding](acc, np.asarray(mult), np.asarray(shift)) + zp_out
    return np.clip(out, act[0], act[1]).astype(np.int8)


def fully_connected(x, w, b, zp_in, zp_w, zp_out, mult, shift, act, rounding="tflite"):
    """x (..., IN), w (OUT, IN); per-tensor or per-channel mult/shift."""
    x2 = x.reshape(-1, w.shape[1]).astype(np.int64) - zp_in
    acc = x2 @ (w.astype(np.int64) - zp_w).T
    if b is not None:
        acc += b.astype(np.int64)
    out = REQUANT[rounding](acc, np.asarray(mult), np.asarray(shift)) + zp_out
    return np.clip(out, act[0], act[1]).astype(np.int8)


def pool2d(x, kind: str, filt, stride, same, act):
    """AVERAGE_POOL_2D / MAX_POOL_2D on int8 over the window clipped to the image."""
    n, h, wd, c = x.shape
    oh, ph = _pad_before(h, filt[0], stride[0], 1, same)
    ow, pw = _pad_before(wd, filt[1], stride[1], 1, same)
    out = np.zeros((n, oh, ow, c), np.int64)
    for y in range(oh):
        for xo in range(ow):
            y0, x0 = y * stride[0] - ph, xo * stride[1] - pw
            win = x[:, max(y0, 0) : min(y0 + filt[0], h), max(x0, 0) : min(x0 + filt[1], wd), :].astype(np.int64)
            if kind == "max":
                out[:, y, xo, :] = win.max(axis=(1, 2))
            else:
                cnt = win.shape[1] * win.shape[2]
                s = win.sum(axis=(1, 2))
                # C++ integer division truncates toward zero; the bias of half the count rounds.
                num = np.where(s > 0, s + cnt // 2, s - cnt // 2)
                out[:, y, xo, :] = np.sign(num) * (np.abs(num) // cnt)
    return np.clip(out, act[0], act[1]).astype(np.int8)


def add(x1, x2, s1, zp1, s2, zp2, s_out, zp_out, act):
    """Quantized ADD as TFLite's reference: both inputs rescaled to 2*max scale with 20 spare bits."""
    left_shift = 20
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * s_out))
    a = mbqm((np.asarray(x1, np.int64) - zp1) * (1 << left_shift), m1, sh1)
    b = mbqm((np.asarray(x2, np.int64) - zp2) * (1 << left_shift), m2, sh2)
    out = mbqm(a + b, mo, sho) + zp_out
    return np.clip(out, act[0], act[1]).astype(np.int8)


def sub(x1, x2, s1, zp1, s2, zp2, s_out, zp_out, act):
    """Quantized SUB as TFLite's PrepareGeneralSubOp + Add: ADD's stages, second input multiplier negated."""
    left_shift = 20
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * s_out))
    a = mbqm((np.asarray(x1, np.int64) - zp1) * (1 << left_shift), m1, sh1)
    b = mbqm((np.asarray(x2, np.int64) - zp2) * (1 << left_shift), -m2, sh2)
    out = mbqm(a + b, mo, sho) + zp_out
    return np.clip(out, act[0], act[1]).astype(np.int8)


def mul(x1, x2, s1, zp1, s2, zp2, s_out, zp_out, act):
    """Quantized MUL as TFLite's reference MulElementwise: one requantization by s1 * s2 / s_out (double)."""
    m, sh = quantize_multiplier(s1 * s2 / s_out)
    prod = (np.asarray(x1, np.int64) - zp1) * (np.asarray(x2, np.int64) - zp2)
    return np.clip(mbqm(prod, m, sh) + zp_out, act[0], act[1]).astype(np.int8)


def _mbqm_signed(x, mult: int, shift: int) -> np.ndarray:
    """MultiplyByQuantizedMultiplier as LiteRT's x86 build rounds a negative multiplier: -mbqm(x, -mult)."""
    return -mbqm(x, -mult, shift) if mult < 0 else mbqm(x, mult, shift)


def leaky_relu(x, s_in, zp_in, s_out, zp_out, alpha):
    """Quantized LEAKY_RELU as TFLite's QuantizeLeakyRelu: identity multiplier at or above the input zero
    point, alpha's below; both ratios computed in float32 as LiteRT's Prepare."""
    f32 = np.float32
    m_id, sh_id = quantize_multiplier(float(f32(s_in) / f32(s_out)))
    m_al, sh_al = quantize_multiplier(float(f32(s_in) * f32(alpha) / f32(s_out)))
    v = np.asarray(x, np.int64) - zp_in
    out = np.where(v >= 0, _mbqm_signed(v, m_id, sh_id), _mbqm_signed(v, m_al, sh_al)) + zp_out
    return np.clip(out, -128, 127).astype(np.int8)


def relu_x(x, s_in, zp_in, s_out, zp_out, act):
    """Quantized RELU / RELU6 as TFLite's ReluX: requantize by s_in / s_out (float32 ratio), clamp to `act`."""
    m, sh = quantize_multiplier(float(np.float32(s_in) / np.float32(s_out)))
    out = mbqm(np.asarray(x, np.int64) - zp_in, m, sh) + zp_out
    return np.clip(out, act[0], act[1]).astype(np.int8)


def maximum(x1, x2):
    """MAXIMUM of raw int8 values (TFLite never rescales; quantizations must agree)."""
    return np.maximum(np.asarray(x1, np.int8), np.asarray(x2, np.int8))


def minimum(x1, x2):
    return np.minimum(np.asarray(x1, np.int8), np.asarray(x2, np.int8))


def mbqm_ruy(x: np.ndarray, mult, shift) -> np.ndarray:
    """ruy's x86 output stage (LiteRT's CONV_2D / FULLY_CONNECTED): the same rounding doubling
    high multiply, then a rounding right shift whose ties go toward +infinity."""
    shift = np.asarray(shift, np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    hi = srdhm(np.asarray(x, np.int64) * (np.int64(1) << left), mult)
    nudge = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return (hi + nudge) >> right


def mbqm_litert_depthwise(x: np.ndarray, mult, shift) -> np.ndarray:
    """LiteRT's x86 DEPTHWISE_CONV_2D output stage (optimized_ops::Quantize) over (..., OC)
    accumulators: each whole block of 8 output channels goes through NEON (emulated) vqrdmulh and
    a rounding shift, negative ties toward +infinity (as mbqm_ruy); the last OC % 8 channels
    through scalar MultiplyByQuantizedMultiplier (mbqm, double rounding)."""
    x = np.asarray(x, np.int64)
    oc = x.shape[-1]
    mult = np.broadcast_to(np.asarray(mult, np.int64), (oc,))
    shift = np.broadcast_to(np.asarray(shift, np.int64), (oc,))
    c8 = oc - oc % 8
    out = np.empty_like(x)
    out[..., :c8] = mbqm_ruy(x[..., :c8], mult[:c8], shift[:c8])
    out[..., c8:] = mbqm(x[..., c8:], mult[c8:], shift[c8:])
    return out


REQUANT = {"tflite": mbqm, "ruy": mbqm_ruy, "litert_depthwise": mbqm_litert_depthwise}


def softmax_lut(x, s_in, beta, s_out, zp_out):
    """LiteRT's x86 int8 softmax: a 256-entry float32 exp table, a float32 sum, std::round."""
    import ctypes
    import ctypes.util

    expf = ctypes.CDLL(ctypes.util.find_library("m")).expf
    expf.restype, expf.argtypes = ctypes.c_float, [ctypes.c_float]
    scale = np.float32(-np.float32(s_in) * np.float32(beta))
    table = np.array([expf(float(scale * np.float32(255 - i))) for i in range(256)], np.float32)
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    out = np.empty(rows.shape, np.int64)
    for r, row in enumerate(rows):
        e = table[255 - row.max() + row]
        total = np.float32(0)
        for v in e:
            total = np.float32(total + v)
        inv = np.float32(1) / np.float32(total * np.float32(s_out))
        p = (e * inv).astype(np.float64)
        out[r] = np.sign(p) * np.floor(np.abs(p) + 0.5) + zp_out
    return np.clip(out, -128, 127).astype(np.int8).reshape(x.shape)


def _sat_shl(x, e):
    return np.clip(np.asarray(x, np.int64) << e, INT32_MIN, INT32_MAX)


def _exp_on_negative_values(a):
    """gemmlowp exp_on_negative_values for a Q5.26 input, Q0.31 output (raws as int64)."""
    quarter = 1 << 24
    amq = (a & (quarter - 1)) - quarter
    x = _sat_shl(amq, 5) + (1 << 28)  # Taylor expansion around -1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_4 + x3, 715827883) + x2, 1)
    result = 1895147668 + srdhm(1895147668, x + poly)
    remainder = amq - a
    for bit, mult in zip(range(24, 31), (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)):
        result = np.where(remainder & (1 << bit), srdhm(result, mult), result)
    return np.where(a == 0, INT32_MAX, result)


def _one_over_one_plus_x(a):
    total = a + INT32_MAX  # RoundingHalfSum(a, One): (sum + sign) / 2, truncating
    num = total + np.where(total >= 0, 1, -1)
    half_den = np.sign(num) * (np.abs(num) // 2)
    x = 1515870810 + srdhm(half_den, -1010580540)
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_den, x)
        x = x + _sat_shl(srdhm(x, one_minus), 2)
    return _sat_shl(x, 1)


def softmax_ref(x, s_in, beta):
    """TFLite's reference int8 softmax (what TFLM runs): gemmlowp fixed-point exp, output zp -128, scale 1/256."""
    real = min(beta * s_in * (1 << 26), (1 << 31) - 1.0)
    mult, left = quantize_multiplier(real)
    diff_min = -(math.floor(1.0 * ((1 << 5) - 1) * (1 << 26) / (1 << left)))
    rows = x.reshape(-1, x.shape[-1]).astype(np.int64)
    out = np.empty(rows.shape, np.int64)
    for r, row in enumerate(rows):
        diff = row - row.max()
        ok = diff >= diff_min
        e = _exp_on_negative_values(srdhm(diff * (1 << left), mult))
        total = int(np.sum(np.where(ok, rdbpot(e, 12), 0)))  # Rescale Q0.31 -> Q12.19
        headroom = 32 - int(total).bit_length()  # CountLeadingZeros of a positive int32
        bits_over_unit = 12 - headroom
        shifted = ((total << headroom) & 0xFFFFFFFF) - (1 << 31)
        scale = _one_over_one_plus_x(np.int64(shifted))
        o = rdbpot(srdhm(scale, e), bits_over_unit + 31 - 8) - 128
        out[r] = np.where(ok, o, -128)
    return np.clip(out, -128, 127).astype(np.int8).reshape(x.shape)


def conv_zero_macs(x, w, zp_in, stride, dilation, same):
    """(MACs with input == zp or weight == 0, all MACs) of a conv, padded taps excluded."""
    _, h, wd, _ = x.shape
    _, kh, kw, _ = w.shape
    oh, ph = _pad_before(h, kh, stride[0], dilation[0], same)
    ow, pw = _pad_before(wd, kw, stride[1], dilation[1], same)
    zeros = macs = 0
    for y in range(oh):
        for xo in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = y * stride[0] - ph + i * dilation[0], xo * stride[1] - pw + j * dilation[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        z = (x[:, iy, ix, :] == zp_in)[:, None, :] | (w[None, :, i, j, :] == 0)
                        zeros += int(z.sum())
                        macs += z.size
    return zeros, macs


def depthwise_zero_macs(x, w, zp_in, depth_mult, stride, same, dilation=(1, 1)):
    _, h, wd, _ = x.shape
    _, kh, kw, oc = w.shape
    oh, ph = _pad_before(h, kh, stride[0], dilation[0], same)
    ow, pw = _pad_before(wd, kw, stride[1], dilation[1], same)
    src = np.arange(oc) // depth_mult
    zeros = macs = 0
    for y in range(oh):
        for xo in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = y * stride[0] - ph + i * dilation[0], xo * stride[1] - pw + j * dilation[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        z = (x[:, iy, ix, src] == zp_in) | (w[0, i, j, :] == 0)
                        zeros += int(z.sum())
                        macs += z.size
    return zeros, macs


# --- data movement (PAD, STRIDED_SLICE, GATHER, GATHER_ND): NumPy twins of tinysim/engine/ops/{pad,slicing,gather}.py


def naive_pad(x, pads, value):
    """PAD / PADV2: `value` around x, pads[d] = (before, after)."""
    return np.pad(x, [tuple(p) for p in pads], constant_values=value)


def naive_strided_slice(x, begin, end, strides, begin_mask=0, end_mask=0, shrink_mask=0):
    """STRIDED_SLICE without ellipsis / new axes: Python slicing (which clamps as TFLite) per dim."""
    index = []
    for d in range(x.ndim):
        if d >= len(begin):
            index.append(slice(None))
        elif (shrink_mask >> d) & 1:
            index.append(begin[d])
        else:
            b = None if (begin_mask >> d) & 1 else begin[d]
            e = None if (end_mask >> d) & 1 else end[d]
            index.append(slice(b, e, strides[d]))
    return x[tuple(index)]


def naive_gather(x, idx, axis, batch_dims=0):
    """GATHER: x[..., idx, ...] along `axis`, the first `batch_dims` dims of x and idx paired."""
    if batch_dims == 0:
        return np.take(x, idx, axis=axis)
    return np.stack([naive_gather(x[b], idx[b], axis - 1, batch_dims - 1) for b in range(x.shape[0])])


def naive_gather_nd(x, idx):
    """GATHER_ND: x[tuple(idx[..., :])] for each index tuple."""
    nd = idx.shape[-1]
    flat = idx.reshape(-1, nd)
    out = np.stack([x[tuple(i)] for i in flat]) if len(flat) else np.zeros((0, *x.shape[nd:]), x.dtype)
    return out.reshape(idx.shape[:-1] + x.shape[nd:])


def naive_quantize(x, scale, zp, dtype, block=8):
    """LiteRT's x86 float -> int QUANTIZE: blocks of `block` as rint(x * (1/scale)) in float32, the tail as
    round-half-away(x / scale) in double; NaN / out of int32 -> INT32_MIN, + zp with int32 wrap, clamp."""
    x = np.asarray(x, np.float32).ravel()
    s = np.float32(scale)
    end = x.size // block * block
    with np.errstate(invalid="ignore", over="ignore"):
        head = np.rint(x[:end] * (np.float32(1) / s)).astype(np.float64)
        d = x[end:].astype(np.float64) / np.float64(s)
        tail = np.sign(d) * np.floor(np.abs(d) + 0.5)
    r = np.concatenate([head, tail])
    ok = (r >= -(2.0**31)) & (r < 2.0**31)
    q = np.where(ok, np.nan_to_num(r), -(2.0**31)).astype(np.int64)
    q = (q + zp + 2**31) % 2**32 - 2**31
    info = np.iinfo(dtype)
    return np.clip(q, info.min, info.max).astype(dtype)


def naive_dequantize(q, scale, zp, block=8):
    """LiteRT's x86 DEQUANTIZE: blocks as float(q) * s - float(zp) * s in float32, the tail as float32(s * (q - zp))."""
    q = np.asarray(q).ravel().astype(np.int64)
    s = np.float32(scale)
    end = q.size // block * block
    head = q[:end].astype(np.float32) * s - np.float32(zp) * s
    tail = (np.float64(s) * (q[end:] - zp)).astype(np.float32)
    return np.concatenate([head, tail]).astype(np.float32)


def naive_requantize(q, s_in, zp_in, s_out, zp_out, dtype):
    """Reference Requantize in Python integers: MultiplyByQuantizedMultiplier(q - zp_in) + zp_out, clamped."""
    import math

    frac, shift = math.frexp(float(np.float64(np.float32(s_in)) / np.float64(np.float32(s_out))))
    m = round(frac * 2**31) if frac * 2**31 % 1 != 0.5 else int(frac * 2**31 + 0.5)
    if m == 2**31:
        m, shift = m // 2, shift + 1
    left, right = max(shift, 0), max(-shift, 0)
    info = np.iinfo(dtype)
    out = []
    for v in np.asarray(q).ravel().astype(np.int64).tolist():
        ab = ((v - zp_in) << left) * m
        hi = (ab + (1 << 30)) >> 31 if ab >= 0 else -((-ab + (1 << 30) - 1) >> 31)  # srdhm: ties away, truncating
        if right:
            mask, rem = (1 << right) - 1, hi & ((1 << right) - 1)
            hi = (hi >> right) + (rem > (mask >> 1) + (hi < 0))
        out.append(min(max(hi + zp_out, info.min), info.max))
    return np.array(out, dtype)


def naive_cast(x, dtype):
    """LiteRT CAST: float -> int truncates and saturates (NaN -> max); int -> int wraps; int -> float rounds once."""
    x = np.asarray(x)
    dtype = np.dtype(dtype)
    if dtype.kind == "f" or x.dtype == dtype:
        return x.astype(dtype)
    if x.dtype.kind == "f":
        info = np.iinfo(dtype)
        f = x.astype(np.float64)
        with np.errstate(invalid="ignore"):
            t = np.trunc(np.where(np.isnan(f), np.inf, f))
            below, above = t <= info.min, t >= float(info.max)
            inside = np.where(below | above, 0, t).astype(np.int64)
        return np.where(below, info.min, np.where(above, info.max, inside)).astype(dtype)
    return x.astype(np.int64).astype(dtype)


def naive_lut(kind, s_in, zp_in, s_out, zp_out):
    """LiteRT's int8 LOGISTIC / TANH table (index q + 128) computed in double: round(f(s_in (q - zp_in)) / s_out)."""
    q = np.arange(-128, 128)
    v = np.float64(np.float32(s_in)) * (q - zp_in)
    t = 1.0 / (1.0 + np.exp(-v)) if kind == "LOGISTIC" else np.tanh(v)
    r = t * np.float64(np.float32(1.0) / np.float32(s_out))
    return np.clip(np.sign(r) * np.floor(np.abs(r) + 0.5) + zp_out, -128, 127).astype(np.int16)


# --- recurrent ops: gemmlowp int16 fixed point, the integer LSTM (8x8_16) and SVDF -------------------------------


def _w16(x):
    """int16 wrap-around (gemmlowp's plain adds on int16 raw values)."""
    return ((np.asarray(x, np.int64) + 32768) & 0xFFFF) - 32768


def _srdhm16(a, b):
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    num = ab + np.where(ab >= 0, 1 << 14, 1 - (1 << 14))
    q = np.trunc(num / 32768.0).astype(np.int64)  # |num| < 2**31: exact in double
    return np.where((a == -32768) & (b == -32768), 32767, q)


def _rdbpot(x, e):
    x = np.asarray(x, np.int64)
    mask = (1 << e) - 1
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))


def _mul_pot16(x, e):
    """SaturatingRoundingMultiplyByPOT<e> on int16."""
    if e <= 0:
        return _rdbpot(x, -e)
    t = (1 << (15 - e)) - 1
    return np.where(x > t, 32767, np.where(x < -t, -32768, np.asarray(x, np.int64) << e))


def _c16(v):
    return int(_rdbpot(v, 16))


def naive_exp_neg16(a, ib):
    """gemmlowp exp_on_negative_values on FixedPoint<int16, ib> raw values, Q0.15 result."""
    a = np.asarray(a, np.int64)
    fb = 15 - ib
    quarter = 1 << (fb - 2)
    amq = _w16((a & (quarter - 1)) - quarter)
    x = _w16(_mul_pot16(amq, ib) + (1 << 12))
    x2 = _srdhm16(x, x)
    x3 = _srdhm16(x2, x)
    x4 = _srdhm16(x2, x2)
    poly = _rdbpot(_w16(_srdhm16(_w16(_rdbpot(x4, 2) + x3), _c16(715827883)) + x2), 1)
    ct = _c16(1895147668)
    r = np.clip(ct + _srdhm16(ct, _w16(x + poly)), -32768, 32767)
    rem = _w16(amq - a)
    for k, m in zip(range(-2, 5), (1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242)):
        if ib > k:
            r = np.where(rem & (1 << (fb + k)), _srdhm16(r, _c16(m)), r)
    if ib > 5:
        r = np.where(a < _w16(_c16(-(1 << (36 - ib)))), 0, r)
    return np.where(a == 0, 32767, r)


def _reciprocal16(a):
    s = np.asarray(a, np.int64) + 32767
    half = _w16(np.trunc((s + np.where(s >= 0, 1, -1)) / 2).astype(np.int64))
    x = _w16(_c16(1515870810) + _srdhm16(half, _c16(-1010580540)))
    for _ in range(3):
        x = _w16(x + _mul_pot16(_srdhm16(x, _w16(8192 - _srdhm16(half, x))), 2))
    return x


def naive_logistic16(a, ib):
    a = np.asarray(a, np.int64)
    pos = a > 0
    r = _mul_pot16(_reciprocal16(naive_exp_neg16(_w16(-np.where(pos, a, _w16(-a))), ib)), 1)
    return np.where(a == 0, 16384, np.where(pos, r, _w16(32767 - r)))


def naive_tanh16(a, ib):
    a = np.asarray(a, np.int64)
    neg = a < 0
    t = _mul_pot16(_w16(_reciprocal16(naive_exp_neg16(np.where(neg, a, _w16(-a)), ib + 1)) - 8192), 2)
    return np.where(a == 0, 0, np.where(neg, _w16(-t), t))


def _mbqm(acc, scale):
    """TFLite MultiplyByQuantizedMultiplier (double rounding) of an int64 array by a real scale."""
    from tinysim.engine.fixedpoint import quantize_multiplier

    m, s = quantize_multiplier(scale)
    acc = np.asarray(acc, np.int64) << max(s, 0)
    hi = (acc * m + (1 << 30)) >> 31
    return _rdbpot(hi, max(-s, 0))


def naive_lstm_int8(x, wx, wh, bias, s_x, zp_x, s_w, s_h, zp_h, cell_log2, cell_clip, h, c):
    """TFLite's 8x8_16 LSTM on batch-major x (batch, time, in): wx/wh (4, cell, in/cell) gates i f c o, wx[0] None
    for CIFG; s_w the 8 weight scales; h (batch, cell) int8, c int16 states. Returns (y, h, c)."""
    f32 = np.float32
    h, c = h.astype(np.int64).copy(), c.astype(np.int64).copy()
    y = np.zeros(x.shape[:2] + (wx[1].shape[0],), np.int8)
    hidden = float(f32(2.0**-15 / float(f32(s_h)) * 2.0**-15))
    clip = int(min(max(f32(cell_clip) / f32(2.0**cell_log2), f32(-32768)), f32(32767))) if cell_clip > 0 else 0
    for t in range(x.shape[1]):
        xt = x[:, t].astype(np.int64)
        g = {}
        for k in range(4):
            if wx[k] is None:
                continue
            ex = float(f32(f32(s_w[k]) * f32(s_x)) / f32(2.0**-12))
            eh = float(f32(f32(s_w[4 + k]) * f32(s_h)) / f32(2.0**-12))
            ax = (xt - zp_x) @ wx[k].T.astype(np.int64) + bias[k]
            ah = (h - zp_h) @ wh[k].T.astype(np.int64)
            v = np.clip(_mbqm(ax, ex), -32768, 32767)
            v = np.clip(_mbqm(ah, eh) + v, -32768, 32767)
            g[k] = naive_tanh16(v, 3) if k == 2 else naive_logistic16(v, 3)
        i = g[0] if 0 in g else 32767 - g[1]
        c = np.clip(_rdbpot(g[1] * c, 15) + _rdbpot(i * g[2], 30 + cell_log2), -32768, 32767)
        if clip:
            c = np.clip(c, -clip, clip)
        h = np.clip(_mbqm(g[3] * naive_tanh16(c, 15 + cell_log2), hidden) + zp_h, -128, 127)
        y[:, t] = h
    return y, h.astype(np.int8), c.astype(np.int16)


def naive_svdf_int8(x, wf, wt, bias, rank, s_x, zp_x, s_wf, s_wt, s_state, s_y, zp_y, state):
    """TFLite's integer SVDF: x (batch, in), wf (filter, in) int8, wt (filter, memory) int16, state
    (batch, filter, memory) int16. Returns (y, state)."""
    f32 = np.float32
    state = np.roll(state.astype(np.int64), -1, axis=2)
    feat = (x.astype(np.int64) - zp_x) @ wf.T.astype(np.int64)
    state[:, :, -1] = np.clip(_mbqm(feat, float(f32(f32(s_x) * f32(s_wf)) / f32(s_state))), -32768, 32767)
    dots = (state * wt.astype(np.int64)).sum(axis=2)
    wrap = lambda v: ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
    units = wrap(wrap(dots).reshape(x.shape[0], -1, rank).sum(axis=2) + (0 if bias is None else bias))
    y = np.clip(_mbqm(units, float(f32(f32(s_state) * f32(s_wt)) / f32(s_y))) + zp_y, -128, 127)
    return y.astype(np.int8), state.astype(np.int16)


def resize_bilinear_int_naive(x, rows, cols):
    """ResizeBilinearInteger twin: rows/cols (scaled, lower, upper) in 1/1024 per output index."""
    out = np.zeros((x.shape[0], len(rows), len(cols), x.shape[3]), np.int64)
    for oy, (sy, y0, y1) in enumerate(rows):
        for ox, (sx, x0, x1) in enumerate(cols):
            dy, dx = int(sy) - 1024 * int(y0), int(sx) - 1024 * int(x0)
            acc = (x[:, y0, x0].astype(np.int64) * (1024 - dy) * (1024 - dx) + x[:, y1, x0].astype(np.int64) * dy * (1024 - dx)
                   + x[:, y0, x1].astype(np.int64) * (1024 - dy) * dx + x[:, y1, x1].astype(np.int64) * dy * dx)  # fmt: skip
            r = acc + np.where(acc > 0, 1 << 19, -(1 << 19))
            out[:, oy, ox] = np.sign(r) * (np.abs(r) >> 20)
    return out.astype(x.dtype)


def arg_minmax_naive(x, axis, is_max):
    """ArgMinMax twin: the first index of the extreme value along `axis`."""
    return np.argmax(x, axis=axis) if is_max else np.argmin(x, axis=axis)


def binary_broadcast_naive(x1, x2):
    """TFLite's 6-D broadcast of two inputs to their common shape (NumPy's rules, which TFLite shares)."""
    shape = np.broadcast_shapes(np.shape(x1), np.shape(x2))
    return np.broadcast_to(x1, shape), np.broadcast_to(x2, shape)


def add_sub_int16_naive(x1, x2, s1, s2, s_out, act, negate=False):
    """int16 ADD / SUB general path (zero points 0): ADD's stages with 15 spare bits; `act` the clamp."""
    x1, x2 = binary_broadcast_naive(x1, x2)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << 15) * s_out))
    a = mbqm(np.asarray(x1, np.int64) * (1 << 15), m1, sh1)
    b = mbqm(np.asarray(x2, np.int64) * (1 << 15), -m2 if negate else m2, sh2)
    return np.clip(mbqm(a + b, mo, sho), act[0], act[1]).astype(np.int16)


def add_sub_int16_pot_naive(x1, x2, shift1, shift2, act, negate=False):
    """int16 power-of-two path: RoundingDivideByPOT of each input by 2**-shift (<= 0), add or subtract, clamp."""
    a = rdbpot(np.asarray(x1, np.int64), -shift1)
    b = rdbpot(np.asarray(x2, np.int64), -shift2)
    return np.clip(a - b if negate else a + b, act[0], act[1]).astype(np.int16)


def squared_difference_naive(x1, x2, s1, zp1, s2, zp2, s_out, zp_out):
    """int8 SQUARED_DIFFERENCE: inputs << 7 rescaled to 2 * max scale, difference squared, requantized."""
    x1, x2 = binary_broadcast_naive(x1, x2)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max * twice_max / ((1 << 14) * s_out))
    d = mbqm((np.asarray(x1, np.int64) - zp1) * 128, m1, sh1) - mbqm((np.asarray(x2, np.int64) - zp2) * 128, m2, sh2)
    return np.clip(mbqm(d * d, mo, sho) + zp_out, -128, 127).astype(np.int8)


def prelu_naive(x, alpha, s_x, zp_x, s_a, zp_a, s_out, zp_out):
    """int8 PRELU: x - zp_x >= 0 requantized by s_x / s_out, else times (alpha - zp_a) by s_x * s_a / s_out."""
    x, alpha = binary_broadcast_naive(x, alpha)
    m1, sh1 = quantize_multiplier(s_x / s_out)
    m2, sh2 = quantize_multiplier(s_x * s_a / s_out)
    v = np.asarray(x, np.int64) - zp_x
    out = np.where(v >= 0, mbqm(v, m1, sh1), mbqm(v * (np.asarray(alpha, np.int64) - zp_a), m2, sh2)) + zp_out
    return np.clip(out, -128, 127).astype(np.int8)


def float_binary_naive(op, x1, x2, lo=-np.inf, hi=np.inf):
    """float32 / int32 binary ops as LiteRT: int32 DIV truncates, FLOOR_DIV floors; the activation clamps."""
    x1, x2 = binary_broadcast_naive(x1, x2)
    if np.asarray(x1).dtype == np.int32:
        a, b = np.asarray(x1, np.int64), np.asarray(x2, np.int64)
        div = {"DIV": np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b)), "FLOOR_DIV": a // b}
    else:
        a, b = np.asarray(x1, np.float32), np.asarray(x2, np.float32)
        div = {"DIV": a / b, "FLOOR_DIV": np.floor(a / b)}
    ops = {"ADD": a + b, "SUB": a - b, "MUL": a * b, **div, "MAXIMUM": np.where(a > b, a, b),
           "MINIMUM": np.where(a < b, a, b)}  # fmt: skip
    return np.clip(ops[op], lo, hi).astype(np.asarray(x1).dtype)


def naive_hard_swish(q, s_in, zp_in, s_out, zp_out, lo=-128, hi=127):
    """TFLite reference_ops::HardSwish (int16 fixed point) in Python integers, multipliers from float32 scales."""
    import math

    def mult16(real):
        frac, e = math.frexp(real)
        m = math.floor(frac * 2**31 + 0.5)
        m, e = (m // 2, e + 1) if m == 2**31 else (m, e)
        return (32767 if m >= 2**31 - 1 - 2**15 else (m + 2**15) >> 16), e

    def srdhm(a, b):
        if a == b == -32768:
            return 32767
        ab = a * b
        num = ab + (2**14 if ab >= 0 else 1 - 2**14)
        return int(num / 2**15)  # truncation toward zero (|num| < 2**31: exact in double)

    def rdbpot(x, e):
        mask = (1 << e) - 1
        return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))

    def sat(v):
        return min(max(v, -32768), 32767)

    hires_scale = np.float32(1 / 128) * np.float32(s_in)
    out_m, out_e = mult16(float(hires_scale / np.float32(s_out)))
    relu_m, relu_e = mult16(float(hires_scale / (np.float32(3.0) / np.float32(32768.0))))
    out = []
    for v in np.asarray(q).ravel().astype(np.int64).tolist():
        hires = (v - zp_in) * 128
        pre = srdhm(hires, out_m)
        r = sat(hires << (relu_e - 1)) if relu_e > 0 else hires
        r = srdhm(r, relu_m)
        r = sat(r << 1) if relu_e > 0 else (rdbpot(r, -relu_e) if relu_e < 0 else r)
        r = (r + 2**15) >> 1
        prod = int(r * pre / 2**15)
        out.append(min(max(rdbpot(prod, -out_e) + zp_out, lo), hi))
    return np.array(out, np.int64)


def naive_interpolated_sigmoid16(q, s_in, tanh, table):
    """TFLite reference_integer_ops::Logistic / Tanh on int16 (non-power-of-two input scale), `table` the Q0.16
    sigmoid(i / 24) table: the input times an integer multiplier (scale_in * 4096 * 3, doubled while <= 16383.5)."""
    mult, shift = float(np.float32(s_in)) * 4096.0 * 3.0, 0
    while mult <= 32767.0 / 2.0 and shift <= 30:
        mult, shift = mult * 2.0, shift + 1
    mult = int(mult)
    out = []
    for x in np.asarray(q).ravel().astype(np.int64).tolist():
        v = (x * mult + ((1 << shift) >> 1)) >> shift
        a = abs(v)
        bits, top = (8, 0xFFFF << 8) if tanh else (9, 0x7FFF << 10)
        uh = a >> bits
        r = top if uh >= 255 else (int(table[uh]) << bits) + (a & ((1 << bits) - 1)) * (int(table[uh + 1]) - int(table[uh]))
        if tanh:
            r = (r - (1 << 23) + (1 << 7) if v >= 0 else -r + (1 << 23) + (1 << 7) - 1) >> 8
        else:
            r = (r + (1 << 9) if v >= 0 else (1 << 25) - r + (1 << 9) - 1) >> 10
        out.append(r)
    return np.array(out, np.int16)


# --- int16x8 MAC ops and TRANSPOSE_CONV: NumPy twins of tinysim/engine/ops/{conv_int16,transpose_conv}.py


def mbqm_reduced(x, mult, shift) -> np.ndarray:
    """TFLite MultiplyByQuantizedMultiplier(int64 x, ...): the multiplier rounded to 16 bits, one rounding."""
    mult, shift = np.asarray(mult, np.int64), np.asarray(shift, np.int64)
    m16 = np.where(mult < 0x7FFF0000, (mult + (1 << 15)) >> 16, 0x7FFF)
    total = 15 - shift
    return (np.asarray(x, np.int64) * m16 + (np.int64(1) << (total - 1))) >> total


def mbqm_away(x, mult, shift) -> np.ndarray:
    """One rounding of |x| * mult / 2**(31 - shift), sign put back (LiteRT's int16 FC with an int64 bias);
    Python integers, so no overflow."""
    x = np.asarray(x, np.int64)
    mult, shift = np.broadcast_to(mult, x.shape[-1:]), np.broadcast_to(shift, x.shape[-1:])
    out = np.empty(x.shape, np.int64)
    for idx, v in np.ndenumerate(x):
        m, t = int(mult[idx[-1]]), 31 - int(shift[idx[-1]])
        r = (abs(int(v)) * m + (1 << (t - 1))) >> t
        out[idx] = -r if v < 0 else r
    return out


def conv_acc(x, w, stride=(1, 1), dilation=(1, 1), same=True, depth_mult=0) -> np.ndarray:
    """int64 sums of an int16x8 conv (w OHWI) or, depth_mult > 0, depthwise conv (w 1HW(C*M)); zp 0."""
    n, h, wd, _c = x.shape
    kh, kw = w.shape[1], w.shape[2]
    oc = w.shape[3] if depth_mult else w.shape[0]
    oh, ph = _pad_before(h, kh, stride[0], dilation[0], same)
    ow, pw = _pad_before(wd, kw, stride[1], dilation[1], same)
    acc = np.zeros((n, oh, ow, oc), np.int64)
    for y in range(oh):
        for xo in range(ow):
            for i in range(kh):
                for j in range(kw):
                    iy, ix = y * stride[0] - ph + i * dilation[0], xo * stride[1] - pw + j * dilation[1]
                    if 0 <= iy < h and 0 <= ix < wd:
                        xv = x[:, iy, ix, :].astype(np.int64)
                        if depth_mult:
                            acc[:, y, xo, :] += np.repeat(xv, depth_mult, axis=1) * w[0, i, j, :].astype(np.int64)
                        else:
                            acc[:, y, xo, :] += xv @ w[:, i, j, :].astype(np.int64).T
    return acc


def transpose_conv_acc(x, w, zp_in, out_hw, stride, same):
    """TRANSPOSE_CONV sums (reference_integer_ops::TransposeConv's scatter), w OHWI; returns
    (int64 sums, MACs with x == zp_in or w == 0, MACs)."""
    n, h, wd, _ = x.shape
    oc, kh, kw, _ = w.shape
    _, ph = _pad_before(out_hw[0], kh, stride[0], 1, same)
    _, pw = _pad_before(out_hw[1], kw, stride[1], 1, same)
    acc = np.zeros((n, out_hw[0], out_hw[1], oc), np.int64)
    zeros = macs = 0
    for iy in range(h):
        for ix in range(wd):
            xv = x[:, iy, ix, :].astype(np.int64) - zp_in  # (n, c)
            for i in range(kh):
                for j in range(kw):
                    oy, ox = iy * stride[0] - ph + i, ix * stride[1] - pw + j
                    if 0 <= oy < out_hw[0] and 0 <= ox < out_hw[1]:
                        acc[:, oy, ox, :] += xv @ w[:, i, j, :].astype(np.int64).T
                        z = (xv == 0)[:, None, :] | (w[None, :, i, j, :] == 0)
                        zeros += int(z.sum())
                        macs += z.size
    return acc, zeros, macs


def batch_matmul(lhs, rhs, zp_l, zp_r, zp_out, mult, shift, adj_x=False, adj_y=False) -> np.ndarray:
    """int8 BATCH_MATMUL: NumPy's broadcasting matmul of (lhs - zp) and (rhs - zp), then mbqm."""
    a = lhs.astype(np.int64) - zp_l
    b = rhs.astype(np.int64) - zp_r
    a = np.swapaxes(a, -1, -2) if adj_x else a
    b = np.swapaxes(b, -1, -2) if adj_y else b
    return np.clip(mbqm(np.matmul(a, b), mult, shift) + zp_out, -128, 127).astype(np.int8)


def _std_round(v: np.ndarray) -> np.ndarray:
    """std::round on doubles, half away from zero, exactly (a - floor(a) is exact)."""
    a = np.abs(v)
    f = np.floor(a)
    return np.copysign(np.where(a - f >= 0.5, f + 1.0, f), v)


def naive_lut16(fn, lo: float, hi: float) -> np.ndarray:
    """LiteRT's LUTPopulateInt16<double> on [lo, hi] with output range [-1, 1): 512 midpoint-biased samples
    and the end point; `fn` takes a float64 array."""
    step = (hi - lo) / 512
    i = np.arange(512, dtype=np.float64)
    inv = 65536.0 / (2.0 / 65535 * 32767 - 2.0 / 65535 * -32768)
    val, nxt, mid = fn(lo + i * step), fn(lo + (i + 1) * step), fn(lo + i * step + step / 2)
    interp = _std_round((nxt * inv + _std_round(val * inv)) / 2)
    bias = _std_round((interp - _std_round(mid * inv)) / 2)
    body = np.clip(_std_round(val * inv) - bias, -32768, 32767)
    end = np.clip(_std_round(fn(np.array([hi])) * inv), -32768, 32767)
    return np.concatenate([body, end]).astype(np.int64)


def _lut16_lookup(v: np.ndarray, lut: np.ndarray) -> np.ndarray:
    idx = 256 + (v >> 7)
    return lut[idx] + (((lut[idx + 1] - lut[idx]) * (v & 0x7F) + 64) >> 7)


def softmax_int16(x, s_in, beta):
    """LiteRT's reference_ops::SoftmaxInt16 (zero points 0, output scale 1/32768) over the last axis."""
    exp_lut = naive_lut16(np.exp, 10.0 / 65535 * -65535, 10.0 / 65535 * 0)
    recip_lut = naive_lut16(lambda v: 1.0 / (1.0 + v), 0.0, 1.0 / 65535 * 65535)
    mult, shift = quantize_multiplier(float(np.float32(s_in) * np.float32(beta)) / (10.0 / 65535.0))
    x = np.asarray(x, np.int64)
    diff = x - x.max(axis=-1, keepdims=True)
    exps = _lut16_lookup(np.clip(mbqm(diff, mult, shift) + 32767, -32768, 32767), exp_lut)
    total = exps.sum(axis=-1, keepdims=True)
    clz = 32 - np.floor(np.log2(total)).astype(np.int64) - 1  # total < 2**24: log2 exact enough
    shifted = ((total << (clz - 1)) + (1 << 13)) >> 14
    recip = _lut16_lookup(np.clip(shifted - 98304, -32768, 32767), recip_lut)
    right = 31 - clz
    return np.clip((exps * recip + (np.int64(1) << (right - 1))) >> right, 0, 32767).astype(np.int16)


# --- int16 LOGISTIC / TANH end to end: LiteRT's choice between gemmlowp (power-of-two scales) and the table -------


def naive_sigmoid16_op(q, s_in, tanh, table):
    """LiteRT's int16 LOGISTIC / TANH: input_left_shift = 12 + log2(s_in) when s_in is a power of two (CheckedLog2,
    1e-3 of an octave); a shift of 0 (either op) or 1 (TANH) runs gemmlowp on Q3.12 after a saturating doubling
    by that shift, anything else the interpolated table (naive_interpolated_sigmoid16)."""
    lg = math.log(s_in) / math.log(2.0)
    rounded = math.copysign(math.floor(abs(lg) + 0.5), lg)
    shift = 12 + int(rounded)
    if abs(lg - rounded) < 1e-3 and shift in ((0, 1) if tanh else (0,)):
        a = np.clip(np.asarray(q, np.int64) << shift, -32768, 32767)
        return (naive_tanh16(a, 3) if tanh else naive_logistic16(a, 3)).astype(np.int16)
    return naive_interpolated_sigmoid16(q, s_in, tanh, table).reshape(np.shape(q))
