"""Evaluate design points on one workload: the engine runs once, then points are priced in bulk.

`Evaluator(space, workload).evaluate(points)` returns one `ResultRow` per point. Points whose
compute units all have a vectorised structure (`vector.STRUCTURES`) are priced together with
numpy; the others go through `simulate()` one by one (`exact=True` sends every point there, which
is what the tests compare against). A point whose architecture does not parse, or that its cost
model cannot price (an IMC layer that does not fit the arrays, an op no unit runs), is an
'invalid' row with the one-line reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.cost.simulate import simulate
from tinysim.engine import plan_arena, random_input, run_graph
from tinysim.errors import TinysimError
from tinysim.explore.design import DesignSpace
from tinysim.explore.store import ResultRow
from tinysim.explore.vector import STRUCTURES, Structure, price_points, structure
from tinysim.workload import load_workload

__all__ = ["Evaluator"]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


class Evaluator:
    """Prices design points of `space` on one workload file (results keyed by its stem)."""

    def __init__(self, space: DesignSpace, workload: str | Path) -> None:
        self.space = space
        self.workload = Path(workload).stem
        self.graph = load_workload(workload)
        self.events = list(run_graph(self.graph, random_input(self.graph, 0)).events)
        self.arena_bytes = plan_arena(self.graph).peak_bytes
        self._needs_memories: dict[tuple, bool] = {}  # by set of compute units
        self._structures: dict[tuple, Structure | TinysimError | None] = {}
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
                shape = None if exact else self._structure(point, parts)
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

    def _structure(self, point: Mapping[str, Any], parts: dict) -> Structure | TinysimError | None:
        """The structure of the point's compute units (and memories, where a kind's depends on them), cached;
        None for a kind without one, the error for units that cannot price the workload."""
        key = tuple((b, id(p)) for b, p in parts.items() if b[0] == "compute")
        if key not in self._needs_memories:
            units = self.space.compose(parts).compute
            self._needs_memories[key] = any(STRUCTURES.get(u.kind, (None, False))[1] for u in units)
        if self._needs_memories[key]:
            key += tuple((b, id(p)) for b, p in parts.items() if b[0] == "memories")
        if key not in self._structures:
            try:
                self._structures[key] = structure(self.graph, self.events, self.space.compose(parts))
            except TinysimError as exc:
                self._structures[key] = exc
        return self._structures[key]

    def _exact(self, pid: str, point: Mapping[str, Any], parts: dict) -> ResultRow:
        try:
            arch = self.space.compose(parts)
            result = simulate(
                arch,
                self.graph,
                self.events,
                operating_point=self.space.operating_point_name(point),
                arena_bytes=self.arena_bytes,
                events_source="engine",
            )
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
            average = (energy + sleep_w * (1.0 / self.rate_hz - latency)) * self.rate_hz
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
        structures: list[Structure] = []
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
        freq = np.array([o.freq_hz for o in ops])
        volt = np.array([o.voltage_v for o in ops])
        static = np.array([o.static_power_w for o in ops])
        memories = {
            "bandwidth": np.array([[m.bandwidth_bytes_per_s or np.inf for m in row] for row in mems]),
            "read": np.array([[m.read_energy_per_byte_j for m in row] for row in mems]),
            "write": np.array([[m.write_energy_per_byte_j for m in row] for row in mems]),
            "leakage": np.array([[m.leakage_w for m in row] for row in mems]),
            "size": np.array([[m.size_bytes for m in row] for row in mems]),
        }
        priced = price_points(structures, group, freq, volt, static, memories, self.arena_bytes, names)
        cols = {k: v.tolist() for k, v in priced.breakdown_j.items()}
        lat, en, cyc = priced.latency_s.tolist(), priced.energy_j.tolist(), priced.cycles.tolist()
        wb, fits = priced.weights_bytes.tolist(), (priced.weights_fit & priced.arena_fits).tolist()
        rows = []
        for j, (i, _, _) in enumerate(fast):
            breakdown = {k: v[j] for k, v in cols.items() if v[j] == v[j]}  # NaN: memory unused by this group
            rows.append(
                self._row(points[i][0], op_names[j], lat[j], en[j], cyc[j], wb[j], fits[j], breakdown, sleeps[j])
            )
        return rows

    def _sleep_w(self, states) -> float:
        key = id(states)
        if key not in self._sleep:
            arch = self.space.base if states is None else dataclasses.replace(self.space.base, power_states=states)
            self._sleep[key] = arch.sleep_power_w
        return self._sleep[key]
