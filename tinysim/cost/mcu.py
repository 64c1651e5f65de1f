"""Cost model for kind `mcu`: a Cortex-M core running CMSIS-NN / TFLM-style kernels.

Cycles = fixed per-op overhead + MACs x cycles-per-MAC (by op kind) / SIMD width
       + taps (innermost-loop starts: bounds checks, address setup) x cycles-per-tap
       + element work (requantization, pooling taps, adds, softmax terms) x cycles-per-element,
then stretched if a memory's bandwidth cannot feed the bytes the op moves (roofline).
Energy = cycles x energy-per-cycle x (V / V_nominal)^2           (core dynamic, CV^2 scaling)
       + bytes read/written x energy-per-byte of each memory     (accesses)
       + (static power of the operating point + memory leakage) x latency.
Every number comes from the architecture YAML; nothing here is per-technology.
"""

from __future__ import annotations

from tinysim.cost.common import access_energy, bandwidth_bound, dynamic_scale, static_power_w
from tinysim.cost.result import LayerCost
from tinysim.engine.events import Events
from tinysim.mapping.loops import taps
from tinysim.workload.graph import Graph, Op

KIND = "mcu"


def price(graph: Graph, op: Op, events: Events, unit, arch, op_point) -> LayerCost:
    """Price one op's events on an `mcu` unit at an operating point."""
    kind = op.kind
    compute_cycles = (
        unit.overhead_cycles_for(kind)
        + events.macs * unit.cycles_per_mac_for(kind) / unit.simd_macs_per_cycle
        + taps(graph, op, events.macs) * unit.cycles_per_tap_for(kind)
        + events.elementwise * unit.cycles_per_element_for(kind)
    )
    reads = {unit.weights_in: events.weight_bytes_read}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + events.act_bytes_read
    writes = {unit.activations_in: events.act_bytes_written}
    traffic = {name: reads.get(name, 0) + writes.get(name, 0) for name in {*reads, *writes}}
    cycles, bound = bandwidth_bound(arch, traffic, compute_cycles, op_point.freq_hz)
    latency_s = cycles / op_point.freq_hz
    return LayerCost(
        name=op.name,
        op_kind=kind.value,
        unit=unit.name,
        macs=events.macs,
        cycles=cycles,
        latency_s=latency_s,
        compute_energy_j=cycles * unit.energy_per_cycle_j * dynamic_scale(op_point, unit.nominal_voltage_v),
        memory_energy_j=access_energy(arch, reads, writes),
        static_energy_j=static_power_w(arch, op_point) * latency_s,
        bytes_read=events.weight_bytes_read + events.act_bytes_read,
        bytes_written=events.act_bytes_written,
        bound=bound,
    )
