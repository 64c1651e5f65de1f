"""Cost model for kind `mcu`: a Cortex-M core running CMSIS-NN / TFLM-style kernels.

Cycles = fixed per-op overhead + MACs x cycles-per-MAC (by op kind) / SIMD width
       + taps (innermost-loop starts: bounds checks, address setup) x cycles-per-tap
       + element work (requantization, pooling taps, adds, softmax terms) x cycles-per-element,
then stretched if a memory's bandwidth cannot feed the bytes the op moves (roofline).
Energy = cycles x energy-per-cycle x (V / V_nominal)^2           (core dynamic, CV^2 scaling)
       + bytes read/written x energy-per-byte of each memory     (accesses)
       + (static power of the operating point + memory leakage) x latency.
With the unit's optional flags (arch/compute_mcu.py):
  sparsity        MACs with a zero weight (counted from the op's constant weights and geometry,
                  `zero_weight_macs`) cost cycles_per_skipped_mac instead of cycles_per_mac / SIMD;
  weight_decoder  weights a compressed workload stores encoded are fetched in coded form (bytes read
                  less (decoded - stored bytes) x fetches per weight) and decoded by software or a
                  decoder beside the core: + weights x cycles_per_weight cycles, + weights x energy_per_weight.
Every number comes from the architecture YAML; nothing here is per-technology.
"""

from __future__ import annotations

from tinysim.arch.compute_mcu import McuUnit
from tinysim.cost.common import core_shape, memory_traffic
from tinysim.cost.shape import Mapping, OpShape
from tinysim.cost.weights import decoded_weights, skipped_mac_cycles, skipped_macs
from tinysim.events import Events
from tinysim.ops import MAC_OPS, loop_starts
from tinysim.workload.graph import Graph, Op

KIND = "mcu"


def structure(op: Op, events: Events, unit: McuUnit, mapping: Mapping) -> OpShape:
    """One op's events on an `mcu` unit, before any operating point."""
    graph, kind = mapping.graph, op.kind
    skipped = skipped_macs(graph, op, events, unit)
    coded = decoded_weights(graph, op, unit)
    weight_read, decode_cycles, decode_energy = events.weight_bytes_read, 0.0, 0.0
    if coded is not None:
        # each weight is fetched macs / weights times; its share of the fetches shrinks to the stored size
        saved = round((coded.decoded_bytes - coded.stored_bytes) * events.macs / coded.weights)
        weight_read = max(0, events.weight_bytes_read - saved)
        decode_cycles, decode_energy = coded.decode_cycles, coded.decode_energy_j
    compute_cycles = (
        unit.overhead_cycles_for(kind)
        + (events.macs - skipped) * unit.cycles_per_mac_for(kind) / unit.simd_macs_per_cycle
        + skipped * skipped_mac_cycles(unit)
        + loop_taps(graph, op, events.macs) * unit.cycles_per_tap_for(kind)
        + events.elementwise * unit.cycles_per_element_for(kind)
        + decode_cycles
    )
    reads, writes = memory_traffic(unit, events, weight_bytes_read=weight_read)
    return core_shape(unit, compute_cycles, reads, writes, decode_energy)


def loop_taps(graph: Graph, op: Op, macs: int) -> int:
    """Innermost-loop starts of `op`'s kernel for `macs` MACs (0 for ops without a weight tensor)."""
    if op.kind not in MAC_OPS:
        return 0
    return loop_starts(op.kind, graph.tensor(op.inputs[1]).shape, macs)
