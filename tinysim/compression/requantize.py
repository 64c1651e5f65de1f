"""Re-quantization of weights to n bits (2-8): symmetric, per output channel, scales kept for the engine.

Each output channel c gets the scale s_c = max|w_c| / (2^(n-1) - 1) and codes
round(w / s_c) in [-(2^(n-1) - 1), 2^(n-1) - 1]. The codes stay in the int8 tensor (the engine runs
them as they are) and the new scales replace the old ones; each bias is re-expressed in the new
scale (its real value is kept). Zeros stay zeros, so pruning survives. A per-tensor scale (TFLite
fully-connected layers) becomes per-channel, which the engine supports.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinysim.compression.layers import channel_scales, real_rows, replaced, weighted_layers, with_weights
from tinysim.workload.graph import Graph

MIN_BITS, MAX_BITS = 2, 8


@dataclass(frozen=True)
class CodebookRecord:
    """How one layer's weights are coded: `bits` per stored value, the int8 values an index decodes to."""

    layer: str
    bits: int
    codebook: tuple[int, ...]  # sorted; index i decodes to codebook[i]
    rms_error: float = 0.0  # RMS of (new - old) real weights, relative to the RMS of the old weights


def grid(bits: int) -> tuple[int, ...]:
    """The symmetric n-bit grid of codes."""
    q = 2 ** (bits - 1) - 1
    return tuple(range(-q, q + 1))


def check_bits(bits: int) -> None:
    if not MIN_BITS <= bits <= MAX_BITS:
        raise ValueError(f"bits must be in {MIN_BITS}..{MAX_BITS}, got {bits}")


def requantize(graph: Graph, bits: int) -> tuple[Graph, list[CodebookRecord]]:
    """Every weighted layer re-quantized to `bits`, per channel, symmetric."""
    check_bits(bits)
    qmax = 2 ** (bits - 1) - 1
    changes, records = {}, []
    for layer in weighted_layers(graph):
        real = real_rows(graph, layer)
        old = channel_scales(graph.tensors[layer.weight], layer.axis)
        peak = np.abs(real).max(axis=1)
        scales = np.where(peak > 0, peak / qmax, old)
        codes = np.clip(np.round(real / scales[:, None]), -qmax, qmax)
        changes.update(with_weights(graph, layer, codes, scales))
        records.append(CodebookRecord(layer.name, bits, grid(bits), relative_rms(codes * scales[:, None], real)))
    return replaced(graph, changes), records


def relative_rms(new: np.ndarray, old: np.ndarray) -> float:
    ref = float(np.sqrt(np.mean(old**2)))
    return float(np.sqrt(np.mean((new - old) ** 2))) / ref if ref > 0 else 0.0
