"""The operating-point-free seam between cost kinds and pricing: what each op costs on its unit in
cycles, energy terms at the unit's nominal voltage, and bytes per memory — no frequency, no voltage.

Every compute kind is a module `tinysim/cost/<kind>.py` defining
    KIND = "<kind>"
    structure(op, events, unit, mapping) -> OpShape
and optionally
    map_graph(graph, unit, arch) -> Mapping     the mapping of the whole graph onto the unit, computed once
                                               (e.g. imc array allocation); default `Mapping(graph, arch)`
    STRUCTURE_READS_MEMORIES = True             its structure depends on memory sizes (systolic buffers)
Adding a kind is adding a file. `handoffs` adds the activations copied between units' memories when
consecutive ops run on different units. `graph_shape` assembles the per-op shapes of a graph into arrays that
`cost.price` prices at one operating point or at arrays of design points — the one formula.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping as AbcMapping
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType, ModuleType
from typing import Any

import numpy as np

import tinysim.cost
from tinysim.arch import Arch, ComputeUnit
from tinysim.cost.placement import place
from tinysim.errors import SpecError
from tinysim.events import Events
from tinysim.workload.graph import Graph

__all__ = ["GraphShape", "Mapping", "OpShape", "cost_models", "graph_shape"]

# Modules of tinysim.cost that are not cost models of a compute kind.
_NOT_KINDS = frozenset({"area", "common", "dvfs", "placement", "price", "result", "shape", "simulate", "weights"})


@dataclass(frozen=True)
class OpShape:
    """One op on its unit with no operating point. Priced (cost.price) as
        cycles  = max(compute_cycles, max over memories of bytes_m / bandwidth_m x f) + post_cycles
        energy  = (dynamic_j + cycles x dynamic_per_cycle_j) x (V / nominal_voltage_v)^2
                + reads_m x read energy per byte_m + writes_m x write energy per byte_m
                + static power x latency."""

    compute_cycles: float  # before the memory roofline
    post_cycles: float  # after it (fixed per-op overhead that does not overlap transfers)
    dynamic_j: float  # dynamic energy at nominal voltage independent of the cycle count
    dynamic_per_cycle_j: float  # dynamic energy per (roofline-stretched) cycle at nominal voltage
    nominal_voltage_v: float
    reads: dict[str, int]  # bytes read per memory level
    writes: dict[str, int]  # bytes written per memory level
    weight_bytes: int = 0  # weight bytes the op fetches as stored (reported per layer where a kind knows it)


@dataclass(frozen=True)
class Mapping:
    """The mapping of a graph onto one compute unit; kinds with a real mapping put it in `per_op`."""

    graph: Graph
    arch: Arch
    per_op: AbcMapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GraphShape:
    """A graph's OpShapes on one set of compute units, as arrays over ops (memory axis in the arch's order)."""

    names: tuple[str, ...]
    op_kinds: tuple[str, ...]
    units: tuple[str, ...]
    macs: np.ndarray  # [op]
    compute_cycles: np.ndarray
    post_cycles: np.ndarray
    dynamic_j: np.ndarray
    dynamic_per_cycle_j: np.ndarray
    nominal_voltage_v: np.ndarray
    weight_bytes: np.ndarray
    reads: np.ndarray  # [op, memory] bytes
    writes: np.ndarray
    touched: np.ndarray  # [op, memory] bool: the op reads or writes that memory (its energy rows)
    memories: tuple[str, ...]  # the memory axis
    stored_weight_bytes: int  # constants as stored (see cost.weights)
    weights_encoding: str
    weights_memory: int  # index into `memories`
    arena_memory: int

    @property
    def touched_memories(self) -> np.ndarray:
        """[memory] bool: some op accesses it (the energy breakdown's memory keys)."""
        return np.asarray(self.touched.any(axis=0))


def handoffs(graph: Graph, units: Sequence[ComputeUnit]) -> list[list[tuple[str, str, int]]]:
    """Per op, the activations it needs moved from another unit's activation memory into its own, as
    (from memory, to memory, bytes): a tensor written by an op on one unit and read by an op on a unit
    whose `activations_in` differs is copied once per destination memory (e.g. IMC activation SRAM ->
    host SRAM when the host takes the softmax), the copy charged to the first op that reads it (its bytes
    join that op's memory traffic, so the roofline and access energy price it)."""
    made_in: dict[int, str] = {}
    copied: set[tuple[int, str]] = set()
    out: list[list[tuple[str, str, int]]] = []
    for op, unit in zip(graph.ops, units):
        here, moves = unit.activations_in, []
        for t in op.inputs:
            if t >= 0 and t in made_in and made_in[t] != here and (t, here) not in copied:
                copied.add((t, here))
                moves.append((made_in[t], here, graph.tensors[t].nbytes))
        out.append(moves)
        for t in op.outputs:
            made_in[t] = here
    return out


@cache
def cost_models() -> AbcMapping[str, ModuleType]:
    """`{kind: module}` for every `tinysim/cost/<kind>.py` that defines KIND and structure."""
    models: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(tinysim.cost.__path__):
        if info.name not in _NOT_KINDS and not info.name.startswith("_"):
            module = importlib.import_module(f"tinysim.cost.{info.name}")
            if hasattr(module, "KIND") and hasattr(module, "structure"):
                models[module.KIND] = module
    return MappingProxyType(models)


def model_of(unit: ComputeUnit) -> ModuleType:
    model = cost_models().get(unit.kind)
    if model is None:
        raise SpecError(f"no cost model for compute kind '{unit.kind}'", field=f"compute.{unit.name}.kind")
    return model


def reads_memories(units: Sequence[ComputeUnit]) -> bool:
    """Whether the structure of these units depends on the memories' parameters (then a sweep groups by them)."""
    return any(getattr(model_of(u), "STRUCTURE_READS_MEMORIES", False) for u in units)


def graph_shape(graph: Graph, events: Sequence[Events], arch: Arch) -> GraphShape:
    """Map `graph` onto `arch`'s units (once per unit) and collect every op's OpShape.

    Raises what a cost model raises for a graph it cannot price (e.g. IMC layers that do not fit).
    """
    from tinysim.cost.weights import stored_weight_bytes, weights_encoding

    if len(events) != len(graph.ops):
        raise ValueError(f"expected {len(graph.ops)} event records, got {len(events)}")
    units = place(graph, arch)
    mappings: dict[int, Mapping] = {}
    for unit in units:
        if id(unit) not in mappings:
            map_graph = getattr(model_of(unit), "map_graph", None)
            mappings[id(unit)] = map_graph(graph, unit, arch) if map_graph else Mapping(graph, arch)
    memories = tuple(m.name for m in arch.memories)
    index = {name: i for i, name in enumerate(memories)}
    n, k = len(graph.ops), len(memories)
    reads, writes, touched = np.zeros((n, k)), np.zeros((n, k)), np.zeros((n, k), dtype=bool)
    rows = np.zeros((7, n))
    transfers = handoffs(graph, units)
    for i, (op, ev, unit) in enumerate(zip(graph.ops, events, units)):
        s = model_of(unit).structure(op, ev, unit, mappings[id(unit)])
        rows[:, i] = (ev.macs, s.compute_cycles, s.post_cycles, s.dynamic_j, s.dynamic_per_cycle_j,
                      s.nominal_voltage_v, s.weight_bytes)
        moved = [({src: nbytes}, {dst: nbytes}) for src, dst, nbytes in transfers[i]]
        for table, out in [(s.reads, reads), (s.writes, writes), *((r, reads) for r, _ in moved),
                           *((w, writes) for _, w in moved)]:  # fmt: skip
            for name, nbytes in table.items():
                out[i, index[name]] += nbytes
                touched[i, index[name]] = True
    first = units[0] if units else arch.compute[0]
    return GraphShape(
        names=tuple(op.name for op in graph.ops),
        op_kinds=tuple(op.kind.value for op in graph.ops),
        units=tuple(u.name for u in units),
        macs=rows[0],
        compute_cycles=rows[1],
        post_cycles=rows[2],
        dynamic_j=rows[3],
        dynamic_per_cycle_j=rows[4],
        nominal_voltage_v=rows[5],
        weight_bytes=rows[6],
        reads=reads,
        writes=writes,
        touched=touched,
        memories=memories,
        stored_weight_bytes=stored_weight_bytes(graph, units),
        weights_encoding=weights_encoding(graph, units),
        weights_memory=index[first.weights_in],
        arena_memory=index[first.activations_in],
    )
