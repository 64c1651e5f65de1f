"""Price a whole inference at one operating point (or at each of an architecture's points, for DVFS):
the graph's OpShapes (cost.shape) through the one pricing formula (cost.price), as a SimResult."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinysim.arch import Arch, OperatingPoint
from tinysim.cost.area import arch_area_m2
from tinysim.cost.price import Points, Priced, price
from tinysim.cost.result import LayerCost, SimResult
from tinysim.cost.shape import GraphShape, cost_models, graph_shape
from tinysim.events import Events
from tinysim.workload.graph import Graph

__all__ = ["cost_models", "naive_arena_bytes", "results_at", "simulate", "simulate_points"]


def simulate(
    arch: Arch,
    graph: Graph,
    events: Sequence[Events],
    *,
    operating_point: str | None = None,
    arena_bytes: int | None = None,
    events_source: str = "shapes",
) -> SimResult:
    """Price `events` (one per op of `graph`) on `arch` at the named operating point (default its first).
    `arena_bytes` defaults to a planner-free upper bound; `tinysim.pipeline.evaluate` plans it as TFLM does."""
    shape = graph_shape(graph, events, arch)
    point = arch.operating_point(operating_point)
    return results_at(arch, graph, shape, [point], _arena(graph, arena_bytes), events_source)[0]


def simulate_points(arch: Arch, graph: Graph, events: Sequence[Events], *, arena_bytes: int | None = None,
                    events_source: str = "shapes") -> tuple[SimResult, ...]:
    """Price at every operating point of `arch` (its order): one structure, one array pricing."""
    shape = graph_shape(graph, events, arch)
    return results_at(arch, graph, shape, arch.operating_points, _arena(graph, arena_bytes), events_source)


def results_at(arch: Arch, graph: Graph, shape: GraphShape, points: Sequence[OperatingPoint], arena_bytes: int,
               events_source: str) -> tuple[SimResult, ...]:
    """A SimResult per operating point in `points`, from one GraphShape priced over all of them at once."""
    priced = price([shape], np.zeros(len(points), dtype=np.int64), Points.of_arch(arch, points), arena_bytes)
    weights_mem = arch.memories[shape.weights_memory]
    arena_mem = arch.memories[shape.arena_memory]
    area_m2 = arch_area_m2(arch)
    return tuple(
        SimResult(
            arch=arch.name,
            workload=graph.name,
            operating_point=point.name,
            voltage_v=point.voltage_v,
            freq_hz=point.freq_hz,
            layers=_layers(shape, priced, p),
            sleep_power_w=arch.sleep_power_w,
            weights_bytes=shape.stored_weight_bytes,
            weights_encoding=shape.weights_encoding,
            weights_memory=weights_mem.name,
            weights_capacity_bytes=weights_mem.size_bytes,
            arena_bytes=arena_bytes,
            arena_memory=arena_mem.name,
            arena_capacity_bytes=arena_mem.size_bytes,
            events_source=events_source,
            memory_order=shape.memories,
            area_m2=area_m2,
        )
        for p, point in enumerate(points)
    )


def _layers(shape: GraphShape, priced: Priced, p: int) -> tuple[LayerCost, ...]:
    cols = {k: getattr(priced, k)[p].tolist() for k in ("cycles", "latency_s", "compute_j", "static_j", "bound")}
    memory_j, touched = priced.memory_j[p].tolist(), priced.touched[p].tolist()
    reads, writes = shape.reads.sum(axis=1).tolist(), shape.writes.sum(axis=1).tolist()
    return tuple(
        LayerCost(
            name=shape.names[i],
            op_kind=shape.op_kinds[i],
            unit=shape.units[i],
            macs=int(shape.macs[i]),
            cycles=cols["cycles"][i],
            latency_s=cols["latency_s"][i],
            compute_energy_j=cols["compute_j"][i],
            memory_energy_j={m: memory_j[i][k] for k, m in enumerate(shape.memories) if touched[i][k]},
            static_energy_j=cols["static_j"][i],
            weight_bytes=int(shape.weight_bytes[i]),
            bytes_read=int(reads[i]),
            bytes_written=int(writes[i]),
            bound="compute" if cols["bound"][i] < 0 else shape.memories[cols["bound"][i]],
        )
        for i in range(len(shape.names))
    )


def _arena(graph: Graph, arena_bytes: int | None) -> int:
    return naive_arena_bytes(graph) if arena_bytes is None else arena_bytes


def naive_arena_bytes(graph: Graph) -> int:
    """Upper bound without a planner: the largest op's live inputs + outputs."""
    peak = 0
    for op in graph.ops:
        live = [t for t in graph.op_inputs(op) if t is not None and not t.is_constant] + graph.op_outputs(op)
        peak = max(peak, sum(t.nbytes for t in live))
    return peak
