"""Evaluate design points on one workload: the engine runs once, then points are priced in bulk.

`Evaluator(space, workload).evaluate(points)` returns one `ResultRow` per point. The graph's
structure on each distinct set of compute units (`cost.shape.graph_shape`, with the memories too
where a kind's structure reads them) is computed once, and all points are priced together by the
one pricing formula (`cost.price`); `exact=True` instead prices each point on its own through
`tinysim.pipeline`, the path `tinysim run` takes (the tests check the two give identical rows). A point whose architecture does not parse, or that its cost
model cannot price (an IMC layer that does not fit the arrays, an op no unit runs), is an
'invalid' row with the one-line reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.cost.price import Points, average_power_w, price
from tinysim.cost.shape import GraphShape, graph_shape, reads_memories
from tinysim.errors import TinysimError
from tinysim.explore.design import DesignSpace
from tinysim.explore.store import ResultRow
from tinysim.pipeline import evaluate, run_workload

__all__ = ["Evaluator"]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


class Evaluator:
    """Prices design points of `space` on one workload file (results keyed by its stem)."""

    def __init__(self, space: DesignSpace, workload: str | Path) -> None:
        self.space = space
        self.workload = Path(workload).stem
        self.run = run_workload(workload, seed=0)
        self.graph, self.events, self.arena_bytes = self.run.graph, self.run.events, self.run.arena_bytes
        self._needs_memories: dict[tuple, bool] = {}  # by set of compute units
        self._structures: dict[tuple, GraphShape | TinysimError] = {}
        self._sleep: dict[int, float] = {}
        spec = space.spec
        self.rate_hz, self.deadline_s = spec.rate_hz, spec.deadline_s

    def evaluate(self, points: Sequence[tuple[str, Mapping[str, Any]]], *, exact: bool = False) -> list[ResultRow]:
        """One row per (point_id, point), in order."""
        rows: list[ResultRow | None] = [None] * len(points)
        fast: list[tuple[int, Any, dict]] = []
        for i, (pid, point) in enumerate(points):
            parts = {}
            for block in self.space.blocks:
                part = self.space.variant(block, point)
                if isinstance(part, TinysimError):
                    rows[i] = ResultRow(pid, self.workload, "invalid", _one_line(part))
                    break
                parts[block] = part
            else:
                shape = None if exact else self._structure(parts)
                if shape is None:
                    rows[i] = self._exact(pid, point, parts)
                elif isinstance(shape, TinysimError):
                    rows[i] = ResultRow(pid, self.workload, "invalid", _one_line(shape))
                else:
                    fast.append((i, shape, parts))
        if fast:
            for i, row in zip((f[0] for f in fast), self._vectorised(points, fast)):
                rows[i] = row
        return rows  # type: ignore[return-value]

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

    def _exact(self, pid: str, point: Mapping[str, Any], parts: dict) -> ResultRow:
        try:
            arch = self.space.compose(parts)
            result = evaluate(arch, self.run, operating_point=self.space.operating_point_name(point)).result
        except TinysimError as exc:
            return ResultRow(pid, self.workload, "invalid", _one_line(exc))
        return self._row(
            pid,
            result.operating_point,
            result.latency_s,
            result.energy_j,
            result.cycles,
            result.weights_bytes,
            result.weights_fit and result.arena_fits,
            result.energy_breakdown_j(),
            result.sleep_power_w,
        )

    def _row(self, pid, op_name, latency, energy, cycles, weights, fits, breakdown, sleep_w) -> ResultRow:
        average = None
        if self.rate_hz is not None and latency <= 1.0 / self.rate_hz:
            average = average_power_w(energy, latency, sleep_w, self.rate_hz)
        meets = None if self.deadline_s is None else int(latency <= self.deadline_s)
        return ResultRow(
            pid,
            self.workload,
            "ok",
            None,
            op_name,
            latency,
            energy,
            average,
            cycles,
            self.arena_bytes,
            int(weights),
            int(bool(fits)),
            meets,
            None,
            breakdown,
        )

    def _vectorised(self, points, fast: list[tuple[int, Any, dict]]) -> list[ResultRow]:
        base = self.space.base
        names = [m.name for m in base.memories]
        groups: dict[int, int] = {}
        structures: list[GraphShape] = []
        group = np.empty(len(fast), dtype=np.int64)
        op_names, ops, mems, sleeps = [], [], [], []
        for j, (i, shape, parts) in enumerate(fast):
            if id(shape) not in groups:
                groups[id(shape)] = len(structures)
                structures.append(shape)
            group[j] = groups[id(shape)]
            name = self.space.operating_point_name(points[i][1])
            op_names.append(name)
            ops.append(base.operating_point(name))
            mems.append(tuple(parts.get(("memories", m.name), m) for m in base.memories))
            sleeps.append(self._sleep_w(parts.get(("power_states",))))
        priced = price(structures, group, Points.of(ops, mems), self.arena_bytes)
        cycles, latency, energy, breakdown = priced.totals()
        cyc, lat, en = cycles.tolist(), latency.tolist(), energy.tolist()
        cols: dict[str, list[float]] = {(names[k] if isinstance(k, int) else k): v.tolist() for k, v in breakdown.items()}
        wb, fits = priced.weights_bytes.tolist(), (priced.weights_fit & priced.arena_fits).tolist()
        rows = []
        for j, (i, _, _) in enumerate(fast):
            by_cause = {k: v[j] for k, v in cols.items() if v[j] == v[j]}  # NaN: memory unused by this group
            rows.append(
                self._row(points[i][0], op_names[j], lat[j], en[j], cyc[j], wb[j], fits[j], by_cause, sleeps[j])
            )
        return rows

    def _sleep_w(self, states) -> float:
        key = id(states)
        if key not in self._sleep:
            arch = self.space.base if states is None else dataclasses.replace(self.space.base, power_states=states)
            self._sleep[key] = arch.sleep_power_w
        return self._sleep[key]
