"""Pricing pieces every compute kind shares: memory access energy, static energy, voltage scaling."""

from __future__ import annotations

from tinysim.cost.result import LayerCost


def dynamic_scale(op_point, nominal_voltage_v: float) -> float:
    """Dynamic energy scales with C·V²: the factor at this operating point vs the nominal voltage."""
    return (op_point.voltage_v / nominal_voltage_v) ** 2


def static_power_w(arch, op_point) -> float:
    """Power drawn while active whatever the work: the operating point's static power plus memory leakage."""
    return op_point.static_power_w + sum(m.leakage_w for m in arch.memories)


def add_energy(table: dict[str, float], memory: str, energy_j: float) -> None:
    """Accumulate `energy_j` under `memory` in a per-memory energy table."""
    table[memory] = table.get(memory, 0.0) + energy_j


def access_energy(arch, reads: dict[str, int], writes: dict[str, int]) -> dict[str, float]:
    """Energy of byte reads and writes per memory level: bytes × the level's energy per byte."""
    out: dict[str, float] = {}
    for name, nbytes in reads.items():
        add_energy(out, name, nbytes * arch.memory(name).read_energy_per_byte_j)
    for name, nbytes in writes.items():
        add_energy(out, name, nbytes * arch.memory(name).write_energy_per_byte_j)
    return out


def bandwidth_bound(arch, traffic: dict[str, int], compute_cycles: float, freq_hz: float) -> tuple[float, str]:
    """Roofline: cycles stretched to what the slowest memory needs to move its bytes; and what binds."""
    cycles, bound = compute_cycles, "compute"
    for name, nbytes in traffic.items():
        bw = arch.memory(name).bandwidth_bytes_per_s
        if bw:
            mem_cycles = nbytes / bw * freq_hz
            if mem_cycles > cycles:
                cycles, bound = mem_cycles, name
    return cycles, bound


def memory_traffic(unit, events) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes read and written per memory level when `unit` runs an op: weights from `weights_in`,
    activations from and to `activations_in` (the two may be the same level)."""
    reads = {unit.weights_in: events.weight_bytes_read}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + events.act_bytes_read
    writes = {unit.activations_in: events.act_bytes_written}
    return reads, writes


def core_layer_cost(op, events, unit, arch, op_point, compute_cycles: float, reads: dict[str, int],
                    writes: dict[str, int], extra_dynamic_j: float = 0.0) -> LayerCost:
    """LayerCost of a programmable core (mcu, dsp, mvp): roofline over its memory traffic, then energy =
    (cycles x energy per cycle + extra dynamic energy) x (V/V_nominal)^2 + accesses + static x time."""
    traffic = {name: reads.get(name, 0) + writes.get(name, 0) for name in {*reads, *writes}}
    cycles, bound = bandwidth_bound(arch, traffic, compute_cycles, op_point.freq_hz)
    latency_s = cycles / op_point.freq_hz
    return LayerCost(
        name=op.name,
        op_kind=op.kind.value,
        unit=unit.name,
        macs=events.macs,
        cycles=cycles,
        latency_s=latency_s,
        compute_energy_j=(cycles * unit.energy_per_cycle_j + extra_dynamic_j)
        * dynamic_scale(op_point, unit.nominal_voltage_v),
        memory_energy_j=access_energy(arch, reads, writes),
        static_energy_j=static_power_w(arch, op_point) * latency_s,
        bytes_read=sum(reads.values()),
        bytes_written=sum(writes.values()),
        bound=bound,
    )
