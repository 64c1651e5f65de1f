"""Seeded int8 parameters and quantization for networks described only by their shapes.

The values are not trained, but they are quantized the way the TFLite converter quantizes a
trained network, so the int8 engine exercises realistic arithmetic: weights are He-initialised
reals quantized per output channel, symmetric (zero point 0, the largest magnitude of each channel
maps to 127); biases are int32 with scale = input scale x weight scale; each activation's scale is
chosen from an estimate of its root-mean-square so that +-4 sigma fits int8, with zero point -128
after a ReLU (all of int8 covers [0, 4 sigma]).

Why the RMS: for zero-mean weights, E[y^2] = fan_in * Var(w) * E[x^2] + Var(b), whatever the mean
of x, so tracking each tensor's RMS through the network needs no data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinysim.workload.graph import Activation, Quantization

_SIGMAS = 4.0  # activation ranges cover +-4 RMS: clipping is rare, resolution is not wasted
_BIAS_FRACTION = 0.1  # bias RMS relative to the pre-activation RMS


@dataclass(frozen=True)
class QuantizedParams:
    """Weights (int8, per-channel scales along `axis`) and int32 bias of one layer."""

    weights: np.ndarray
    weight_quant: Quantization
    bias: np.ndarray
    bias_quant: Quantization


def input_rms(scale: float, zero_point: int) -> float:
    """RMS of a real input assumed uniform over the int8 codes."""
    codes = np.arange(-128, 128, dtype=np.float64)
    return float(np.sqrt(np.mean((scale * (codes - zero_point)) ** 2)))


def layer_params(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    axis: int,
    fan_in: int,
    in_scale: float,
    in_rms: float,
    *,
    per_channel: bool = True,
) -> tuple[QuantizedParams, float]:
    """Quantized weights of `shape` (output channels along `axis`) and bias; also the pre-activation RMS.

    `per_channel=False` gives one weight scale, as the TFLite converter does for fully-connected layers.
    """
    std = np.sqrt(2.0 / fan_in)  # He initialisation keeps the RMS roughly constant through ReLU layers
    real = rng.normal(0.0, std, size=shape)
    channels = shape[axis]
    other_axes = tuple(a for a in range(len(shape)) if a != axis)
    peak = np.max(np.abs(real), axis=other_axes) if other_axes else np.abs(real)
    if not per_channel:
        peak = np.full(1, np.max(peak))
    w_scale = np.where(peak > 0, peak / 127.0, 1.0)
    bshape = [1] * len(shape)
    bshape[axis] = len(w_scale)
    q = np.clip(np.round(real / w_scale.reshape(bshape)), -127, 127).astype(np.int8)

    pre_rms = float(np.sqrt(fan_in * std**2 * in_rms**2))
    b_real = rng.normal(0.0, _BIAS_FRACTION * pre_rms, size=channels)
    b_scale = in_scale * w_scale
    bias = np.round(b_real / b_scale).astype(np.int32)
    zeros = (0,) * len(w_scale)
    params = QuantizedParams(
        weights=_frozen(q),
        weight_quant=Quantization(tuple(float(v) for v in w_scale), zeros, axis if per_channel else 0),
        bias=_frozen(bias),
        bias_quant=Quantization(tuple(float(v) for v in b_scale), zeros, 0),
    )
    return params, float(np.sqrt(pre_rms**2 * (1 + _BIAS_FRACTION**2)))


def output_quant(pre_rms: float, activation: Activation) -> tuple[Quantization, float]:
    """Output quantization for a pre-activation RMS, and the RMS after the activation."""
    pre_rms = max(pre_rms, 1e-6)
    if activation is Activation.NONE:
        return Quantization((_SIGMAS * pre_rms / 127.0,), (0,)), pre_rms
    if activation is Activation.RELU_N1_TO_1:
        return Quantization((2.0 / 255.0,), (0,)), min(pre_rms, 1.0)
    top = _SIGMAS * pre_rms if activation is Activation.RELU else min(6.0, _SIGMAS * pre_rms)
    # Half of a zero-mean pre-activation survives a ReLU: E[relu(y)^2] = E[y^2] / 2.
    return Quantization((top / 255.0,), (-128,)), pre_rms / np.sqrt(2.0)


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array
