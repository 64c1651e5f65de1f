"""Pricing: OpShapes (no operating point) -> cycles, latency, energy by cause, at ONE operating point or
at arrays of P design points. The one formula; `simulate`, DVFS, sweeps and always-on all come here.

Per op (see cost.shape.OpShape):
    cycles  = max(compute_cycles, max over memories m of bytes_m / bandwidth_m x f) + post_cycles
    latency = cycles / f
    compute = (dynamic_j + cycles x dynamic_per_cycle_j) x dynamic_scale(V, V_nominal)
    memory  = reads_m x read energy per byte_m + writes_m x write energy per byte_m
    static  = (static power of the operating point + leakage of every memory) x latency
Whole inference: sums over ops; energy = compute + each memory + static, in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tinysim.arch import Arch, MemoryLevel, OperatingPoint
from tinysim.cost.result import average_power_w, breakdown_totals
from tinysim.cost.shape import GraphShape

__all__ = ["Points", "Priced", "average_power_w", "breakdown_totals", "dynamic_scale", "price"]


def dynamic_scale(voltage_v, nominal_voltage_v):
    """Dynamic energy scales with C·V²: the factor at voltage V against the nominal voltage (arrays too)."""
    return (voltage_v / nominal_voltage_v) ** 2




@dataclass(frozen=True)
class Points:
    """P design points: an operating point and every memory's parameters each (memories in arch order)."""

    freq_hz: np.ndarray  # [P]
    voltage_v: np.ndarray  # [P]
    static_power_w: np.ndarray  # [P]
    bandwidth: np.ndarray  # [P, M] bytes per second (inf: no limit)
    read_j: np.ndarray  # [P, M] energy per byte read
    write_j: np.ndarray  # [P, M] energy per byte written
    leakage_w: np.ndarray  # [P, M]
    size_bytes: np.ndarray  # [P, M]

    @classmethod
    def of(cls, operating_points: Sequence[OperatingPoint], memories: Sequence[Sequence[MemoryLevel]]) -> Points:
        """From operating points and, per point, the memory levels (`arch.memories`, or a design's variants).
        Parameters are read once per distinct object (a sweep repeats a few of them over many points)."""
        ops, op_of = _distinct(operating_points, id)
        rows, row_of = _distinct(memories, lambda row: tuple(map(id, row)))

        def grid(attr: str) -> np.ndarray:
            values = [[getattr(m, attr) for m in row] for row in rows]
            return np.array(values, dtype=float).reshape(len(rows), -1)[row_of]

        bandwidth = [[m.bandwidth_bytes_per_s or np.inf for m in row] for row in rows]
        return cls(
            freq_hz=np.array([o.freq_hz for o in ops], dtype=float)[op_of],
            voltage_v=np.array([o.voltage_v for o in ops], dtype=float)[op_of],
            static_power_w=np.array([o.static_power_w for o in ops], dtype=float)[op_of],
            bandwidth=np.array(bandwidth, dtype=float).reshape(len(rows), -1)[row_of],
            read_j=grid("read_energy_per_byte_j"),
            write_j=grid("write_energy_per_byte_j"),
            leakage_w=grid("leakage_w"),
            size_bytes=grid("size_bytes"),
        )

    @classmethod
    def of_arch(cls, arch: Arch, operating_points: Sequence[OperatingPoint]) -> Points:
        """Each of `operating_points` with the architecture's own memories."""
        return cls.of(operating_points, [arch.memories] * len(operating_points))


def _distinct(items: Sequence, key) -> tuple[list, np.ndarray]:
    """The distinct items (by `key`, first-seen order) and each item's index among them."""
    index: dict = {}
    distinct: list = []
    positions = np.empty(len(items), dtype=np.int64)
    for i, item in enumerate(items):
        k = key(item)
        at = index.get(k)
        if at is None:
            at = index[k] = len(distinct)
            distinct.append(item)
        positions[i] = at
    return distinct, positions


@dataclass(frozen=True)
class Priced:
    """Per-op figures of P points ([P, op]; memory energy [P, op, M]) and the shape each point used."""

    cycles: np.ndarray
    latency_s: np.ndarray
    compute_j: np.ndarray
    memory_j: np.ndarray
    static_j: np.ndarray
    bound: np.ndarray  # [P, op] index of the memory whose bandwidth stretches the op, -1: compute-bound
    touched: np.ndarray  # [P, op, M] the op accesses the memory
    weights_bytes: np.ndarray  # [P]
    weights_fit: np.ndarray  # [P] bool
    arena_fits: np.ndarray  # [P] bool

    def totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int | str, np.ndarray]]:
        """(cycles, latency_s, energy_j, breakdown) per point; see `breakdown_totals`."""
        breakdown = breakdown_totals(self.compute_j, self.memory_j, self.static_j, self.touched)
        energy = np.asarray(sum(np.nan_to_num(v) for v in breakdown.values()))
        return self.cycles.sum(axis=1), self.latency_s.sum(axis=1), energy, breakdown




def price(shapes: Sequence[GraphShape], group: np.ndarray, points: Points, arena_bytes: int | np.ndarray) -> Priced:
    """Price P points: point p uses `shapes[group[p]]` at `points[p]` (see the module docstring); `arena_bytes`
    is one arena for all, or one per point (a kernel library's scratch makes it depend on the compute units)."""
    def stacked(attr: str) -> np.ndarray:
        return np.stack([getattr(s, attr) for s in shapes])[group]

    compute, post, dyn = stacked("compute_cycles"), stacked("post_cycles"), stacked("dynamic_j")  # [P, op]
    per_cycle, nominal = stacked("dynamic_per_cycle_j"), stacked("nominal_voltage_v")
    reads, writes, touched = stacked("reads"), stacked("writes"), stacked("touched")  # [P, op, M]
    f = points.freq_hz[:, None]
    n_mem = reads.shape[2]
    if n_mem:
        per_memory = (reads + writes) / points.bandwidth[:, None, :] * f[:, :, None]
        slowest = per_memory.argmax(axis=2)
        mem_cycles = np.take_along_axis(per_memory, slowest[:, :, None], axis=2)[:, :, 0]
    else:
        slowest, mem_cycles = np.zeros(compute.shape, dtype=np.int64), np.zeros(compute.shape)
    bound = np.where(mem_cycles > compute, slowest, -1)
    cycles = np.maximum(compute, mem_cycles) + post
    latency = cycles / f
    compute_j = (dyn + cycles * per_cycle) * dynamic_scale(points.voltage_v[:, None], nominal)
    memory_j = reads * points.read_j[:, None, :] + writes * points.write_j[:, None, :]
    static_w = points.static_power_w + points.leakage_w.sum(axis=1)
    rows = np.arange(len(group))
    weights_bytes = np.array([s.stored_weight_bytes for s in shapes])[group]
    weights_mem = np.array([s.weights_memory for s in shapes], dtype=np.int64)[group]
    arena_mem = np.array([s.arena_memory for s in shapes], dtype=np.int64)[group]
    return Priced(
        cycles=cycles,
        latency_s=latency,
        compute_j=compute_j,
        memory_j=memory_j,
        static_j=static_w[:, None] * latency,
        bound=bound,
        touched=touched,
        weights_bytes=weights_bytes,
        weights_fit=weights_bytes <= points.size_bytes[rows, weights_mem],
        arena_fits=arena_bytes <= points.size_bytes[rows, arena_mem],
    )
