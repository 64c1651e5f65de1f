"""Magnitude pruning: zero the weights (or whole output channels) of smallest real magnitude.

    prune(graph, 0.5)                           # each layer loses half its weights (unstructured)
    prune(graph, 0.9, scope="global")           # one threshold over every layer's real |w|
    prune(graph, 0.25, granularity="channel")   # zero each layer's quarter of output channels with the least L1 norm

Magnitudes are real values (int8 code x the channel's scale), so layers and channels with
different scales compare fairly. A zero weight is the int8 code 0 (weights are symmetric), so the
engine runs the pruned graph unchanged and counts the zero operands it now meets. Ties at the
threshold are broken by position, so exactly round(sparsity x n) weights are zeroed per layer
(for `scope="layer"`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinysim.compression.layers import real_rows, replaced, weighted_layers, with_weights
from tinysim.workload.graph import Graph

GRANULARITIES = ("weight", "channel")
SCOPES = ("layer", "global")


@dataclass(frozen=True)
class PruneRecord:
    """What pruning did to one layer."""

    layer: str
    weights: int
    zeros_before: int
    zeros_after: int

    @property
    def sparsity(self) -> float:
        return self.zeros_after / self.weights if self.weights else 0.0


def prune(
    graph: Graph,
    sparsity: float | dict[str, float],
    *,
    granularity: str = "weight",
    scope: str = "layer",
) -> tuple[Graph, list[PruneRecord]]:
    """Zero the smallest-magnitude weights to reach `sparsity` (0..1; or {layer name: sparsity})."""
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, got {granularity!r}")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    layers = weighted_layers(graph)
    targets = _targets(sparsity, [layer.name for layer in layers])
    if scope == "global" and isinstance(sparsity, dict):
        raise ValueError("a global threshold takes one sparsity, not one per layer")
    reals = [real_rows(graph, layer) for layer in layers]
    scores = [np.abs(r) if granularity == "weight" else np.abs(r).sum(axis=1) for r in reals]
    if scope == "global":
        masks = _global_masks(scores, targets[layers[0].name] if layers else 0.0)
    else:
        masks = [_smallest(s, targets[layer.name]) for s, layer in zip(scores, layers)]
    changes, records = {}, []
    for layer, real, mask in zip(layers, reals, masks):
        codes = np.array(np.moveaxis(graph.tensors[layer.weight].constant(), layer.axis, 0).reshape(real.shape))
        before = int((codes == 0).sum())
        codes[mask if granularity == "weight" else np.broadcast_to(mask[:, None], codes.shape)] = 0
        changes.update(with_weights(graph, layer, codes))
        records.append(PruneRecord(layer.name, codes.size, before, int((codes == 0).sum())))
    return replaced(graph, changes), records


def _targets(sparsity: float | dict[str, float], names: list[str]) -> dict[str, float]:
    if isinstance(sparsity, dict):
        unknown = set(sparsity) - set(names)
        if unknown:
            raise ValueError(f"no weighted layer named {sorted(unknown)}; layers: {', '.join(names)}")
        targets = {n: float(sparsity.get(n, 0.0)) for n in names}
    else:
        targets = dict.fromkeys(names, float(sparsity))
    for name, s in targets.items():
        if not 0.0 <= s < 1.0:
            raise ValueError(f"sparsity of {name} must be in [0, 1), got {s}")
    return targets


def _smallest(score: np.ndarray, fraction: float) -> np.ndarray:
    """Mask of the round(fraction x n) smallest entries (stable: earlier positions first on ties)."""
    flat = score.reshape(-1)
    k = round(fraction * flat.size)
    mask = np.zeros(flat.size, bool)
    mask[np.argsort(flat, kind="stable")[:k]] = True
    return mask.reshape(score.shape)


def _global_masks(scores: list[np.ndarray], fraction: float) -> list[np.ndarray]:
    """One ranking over all layers' scores together."""
    if not scores:
        return []
    sizes = [s.size for s in scores]
    joint = _smallest(np.concatenate([s.reshape(-1) for s in scores]), fraction)
    parts = np.split(joint, np.cumsum(sizes)[:-1])
    return [p.reshape(s.shape) for p, s in zip(parts, scores)]
