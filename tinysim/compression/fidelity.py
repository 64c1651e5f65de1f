"""Fidelity: run the compressed and the original graph on the same inputs and compare the outputs.

Inputs are seeded uniform int8 tensors (`engine.random_input`) and, when given, real samples (the
AD sample clip: `ad_windows`). Outputs are compared dequantized (real units):
- top-1 agreement, for classifiers (last op SOFTMAX): the share of inputs whose arg-max is unchanged;
- max |error| and SNR = 10 log10(sum ref^2 / sum (ref - compressed)^2) in dB over all outputs;
- the SNR of the varying part: the same after removing each output element's mean over the inputs
  from both (a model that collapsed to a constant output scores ~0 dB here however good its SNR);
- for an autoencoder (output shape = input shape) the reconstruction error MSE(output, input) per
  input, original and compressed, and its relative change; beside them the MSE of the mean
  predictor (every input reconstructed as the mean input), the floor a collapsed model reaches.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinysim.engine import random_input, run_graph
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph, Tensor

AD_FRAMES, AD_BINS, AD_CONTEXT = 200, 128, 5


@dataclass(frozen=True)
class Fidelity:
    """How far the compressed graph's outputs are from the original's, over one set of inputs."""

    inputs: str  # what the inputs were, e.g. "16 seeded random" or "196 AD sample windows"
    count: int
    top1_agreement: float | None  # None unless a classifier
    max_abs_error: float  # real units of the output
    max_abs_error_lsb: int  # int8 steps
    snr_db: float  # inf when identical
    recon_mse_original: float | None = None  # autoencoders: mean over inputs of MSE(output, input)
    recon_mse_compressed: float | None = None
    snr_varying_db: float | None = None  # SNR of the outputs' variation around their mean (None for one input)
    recon_mse_mean_predictor: float | None = None

    @property
    def recon_change(self) -> float | None:
        if self.recon_mse_original is None or self.recon_mse_compressed is None or not self.recon_mse_original:
            return None
        return self.recon_mse_compressed / self.recon_mse_original - 1.0


def compare(original: Graph, compressed: Graph, inputs: list[np.ndarray], label: str) -> Fidelity:
    """Run both graphs on every input (one int8 array per input, first graph input only)."""
    out_t = original.tensors[original.outputs[0]]
    in_t = original.tensors[original.inputs[0]]
    autoencoder = out_t.shape == in_t.shape
    ref, got, recon_ref, recon_got, reals = [], [], [], [], []
    for x in inputs:
        a = _real(run_graph(original, [x], count_events=False).outputs[0], out_t)
        b = _real(run_graph(compressed, [x], count_events=False).outputs[0], out_t)
        ref.append(a)
        got.append(b)
        if autoencoder:
            xr = _real(x, in_t).reshape(a.shape)
            reals.append(xr)
            recon_ref.append(float(np.mean((a - xr) ** 2)))
            recon_got.append(float(np.mean((b - xr) ** 2)))
    ref_a, got_a = np.stack(ref), np.stack(got)
    diff = got_a - ref_a
    snr = _snr(ref_a, got_a)
    varying = _snr(ref_a - ref_a.mean(axis=0), got_a - got_a.mean(axis=0)) if len(inputs) > 1 else None
    top1 = None
    if original.ops[-1].kind is OpKind.SOFTMAX:
        flat_r, flat_g = ref_a.reshape(len(inputs), -1), got_a.reshape(len(inputs), -1)
        top1 = float(np.mean(flat_r.argmax(axis=1) == flat_g.argmax(axis=1)))
    scale = out_t.quant.scale[0] if out_t.quant else 1.0
    return Fidelity(
        label,
        len(inputs),
        top1,
        float(np.abs(diff).max(initial=0.0)),
        round(float(np.abs(diff).max(initial=0.0)) / scale),
        snr,
        float(np.mean(recon_ref)) if autoencoder else None,
        float(np.mean(recon_got)) if autoencoder else None,
        varying,
        float(np.mean((np.stack(reals) - np.stack(reals).mean(axis=0)) ** 2)) if autoencoder else None,
    )


def _snr(ref: np.ndarray, got: np.ndarray) -> float:
    noise = float(np.sum((got - ref) ** 2))
    return float("inf") if noise == 0 else 10 * math.log10(max(float(np.sum(ref**2)), 1e-300) / noise)


def random_inputs(graph: Graph, count: int, seed: int = 0) -> list[np.ndarray]:
    return [random_input(graph, seed + i)[0] for i in range(count)]


def ad_windows(path: str | Path, graph: Graph) -> list[np.ndarray]:
    """The AD sample clip (float32 200 x 128 log-mel frames) as 196 int8 windows of 5 frames, quantized
    with the graph's input scale and zero point (the MLPerf Tiny AD runner's slicing)."""
    frames = np.fromfile(path, dtype="<f4")
    if frames.size != AD_FRAMES * AD_BINS:
        raise ValueError(f"{path}: expected {AD_FRAMES * AD_BINS} float32 values, got {frames.size}")
    frames = frames.reshape(AD_FRAMES, AD_BINS)
    t = graph.tensors[graph.inputs[0]]
    quant = t.quantized()
    scale, zp = quant.scale[0], quant.zero_point[0]
    out = []
    for start in range(AD_FRAMES - AD_CONTEXT + 1):
        window = frames[start : start + AD_CONTEXT].reshape(-1)
        q = np.clip(np.round(window / scale) + zp, -128, 127).astype(np.int8)
        out.append(q.reshape(t.shape))
    return out


def _real(q: np.ndarray, t: Tensor) -> np.ndarray:
    if t.quant is None:
        return q.astype(np.float64)
    return t.quant.scale[0] * (q.astype(np.float64) - t.quant.zero_point[0])
