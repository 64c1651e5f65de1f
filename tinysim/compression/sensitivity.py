"""Pruning sensitivity per layer (Deep Compression fig. 5): prune one layer alone, see what the outputs do.

    rows = prune_sensitivity(graph, 0.9, inputs)    # one (layer, weights, Fidelity) per weighted layer

A layer whose pruning alone already ruins the outputs should get a lower target (`prune(graph,
{name: sparsity})`); the paper set per-layer thresholds this way before retraining.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinysim.compression.fidelity import Fidelity, compare
from tinysim.compression.layers import weighted_layers
from tinysim.compression.prune import prune
from tinysim.workload.graph import Graph


@dataclass(frozen=True)
class LayerSensitivity:
    layer: str
    weights: int
    fidelity: Fidelity


def prune_sensitivity(
    graph: Graph, sparsity: float, inputs: list[np.ndarray], label: str = "inputs", *, granularity: str = "weight"
) -> list[LayerSensitivity]:
    rows = []
    for layer in weighted_layers(graph):
        pruned, _ = prune(graph, {layer.name: sparsity}, granularity=granularity)
        weights = graph.tensors[layer.weight].size
        rows.append(LayerSensitivity(layer.name, weights, compare(graph, pruned, inputs, label)))
    return rows
