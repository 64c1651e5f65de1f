"""Pricing many design points at once: what `tinysim.cost.simulate` computes, as numpy over points.

Every vectorised cost kind prices an op as
    cycles  = max(pre, max over memories of traffic_m / bandwidth_m x f) + post
    latency = cycles / f
    compute = (dynamic + cycles x dynamic_per_cycle) x (V / V_nominal)^2
    memory  = reads_m x read energy per byte_m + writes_m x write energy per byte_m
    static  = (static power of the operating point + leakage of every memory) x latency,
where `pre`, `post`, `dynamic`, `dynamic_per_cycle`, reads and writes depend on the op and the
compute unit only ("the structure"), computed once per distinct set of compute units with the
kind's own helpers (tinysim/cost/<kind>.py); the operating point (f, V, static power) and the
memories (bandwidth, energies, leakage, size) vary per point and enter as arrays. Kinds without a
structure here are priced point by point with `simulate()` by the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tinysim.cost import dsp as dsp_cost
from tinysim.cost import imc as imc_cost
from tinysim.cost import npu as npu_cost
from tinysim.cost import systolic as systolic_cost
from tinysim.cost.common import memory_traffic
from tinysim.cost.simulate import stored_weight_bytes
from tinysim.engine.events import Events
from tinysim.mapping import place
from tinysim.mapping.loops import taps
from tinysim.spec.compute_imc import ImcMode
from tinysim.workload.graph import MAC_OPS, Graph, Op

__all__ = ["STRUCTURES", "Priced", "Structure", "price_points", "structure"]


@dataclass(frozen=True)
class OpShape:
    """One op's structure on its unit (see the module docstring)."""

    pre: float
    post: float
    dynamic_j: float
    dynamic_per_cycle_j: float
    nominal_voltage_v: float
    reads: dict[str, int]
    writes: dict[str, int]


def _mcu(graph: Graph, op: Op, ev: Events, unit, arch) -> OpShape:
    kind = op.kind
    pre = (
        unit.overhead_cycles_for(kind)
        + ev.macs * unit.cycles_per_mac_for(kind) / unit.simd_macs_per_cycle
        + taps(graph, op, ev.macs) * unit.cycles_per_tap_for(kind)
        + ev.elementwise * unit.cycles_per_element_for(kind)
    )
    reads = {unit.weights_in: ev.weight_bytes_read}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + ev.act_bytes_read
    return OpShape(
        pre,
        0.0,
        0.0,
        unit.energy_per_cycle_j,
        unit.nominal_voltage_v,
        reads,
        {unit.activations_in: ev.act_bytes_written},
    )


def _npu(graph: Graph, op: Op, ev: Events, unit, arch) -> OpShape:
    outputs = sum(t.size for t in graph.op_outputs(op))
    pre = npu_cost.pipelined_cycles(
        npu_cost.mac_array_cycles(graph, op, unit), outputs * unit.cycles_per_output_for(op.kind), outputs, unit
    )
    act_read, act_written = npu_cost.activation_bytes(graph, op)
    reads = {unit.weights_in: npu_cost.encoded_weight_bytes(graph, op, unit)}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + act_read
    return OpShape(
        pre,
        unit.overhead_cycles_for(op.kind),
        ev.macs * unit.energy_per_mac_j,
        unit.energy_per_cycle_j,
        unit.nominal_voltage_v,
        reads,
        {unit.activations_in: act_written},
    )


