"""Weights as stored and what a unit does with them: a compressed workload's encoded tensors (decoded by a
unit declaring `weight_decoder`), zero weights a unit declaring `sparsity` skips, and the stored size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tinysim.arch.compute_mcu import Sparsity, WeightDecoder
from tinysim.events import Events
from tinysim.ops import MAC_OPS, OpKind, tap_counts, window
from tinysim.workload.graph import Graph, Op, Padding

__all__ = ["Decoded", "decoded_weights", "skipped_mac_cycles", "skipped_macs", "stored_weight_bytes", "weights_encoding", "zero_weight_macs"]


@dataclass(frozen=True)
class Decoded:
    """A weight tensor stored encoded, and the unit's decoder that reads it in that form."""

    weights: int  # values in the tensor
    decoded_bytes: int
    stored_bytes: int
    decoder: WeightDecoder

    @property
    def decode_cycles(self) -> float:
        return self.weights * self.decoder.cycles_per_weight

    @property
    def decode_energy_j(self) -> float:
        return self.weights * self.decoder.energy_per_weight_j


def decoded_weights(graph: Graph, op: Op, unit) -> Decoded | None:
    """`op`'s weights when they are stored encoded and `unit` declares a decoder for their encoding."""
    decoder = getattr(unit, "weight_decoder", None)
    if decoder is None or op.kind not in MAC_OPS or len(op.inputs) < 2 or op.inputs[1] < 0:
        return None
    weights = graph.tensor(op.inputs[1])
    if weights.stored_bytes is None or not decoder.decodes(weights.stored_encoding):
        return None
    return Decoded(weights.size, weights.nbytes, weights.stored_bytes, decoder)


def skipped_mac_cycles(unit) -> float:
    """Cycles a MAC with a zero weight costs on a unit declaring `sparsity` (0 without it)."""
    sparsity: Sparsity | None = getattr(unit, "sparsity", None)
    return sparsity.cycles_per_skipped_mac if sparsity is not None else 0.0


def skipped_macs(graph: Graph, op: Op, events: Events, unit) -> int:
    """MACs `unit` skips for a zero weight: none unless it declares `sparsity`; at most the executed MACs."""
    if getattr(unit, "sparsity", None) is None or op.kind not in MAC_OPS:
        return 0
    return min(zero_weight_macs(graph, op), events.macs)


def zero_weight_macs(graph: Graph, op: Op) -> int:
    """Executed MACs of `op` whose weight is zero, from its constant weights and geometry (padding taps
    are not executed, as the engine counts). 0 for non-MAC ops or non-constant weights."""
    if op.kind not in MAC_OPS or len(op.inputs) < 2 or op.inputs[1] < 0:
        return 0
    w = graph.tensor(op.inputs[1])
    if w.data is None:
        return 0
    zeros = w.data == 0
    x = graph.tensor(op.inputs[0])
    if op.kind == OpKind.FULLY_CONNECTED:
        return int(zeros.sum()) * (x.size // w.shape[-1])
    n, h, wd, _ = x.shape
    _, k_h, k_w, _ = w.shape
    a = op.attrs
    same = a.padding is Padding.SAME
    out_h, pad_h = window(h, k_h, a.stride_h, a.dilation_h, same)
    out_w, pad_w = window(wd, k_w, a.stride_w, a.dilation_w, same)
    rows = tap_counts(h, out_h, k_h, a.stride_h, a.dilation_h, pad_h)
    cols = tap_counts(wd, out_w, k_w, a.stride_w, a.dilation_w, pad_w)
    per_tap = zeros.sum(axis=(0, 3))  # (k_h, k_w): zero weights at each filter tap
    return int(n * (per_tap * np.outer(rows, cols)).sum())


def stored_weight_bytes(graph: Graph, units: Sequence) -> int:
    """Bytes of constants as stored: a compressed workload's encoded weights at their stored size where
    the placed unit declares a decoder for that encoding; a unit declaring `weight_bits` (e.g. 4-bit IMC
    cells) packs its ops' weight tensors at that width; biases and everything else keep their dtype's size."""
    total, seen = 0, set()
    for op, unit in zip(graph.ops, units):
        for position, index in enumerate(op.inputs):
            if index < 0 or index in seen or not graph.tensor(index).is_constant:
                continue
            seen.add(index)
            tensor = graph.tensor(index)
            bits = getattr(unit, "weight_bits", None)
            coded = decoded_weights(graph, op, unit) if position == 1 else None
            if coded is not None:
                total += coded.stored_bytes
            elif position == 1 and bits and op.kind in MAC_OPS:
                total += -(-tensor.size * bits // 8)
            else:
                total += tensor.nbytes
    return total


def weights_encoding(graph: Graph, units: Sequence) -> str:
    """How a compressed workload's weights are stored: '' when none is encoded, the encodings kept
    (e.g. 'huffman') where the placed units decode them, 'decoded' where no unit declares a decoder."""
    kept, decoded, seen = set(), False, set()
    for op, unit in zip(graph.ops, units):
        if op.kind not in MAC_OPS or len(op.inputs) < 2 or op.inputs[1] < 0 or op.inputs[1] in seen:
            continue
        seen.add(op.inputs[1])
        tensor = graph.tensor(op.inputs[1])
        if tensor.stored_encoding is None:
            continue
        if decoded_weights(graph, op, unit) is not None:
            kept.add(tensor.stored_encoding)
        else:
            decoded = True
    return ", ".join(sorted(kept) + (["partly decoded" if kept else "decoded"] if decoded else []))
