"""Weight sharing: k-means clustering of each layer's int8 weights into K = 2^bits shared values.

The shared values form a per-layer codebook of int8 codes; each weight is stored as an index into
it. The codebook holds codes, not reals, so a decoder (a table look-up) hands the MAC unit the int8
weight the engine runs, and each channel keeps its own scale. Clustering is 1-D Lloyd k-means on
the histogram of the codes, with the linear initialisation (centroids evenly spaced between the
smallest and largest weight) that Han et al. (Deep Compression, ICLR 2016, sec. 3.2) found best;
it needs no random numbers, so it is deterministic. Centroids are rounded to integer codes and every
weight is then mapped to its nearest code (ties to the smaller).

Zeros from pruning are not clustered: they are coded by the sparse format, not by an index
(`sparse_layers` names the layers whose zeros are positional). Other layers cluster every weight.
No retraining of the centroids is done (the paper fine-tunes them), so this is post-training.
"""

from __future__ import annotations

import numpy as np

from tinysim.compression.layers import as_rows, replaced, weighted_layers, with_weights
from tinysim.compression.requantize import CodebookRecord, check_bits, relative_rms
from tinysim.workload.graph import Graph

_ITERATIONS = 100


def share(graph: Graph, bits: int, sparse_layers: frozenset[str] = frozenset()) -> tuple[Graph, list[CodebookRecord]]:
    """Every weighted layer's weights replaced by the nearest of its 2^bits shared int8 values."""
    check_bits(bits)
    changes, records = {}, []
    for layer in weighted_layers(graph):
        w = graph.tensors[layer.weight]
        codes = as_rows(w.constant(), layer.axis).astype(np.int64)
        keep = codes != 0 if layer.name in sparse_layers else np.ones(codes.shape, bool)
        codebook = kmeans_1d(codes[keep], 2**bits)
        new = codes.copy()
        new[keep] = nearest(codebook, codes[keep])
        changes.update(with_weights(graph, layer, new))
        records.append(CodebookRecord(layer.name, bits, tuple(int(c) for c in codebook), relative_rms(new, codes)))
    return replaced(graph, changes), records


def kmeans_1d(values: np.ndarray, k: int) -> np.ndarray:
    """Sorted distinct integer centroids (at most k) of int8 `values`: linear init, Lloyd on the histogram."""
    if values.size == 0:
        return np.zeros(1, np.int64)
    levels = np.arange(-128, 128)
    hist = np.bincount(values + 128, minlength=256).astype(np.float64)
    present = levels[hist > 0]
    if present.size <= k:
        return present.astype(np.int64)
    centroids = np.linspace(present[0], present[-1], k)
    for _ in range(_ITERATIONS):
        edges = (centroids[1:] + centroids[:-1]) / 2
        cluster = np.searchsorted(edges, levels, side="left")
        mass = np.bincount(cluster, weights=hist, minlength=k)
        total = np.bincount(cluster, weights=hist * levels, minlength=k)
        moved = np.where(mass > 0, total / np.maximum(mass, 1e-300), centroids)
        if np.allclose(moved, centroids):
            break
        centroids = moved
    used = np.bincount(np.searchsorted((centroids[1:] + centroids[:-1]) / 2, values, side="left"), minlength=k) > 0
    return np.unique(np.round(centroids[used]).astype(np.int64))


def nearest(codebook: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value mapped to its nearest codebook entry (ties to the smaller)."""
    return codebook[nearest_index(codebook, values)]


def nearest_index(codebook: np.ndarray, values: np.ndarray) -> np.ndarray:
    edges = (codebook[1:] + codebook[:-1]) / 2
    return np.searchsorted(edges, values, side="left")
