"""Structure pieces the programmable cores (mcu, dsp, mvp) share: their memory traffic and OpShape."""

from __future__ import annotations

from tinysim.cost.shape import OpShape


def memory_traffic(unit, events, weight_bytes_read: int | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes read and written per memory level when `unit` runs an op: weights from `weights_in` (the
    counted fetches, or `weight_bytes_read` where a kind fetches them coded), activations from and to
    `activations_in` (the two may be the same level)."""
    weights = events.weight_bytes_read if weight_bytes_read is None else weight_bytes_read
    reads = {unit.weights_in: weights}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + events.act_bytes_read
    writes = {unit.activations_in: events.act_bytes_written}
    return reads, writes


def core_shape(unit, compute_cycles: float, reads: dict[str, int], writes: dict[str, int],
               extra_dynamic_j: float = 0.0) -> OpShape:
    """OpShape of a programmable core: every cycle (roofline-stretched ones included) costs the core's
    energy per cycle; `extra_dynamic_j` (e.g. a weight decoder beside the core) comes on top."""
    return OpShape(compute_cycles, 0.0, extra_dynamic_j, unit.energy_per_cycle_j, unit.nominal_voltage_v,
                   reads, writes)