def _imc(graph: Graph, op: Op, ev: Events, unit, arch) -> OpShape:
    kind = op.kind
    if kind in MAC_OPS:
        m = imc_cost.map_layer(graph, op, unit)
        planes = m.pixels * unit.input_bits
        pre = unit.overhead_cycles.for_op(kind) + planes * m.slots * unit.cycles_per_activation
        per_column = unit.energy_per_accumulate_j
        if unit.mode is ImcMode.ANALOG:
            per_column += unit.energy_per_conversion_j
        dynamic_j = (
            planes * (m.activations * unit.energy_per_activation_j + m.cells * unit.energy_per_cell_j)
            + planes * m.cell_columns * per_column
        )
        bytes_read = m.pixels * m.inputs * graph.tensor(op.inputs[0]).dtype.itemsize
    else:
        pre = unit.overhead_cycles.for_op(kind) + ev.elementwise * unit.cycles_per_element.for_op(kind)
        dynamic_j = ev.elementwise * unit.energy_per_element_j
        bytes_read = ev.act_bytes_read
    act = unit.activations_in
    return OpShape(pre, 0.0, dynamic_j, 0.0, unit.nominal_voltage_v, {act: bytes_read}, {act: ev.act_bytes_written})


def _dsp(graph: Graph, op: Op, ev: Events, unit, arch) -> OpShape:
    kind = op.kind
    pre = (
        unit.overhead_cycles.for_op(kind)
        + dsp_cost.mac_cycles(ev.macs, dsp_cost.inner_loop_length(graph, op), unit, kind)
        + ev.elementwise * unit.cycles_per_element.for_op(kind)
    )
    reads, writes = memory_traffic(unit, ev)
    return OpShape(pre, 0.0, 0.0, unit.energy_per_cycle_j, unit.nominal_voltage_v, reads, writes)


def _systolic(graph: Graph, op: Op, ev: Events, unit, arch) -> OpShape:
    gemm = systolic_cost.gemm_of(graph, op)
    sched = systolic_cost.schedule(gemm, unit.rows, unit.cols, unit.dataflow)
    reads, writes = systolic_cost.traffic(graph, op, sched, unit, arch)
    return OpShape(
        sched.cycles,
        0.0,
        gemm.macs * unit.mac_energy_j,
        unit.rows * unit.cols * unit.pe_cycle_energy_j,
        unit.nominal_voltage_v,
        reads,
        writes,
    )


# kind -> (op structure, whether it depends on the memories' parameters (then memories are part of the group))
STRUCTURES: dict[str, tuple[Callable[..., OpShape], bool]] = {
    "mcu": (_mcu, False),
    "npu": (_npu, False),
    "imc": (_imc, False),
    "systolic": (_systolic, True),
    "dsp": (_dsp, False),
}


@dataclass(frozen=True)
class Structure:
    """Arrays over the ops of a graph for one set of compute units (memory axis in the arch's order)."""

    pre: np.ndarray
    post: np.ndarray
    dynamic_j: np.ndarray
    dynamic_per_cycle_j: np.ndarray
    nominal_voltage_v: np.ndarray
    reads: np.ndarray  # [op, memory] bytes
    writes: np.ndarray
    touched: tuple[str, ...]  # memories with accesses in some op (the energy breakdown's keys), arch order
    weights_bytes: int
    weights_memory: int  # index into the arch's memories
    arena_memory: int


def structure(graph: Graph, events: Sequence[Events], arch) -> Structure | None:
    """The structure of `graph` on `arch`'s compute units; None if a unit's kind is not vectorised.

    Raises what the cost model raises for a point it cannot price (e.g. an IMC layer that does not fit).
    """
    units = place(graph, arch)
    if any(u.kind not in STRUCTURES for u in units):
        return None
    for unit in {id(u): u for u in units if u.kind == "imc"}.values():
        imc_cost.allocation(graph, arch, unit)
    names = [m.name for m in arch.memories]
    n, k = len(graph.ops), len(names)
    reads, writes = np.zeros((n, k)), np.zeros((n, k))
    rows = []
    touched: set[str] = set()
    for i, (op, ev, unit) in enumerate(zip(graph.ops, events, units)):
        shape = STRUCTURES[unit.kind][0](graph, op, ev, unit, arch)
        rows.append((shape.pre, shape.post, shape.dynamic_j, shape.dynamic_per_cycle_j, shape.nominal_voltage_v))
        for table, out in ((shape.reads, reads), (shape.writes, writes)):
            for name, nbytes in table.items():
                out[i, names.index(name)] += nbytes
                touched.add(name)
    cols = np.array(rows, dtype=float).reshape(n, 5).T
    first = units[0] if units else arch.compute[0]
    return Structure(
        *cols,
        reads=reads,
        writes=writes,
        touched=tuple(nm for nm in names if nm in touched),
        weights_bytes=stored_weight_bytes(graph, units),
        weights_memory=names.index(first.weights_in),
        arena_memory=names.index(first.activations_in),
    )


