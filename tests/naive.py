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
