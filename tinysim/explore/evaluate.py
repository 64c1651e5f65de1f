"""Evaluate design points on one workload: the engine runs once, then points are priced in bulk.

`Evaluator(space, workload).evaluate(points)` returns one `ResultRow` per point. The graph's
structure on each distinct set of compute units (`cost.shape.graph_shape`, with the memories too
where a kind's structure reads them) is computed once, and all points are priced together by the
one pricing formula (`cost.price`); `exact=True` instead prices each point on its own through
`tinysim.pipeline`, the path `tinysim run` takes (the tests check the two give identical rows). A point
whose architecture does not parse, or that its cost model cannot price (an IMC layer that does not fit the arrays, an op no unit runs), is an
'invalid' row with the one-line reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.arch import MemoryLevel, OperatingPoint
from tinysim.cost.area import arch_area_m2
from tinysim.cost.price import Points, average_power_w, price
from tinysim.cost.shape import GraphShape, graph_shape, reads_memories
from tinysim.errors import TinysimError
from tinysim.explore.design import DesignSpace
from tinysim.explore.store import ResultRow
from tinysim.pipeline import WorkloadRun, evaluate, run_workload, with_library_scratch

__all__ = ["Evaluator"]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


@dataclass(frozen=True)
class _Design:
    """What every point with the same values of the architecture's axes (operating point aside) shares."""

    parts: dict  # parsed block -> compute unit / memory level / power states
    shape: GraphShape | TinysimError  # the graph on its compute units, or why it cannot be priced
    memories: tuple[MemoryLevel, ...]  # the arch's memory levels with the design's variants
    sleep_w: float
    arena_bytes: int  # the TFLM arena with the scratch of the kernel library each op runs with
    area_m2: float | None = None  # the design's die area; None when the arch names no technology


