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

from tinysim.cost.result import LayerCost
from tinysim.engine.events import Events
from tinysim.workload.graph import Op


def price_mcu(op: Op, events: Events, taps: int, unit, arch, op_point) -> LayerCost:
    """Price one op's events on an `mcu` unit at an operating point."""
    kind = op.kind
    compute_cycles = (
        unit.overhead_cycles_for(kind)
        + events.macs * unit.cycles_per_mac_for(kind) / unit.simd_macs_per_cycle
        + taps * unit.cycles_per_tap_for(kind)
        + events.elementwise * unit.cycles_per_element_for(kind)
    )
    weights = arch.memory(unit.weights_in)
    acts = arch.memory(unit.activations_in)
    traffic = _traffic_by_memory(events, weights.name, acts.name)

    cycles, bound = compute_cycles, "compute"
    for mem_name, nbytes in traffic.items():
        bw = arch.memory(mem_name).bandwidth_bytes_per_s
        if bw:
            mem_cycles = nbytes / bw * op_point.freq_hz
            if mem_cycles > cycles:
                cycles, bound = mem_cycles, mem_name
    latency_s = cycles / op_point.freq_hz

    v_scale = (op_point.voltage_v / unit.nominal_voltage_v) ** 2
    compute_j = cycles * unit.energy_per_cycle_j * v_scale
    memory_j: dict[str, float] = {}
    _add(memory_j, weights.name, events.weight_bytes_read * weights.read_energy_per_byte_j)
    _add(memory_j, acts.name, events.act_bytes_read * acts.read_energy_per_byte_j)
    _add(memory_j, acts.name, events.act_bytes_written * acts.write_energy_per_byte_j)
    leakage_w = op_point.static_power_w + sum(m.leakage_w for m in arch.memories)
    return LayerCost(
        name=op.name,
        op_kind=kind.value,
        unit=unit.name,
        macs=events.macs,
        cycles=cycles,
        latency_s=latency_s,
        compute_energy_j=compute_j,
        memory_energy_j=memory_j,
        static_energy_j=leakage_w * latency_s,
        bytes_read=events.weight_bytes_read + events.act_bytes_read,
        bytes_written=events.act_bytes_written,
        bound=bound,
    )


def _traffic_by_memory(events: Events, weights_mem: str, acts_mem: str) -> dict[str, int]:
    traffic: dict[str, int] = {}
    _add(traffic, weights_mem, events.weight_bytes_read)
    _add(traffic, acts_mem, events.act_bytes_read + events.act_bytes_written)
    return traffic


def _add(table: dict, key: str, value: float) -> None:
    table[key] = table.get(key, 0) + value