@dataclass(frozen=True)
class Priced:
    """Whole-inference figures for P points (arrays of length P; breakdown by name)."""

    cycles: np.ndarray
    latency_s: np.ndarray
    energy_j: np.ndarray
    breakdown_j: dict[str, np.ndarray]
    weights_bytes: np.ndarray
    weights_fit: np.ndarray
    arena_fits: np.ndarray


def price_points(
    structures: Sequence[Structure],
    group: np.ndarray,
    freq_hz: np.ndarray,
    voltage_v: np.ndarray,
    static_w: np.ndarray,
    memories: dict[str, np.ndarray],
    arena_bytes: int,
    names: Sequence[str],
) -> Priced:
    """Price P points: point p uses `structures[group[p]]`, operating point (freq, V, static power) p and
    memory parameters `memories[field][p, m]` (bandwidth_bytes_per_s (inf = none), read/write energy per
    byte, leakage_w, size_bytes; memories in `names` order)."""
    stack = {f: np.stack([getattr(s, f) for s in structures]) for f in ("pre", "post", "dynamic_j")}
    pre, post, dyn = (stack[f][group] for f in ("pre", "post", "dynamic_j"))  # [P, op]
    per_cycle = np.stack([s.dynamic_per_cycle_j for s in structures])[group]
    nominal = np.stack([s.nominal_voltage_v for s in structures])[group]
    reads = np.stack([s.reads for s in structures])[group]  # [P, op, m]
    writes = np.stack([s.writes for s in structures])[group]
    f = freq_hz[:, None]
    mem_cycles = ((reads + writes) / memories["bandwidth"][:, None, :]).max(axis=2, initial=0.0) * f
    cycles = np.maximum(pre, mem_cycles) + post
    latency = cycles / f
    compute = (dyn + cycles * per_cycle) * (voltage_v[:, None] / nominal) ** 2
    leakage = np.zeros(len(group))
    for m in range(len(names)):
        leakage = leakage + memories["leakage"][:, m]
    static = (static_w + leakage)[:, None] * latency
    breakdown = {"compute": compute.sum(axis=1)}
    touched = np.zeros((len(structures), len(names)), dtype=bool)
    for g, s in enumerate(structures):
        touched[g] = [nm in s.touched for nm in names]
    for m, name in enumerate(names):
        if touched[:, m].any():
            energy = reads[:, :, m] * memories["read"][:, m : m + 1] + writes[:, :, m] * memories["write"][:, m : m + 1]
            breakdown[name] = np.where(touched[group, m], energy.sum(axis=1), np.nan)
    breakdown["static"] = static.sum(axis=1)
    energy = sum(np.nan_to_num(v) for v in breakdown.values())
    weights_mem = np.array([s.weights_memory for s in structures])[group]
    arena_mem = np.array([s.arena_memory for s in structures])[group]
    weights_bytes = np.array([s.weights_bytes for s in structures])[group]
    rows = np.arange(len(group))
    size = memories["size"]
    return Priced(
        cycles=cycles.sum(axis=1),
        latency_s=latency.sum(axis=1),
        energy_j=energy,
        breakdown_j=breakdown,
        weights_bytes=weights_bytes,
        weights_fit=weights_bytes <= size[rows, weights_mem],
        arena_fits=arena_bytes <= size[rows, arena_mem],
    )
