"""Cost model for kind `mcu`: a Cortex-M core running CMSIS-NN / TFLM-style kernels.

Cycles = fixed per-op overhead + MACs x cycles-per-MAC (by op kind) / SIMD width
       + taps (innermost-loop starts: bounds checks, address setup) x cycles-per-tap
       + element work (requantization, pooling taps, adds, softmax terms) x cycles-per-element,
then stretched if a memory's bandwidth cannot feed the bytes the op moves (roofline).
Energy = cycles x energy-per-cycle x (V / V_nominal)^2           (core dynamic, CV^2 scaling)
       + bytes read/written x energy-per-byte of each memory     (accesses)
       + (static power of the operating point + memory leakage) x latency.
With the unit's optional flags (spec/compute_mcu.py):
  sparsity        MACs with a zero weight (counted from the op's constant weights and geometry,
                  `zero_weight_macs`) cost cycles_per_skipped_mac instead of cycles_per_mac / SIMD;
  weight_decoder  weights a compressed workload stores encoded are fetched in coded form (bytes read
                  less (decoded - stored bytes) x fetches per weight) and decoded by software or a
                  decoder beside the core: + weights x cycles_per_weight cycles, + weights x energy_per_weight.
Every number comes from the architecture YAML; nothing here is per-technology.
"""

from __future__ import annotations

import numpy as np

from tinysim.cost.common import core_layer_cost
from tinysim.cost.result import LayerCost
from tinysim.engine.events import Events
from tinysim.engine.program import tap_counts, window
from tinysim.mapping.loops import taps
from tinysim.workload.graph import MAC_OPS, Graph, Op, OpKind, Padding, Tensor

KIND = "mcu"


def price(graph: Graph, op: Op, events: Events, unit, arch, op_point) -> LayerCost:
    """Price one op's events on an `mcu` unit at an operating point."""
    kind = op.kind
    skipped = skipped_macs(graph, op, events, unit)
    coded = decoded_weights(graph, op, unit)
    weight_read, decode_cycles, decode_energy = events.weight_bytes_read, 0.0, 0.0
    if coded is not None:
        # each weight is fetched macs / weights times; its share of the fetches shrinks to the stored size
        saved = round((coded.nbytes - coded.stored_bytes) * events.macs / coded.size)
        weight_read = max(0, events.weight_bytes_read - saved)
        decode_cycles = coded.size * unit.weight_decoder.cycles_per_weight
        decode_energy = coded.size * unit.weight_decoder.energy_per_weight_j
    compute_cycles = (
        unit.overhead_cycles_for(kind)
        + (events.macs - skipped) * unit.cycles_per_mac_for(kind) / unit.simd_macs_per_cycle
        + (skipped * unit.sparsity.cycles_per_skipped_mac if skipped else 0.0)
        + taps(graph, op, events.macs) * unit.cycles_per_tap_for(kind)
        + events.elementwise * unit.cycles_per_element_for(kind)
        + decode_cycles
    )
    reads = {unit.weights_in: weight_read}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + events.act_bytes_read
    writes = {unit.activations_in: events.act_bytes_written}
    return core_layer_cost(op, events, unit, arch, op_point, compute_cycles, reads, writes, decode_energy)


def decoded_weights(graph: Graph, op: Op, unit) -> Tensor | None:
    """`op`'s weight tensor when it is stored encoded and `unit` declares a decoder for its encoding."""
    decoder = getattr(unit, "weight_decoder", None)
    if decoder is None or op.kind not in MAC_OPS or len(op.inputs) < 2 or op.inputs[1] < 0:
        return None
    weights = graph.tensor(op.inputs[1])
    if weights.stored_bytes is None or not decoder.decodes(weights.stored_encoding):
        return None
    return weights


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
