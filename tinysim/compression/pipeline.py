"""The Deep Compression pipeline: prune, then re-quantize or share, then measure (and Huffman-code).

    result = compress(graph, CompressOptions(prune=0.5, bits=4, share=True, huffman=True))
    result.graph      # runs on the engine: int8 weights on the compressed values, scales kept
    result.sizes      # one LayerSize per weighted layer (see size.py), measured from encoded streams

`bits` without `share` re-quantizes linearly (per-channel n-bit grid); with `share` it is the
k-means codebook size 2^bits. When pruning is asked for, layers are stored sparse (relative
indices) where that is smaller than dense.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from tinysim.compression.bias import bias_correct
from tinysim.compression.fidelity import random_inputs
from tinysim.compression.prune import PruneRecord, prune
from tinysim.compression.requantize import CodebookRecord, requantize
from tinysim.compression.share import share
from tinysim.compression.size import EncodedLayer, LayerSize, measure, sparse_wins, total
from tinysim.workload.graph import Graph


@dataclass(frozen=True)
class CompressOptions:
    prune: float = 0.0  # target sparsity (0 = no pruning)
    granularity: str = "weight"  # "weight" (unstructured) or "channel" (whole output channels)
    scope: str = "layer"  # "layer" (each layer to the target) or "global" (one threshold over all layers)
    bits: int | None = None  # None: keep int8
    share: bool = False  # k-means weight sharing with 2^bits values instead of a linear n-bit grid
    huffman: bool = False
    bias_correction: bool = False  # re-centre each layer's output mean through its bias (see bias.py)

    def describe(self) -> str:
        steps = []
        if self.prune:
            steps.append(f"prune {self.prune:.0%} ({self.granularity}, per {self.scope})")
        if self.bits is not None:
            steps.append(
                f"share {2**self.bits} values ({self.bits}-bit indices)"
                if self.share
                else f"re-quantize to {self.bits} bits"
            )
        if self.bias_correction:
            steps.append("bias correction")
        if self.huffman:
            steps.append("Huffman")
        return ", ".join(steps) or "none"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Compressed:
    graph: Graph
    options: CompressOptions
    sizes: list[LayerSize]
    encoded: list[EncodedLayer] = field(repr=False)
    pruned: list[PruneRecord]
    codebooks: list[CodebookRecord]

    @property
    def total(self) -> LayerSize:
        return total(self.sizes)


def compress(graph: Graph, options: CompressOptions, calibration: list[np.ndarray] | None = None) -> Compressed:
    """Apply `options`; bias correction measures input means on `calibration` (default: 16 seeded random
    inputs, seeds 1000.., apart from the fidelity inputs' default seeds)."""
    if options.share and options.bits is None:
        raise ValueError("weight sharing needs a number of bits (K = 2^bits shared values)")
    source = graph
    pruned: list[PruneRecord] = []
    if options.prune > 0:
        graph, pruned = prune(graph, options.prune, granularity=options.granularity, scope=options.scope)
    # Once pruning is asked for, every layer that is smaller stored sparse is (VWW's int8 layers are ~98 % zeros).
    sparse = sparse_wins(graph) if options.prune > 0 else frozenset()
    codebooks: list[CodebookRecord] = []
    if options.bits is not None:
        graph, codebooks = share(graph, options.bits, sparse) if options.share else requantize(graph, options.bits)
    if options.bias_correction:
        calibration = calibration if calibration is not None else random_inputs(source, 16, seed=1000)
        graph, _ = bias_correct(source, graph, calibration)
    sizes, encoded = measure(graph, sparse, {c.layer: c for c in codebooks}, huffman=options.huffman)
    return Compressed(graph, options, sizes, encoded, pruned, codebooks)