class Evaluator:
    """Prices design points of `space` on one workload file (results keyed by its stem)."""

    def __init__(self, space: DesignSpace, workload: str | Path, run: WorkloadRun | None = None) -> None:
        """`run`: the workload already run (`run_workload(workload, seed=0)`, what None runs here)."""
        self.space = space
        self.workload = Path(workload).stem
        self.run = run_workload(workload, seed=0) if run is None else run
        self.graph, self.events, self.arena_bytes = self.run.graph, self.run.events, self.run.arena_bytes
        self._needs_memories: dict[tuple, bool] = {}  # by set of compute units
        self._structures: dict[tuple, GraphShape | TinysimError] = {}
        self._designs: dict[tuple, _Design | TinysimError] = {}  # by the values of every block's axes
        self._points: dict[str, OperatingPoint] = {}
        self._arenas: dict[tuple, int] = {}
        self._paths = tuple(path for paths in space.blocks.values() for path in paths)
        spec = space.spec
        self.rate_hz, self.deadline_s = spec.rate_hz, spec.deadline_s

    def evaluate(self, points: Sequence[tuple[str, Mapping[str, Any]]], *, exact: bool = False) -> list[ResultRow]:
        """One row per (point_id, point), in order."""
        rows: list[ResultRow | None] = [None] * len(points)
        fast: list[tuple[int, _Design, GraphShape]] = []
        for i, (pid, point) in enumerate(points):
            design = self._design(point)
            if isinstance(design, TinysimError):
                rows[i] = ResultRow(pid, self.workload, "invalid", _one_line(design))
            elif exact:
                rows[i] = self._exact(pid, point, design.parts)
            elif isinstance(design.shape, TinysimError):
                rows[i] = ResultRow(pid, self.workload, "invalid", _one_line(design.shape))
            else:
                fast.append((i, design, design.shape))
        if fast:
            for (i, _, _), row in zip(fast, self._vectorised(points, fast)):
                rows[i] = row
        return rows  # type: ignore[return-value]

    def _design(self, point: Mapping[str, Any]) -> _Design | TinysimError:
        key = tuple(point[path] for path in self._paths)
        design = self._designs.get(key)
        if design is None:
            design = self._designs[key] = self._new_design(point)
        return design

    def _new_design(self, point: Mapping[str, Any]) -> _Design | TinysimError:
        parts = {}
        for block in self.space.blocks:
            part = self.space.variant(block, point)
            if isinstance(part, TinysimError):
                return part
            parts[block] = part
        base = self.space.base
        memories = tuple(parts.get(("memories", m.name), m) for m in base.memories)
        states = parts.get(("power_states",))
        sleep_w = (base if states is None else dataclasses.replace(base, power_states=states)).sleep_power_w
        try:
            area_m2 = arch_area_m2(self.space.compose(parts))
        except TinysimError as exc:
            return exc
        return _Design(parts, self._structure(parts), memories, sleep_w, self._arena(parts), area_m2)

    def _structure(self, parts: dict) -> GraphShape | TinysimError:
        """The graph's structure on the point's compute units (and memories, where a kind's structure reads
        them), cached; the error for units that cannot price the workload."""
        key = tuple((b, id(p)) for b, p in parts.items() if b[0] == "compute")
        try:
            if key not in self._needs_memories:
                self._needs_memories[key] = reads_memories(self.space.compose(parts).compute)
            if self._needs_memories[key]:
                key += tuple((b, id(p)) for b, p in parts.items() if b[0] == "memories")
            if key not in self._structures:
                self._structures[key] = graph_shape(self.graph, self.events, self.space.compose(parts))
        except TinysimError as exc:
            self._structures[key] = exc
        return self._structures[key]

    def _arena(self, parts: dict) -> int:
        """The run's arena on the point's compute units (their kernel libraries' scratch), cached."""
        key = tuple((b, id(p)) for b, p in parts.items() if b[0] == "compute")
        if key not in self._arenas:
            try:
                self._arenas[key] = with_library_scratch(self.space.compose(parts), self.run).arena_bytes
            except TinysimError:  # the structure reports why this design cannot be priced
                self._arenas[key] = self.arena_bytes
        return self._arenas[key]

    def _exact(self, pid: str, point: Mapping[str, Any], parts: dict) -> ResultRow:
        try:
            arch = self.space.compose(parts)
            result = evaluate(arch, self.run, operating_point=self.space.operating_point_name(point)).result
        except TinysimError as exc:
            return ResultRow(pid, self.workload, "invalid", _one_line(exc))
        average = self._average_w(np.array([result.energy_j]), np.array([result.latency_s]),
                                  np.array([result.sleep_power_w]))[0]
        return self._row(pid, result.operating_point, result.latency_s, result.energy_j, average, result.cycles,
                         result.weights_bytes, result.weights_fit and result.arena_fits, result.energy_breakdown_j(),
                         result.arena_bytes, result.area_m2)

    def _average_w(self, energy: np.ndarray, latency: np.ndarray, sleep_w: np.ndarray) -> list[float | None]:
        """Average power at the sweep's rate; None without a rate or where an inference outlasts the period."""
        if self.rate_hz is None:
            return [None] * len(energy)
        average = average_power_w(energy, latency, sleep_w, self.rate_hz)
        return [a if ok else None for a, ok in zip(average.tolist(), (latency <= 1.0 / self.rate_hz).tolist())]

    def _row(self, pid, op_name, latency, energy, average, cycles, weights, fits, breakdown, arena,
             area_m2=None) -> ResultRow:
        meets = None if self.deadline_s is None else int(latency <= self.deadline_s)
        return ResultRow(pid, self.workload, "ok", None, op_name, latency, energy, average, cycles,
                         arena, int(weights), int(bool(fits)), meets, area_m2, breakdown)

    def _vectorised(self, points, fast: list[tuple[int, _Design, GraphShape]]) -> list[ResultRow]:
        names = [m.name for m in self.space.base.memories]
        groups: dict[int, int] = {}
        structures: list[GraphShape] = []
        group = np.empty(len(fast), dtype=np.int64)
        op_names, ops, mems = [], [], []
        for j, (i, design, shape) in enumerate(fast):
            g = groups.get(id(shape))
            if g is None:
                g = groups[id(shape)] = len(structures)
                structures.append(shape)
            group[j] = g
            name = self.space.operating_point_name(points[i][1])
            op_names.append(name)
            ops.append(self._operating_point(name))
            mems.append(design.memories)
        arenas = np.array([design.arena_bytes for _, design, _ in fast], dtype=np.int64)
        priced = price(structures, group, Points.of(ops, mems), arenas)
        cycles, latency, energy, breakdown = priced.totals()
        average = self._average_w(energy, latency, np.array([design.sleep_w for _, design, _ in fast]))
        causes = [names[k] if isinstance(k, int) else k for k in breakdown]
        values = list(zip(*(v.tolist() for v in breakdown.values())))
        if any(np.isnan(v).any() for v in breakdown.values()):  # NaN: a memory unused by this point's group
            by_cause = [{c: x for c, x in zip(causes, row) if not math.isnan(x)} for row in values]
        else:
            by_cause = [dict(zip(causes, row)) for row in values]
        cyc, lat, en = cycles.tolist(), latency.tolist(), energy.tolist()
        wb, fits = priced.weights_bytes.tolist(), (priced.weights_fit & priced.arena_fits).tolist()
        return [
            self._row(points[i][0], op_names[j], lat[j], en[j], average[j], cyc[j], wb[j], fits[j], by_cause[j],
                      design.arena_bytes, design.area_m2)
            for j, (i, design, _) in enumerate(fast)
        ]

    def _operating_point(self, name: str) -> OperatingPoint:
        point = self._points.get(name)
        if point is None:
            point = self._points[name] = self.space.base.operating_point(name)
        return point
