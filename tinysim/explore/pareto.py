"""Pareto fronts of sweep results: the design points no other point beats on every objective.

All objectives are minimised. A point p is *dominated* when some q is no worse on every objective
and strictly better on at least one; the front is the set of points nobody dominates. Points with
identical objective vectors do not dominate each other, so duplicates are all kept.

Two kernels over an (n, k) float array:
- `front_2d`: O(n log n) — sort by (x, y), one sweep keeping the best y seen so far;
- `front_nd`: any k >= 2 (used for three objectives) — sort lexicographically (a dominator always
  sorts earlier), then keep each point that no earlier front member dominates (dominance is
  transitive, so the front found so far is enough), a block of points at a time: O(n·f), f = front size.

`front_rows` applies them to result rows (mappings of column name → value, as read from a sweep's
SQLite store): 'ok' rows of one workload, optionally only those meeting constraints, and only rows
where every objective has a finite value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tinysim.errors import TinysimError

__all__ = [
    "CONSTRAINTS",
    "OBJECTIVE_ALIASES",
    "column_value",
    "front_2d",
    "front_indices",
    "front_nd",
    "front_rows",
    "objective_values",
    "resolve_objective",
    "rows_for_front",
]

# Short names accepted on the command line and in a sweep's `objectives:` → store columns (SI units).
OBJECTIVE_ALIASES = {
    "latency": "latency_s",
    "energy": "energy_j",
    "power": "average_power_w",
    "average_power": "average_power_w",
    "cycles": "cycles",
    "sram": "arena_bytes",
    "peak_sram": "arena_bytes",
    "arena": "arena_bytes",
    "peak_sram_bytes": "arena_bytes",  # the store column before schema version 3
    "weights": "weights_bytes",
}

# Constraint columns of the store: a row passes unless the value is 0 (NULL means "not applicable",
# e.g. meets_deadline when the sweep set no deadline).
CONSTRAINTS = ("fits", "meets_deadline")


def resolve_objective(name: str) -> str:
    """'latency' → 'latency_s'; a column name (or a dotted parameter path) is returned as is."""
    return OBJECTIVE_ALIASES.get(name.strip(), name.strip())


def column_value(row: Mapping[str, Any], name: str) -> Any:
    """A result column, else a design parameter (`row['params'][name]`), else None."""
    if name in row:
        return row[name]
    params = row.get("params")
    if isinstance(params, Mapping):
        return params.get(name)
    return None


def _as_float(value: Any) -> float:
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def objective_values(rows: Sequence[Mapping[str, Any]], objectives: Sequence[str]) -> np.ndarray:
    """(len(rows), len(objectives)) float array; missing or non-numeric values are NaN."""
    out = np.full((len(rows), len(objectives)), np.nan)
    for i, row in enumerate(rows):
        for j, name in enumerate(objectives):
            out[i, j] = _as_float(column_value(row, name))
    return out


def _check(values: np.ndarray, k: int | None = None) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or (k is not None and values.shape[1] != k) or values.shape[1] < 1:
        raise ValueError(f"expected an (n, {k or 'k'}) array of objective values, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("objective values must be finite (drop rows with missing values first)")
    return values


def front_2d(values: np.ndarray) -> np.ndarray:
    """Sorted indices of the non-dominated rows of an (n, 2) array (both columns minimised)."""
    values = _check(values, 2)
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((values[:, 1], values[:, 0]))  # by x, then y
    x, y = values[order, 0], values[order, 1]
    starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])  # first index of each run of equal x
    group_min = np.minimum.reduceat(y, starts)  # y is ascending in a group, but stay explicit
    best_before = np.r_[np.inf, np.minimum.accumulate(group_min)[:-1]]  # best y at strictly smaller x
    group_of = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
    keep = (y == group_min[group_of]) & (group_min[group_of] < best_before[group_of])
    return np.sort(order[keep])


def _dominated_by(front: np.ndarray, points: np.ndarray) -> np.ndarray:
    """For each of `points` (m, k): does some row of `front` (f, k) dominate it?"""
    le = np.ones((len(front), len(points)), dtype=bool)
    lt = np.zeros_like(le)
    for j in range(front.shape[1]):  # a few objectives: one (f, m) comparison each
        a, b = front[:, j, None], points[None, :, j]
        le &= a <= b
        lt |= a < b
    return (le & lt).any(axis=0)  # type: ignore[return-value]  # numpy stubs: any(axis=int) may be a scalar


def front_nd(values: np.ndarray, *, block: int = 256) -> np.ndarray:
    """Sorted indices of the non-dominated rows of an (n, k) array, any k >= 1 (all minimised).

    Points go in lexicographic order, a block at a time: a block's points beaten by the front so far
    are dropped (vectorised), then the survivors are compared all-pairs among themselves. A point
    beaten inside its block by a point the front beats is beaten by the front too (transitivity),
    so both steps together are exact. `block` only trades Python calls against array sizes.
    """
    values = _check(values)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort(values.T[::-1])  # lexicographic by column 0, then 1, ...
    members = np.zeros(0, dtype=np.int64)
    start, block = 0, max(int(block), 1)
    while start < len(order):
        chunk = order[start : start + block]
        start += block
        if len(members):
            chunk = chunk[~_dominated_by(values[members], values[chunk])]
        if len(chunk):
            chunk = chunk[~_dominated_by(values[chunk], values[chunk])]  # a point never dominates itself
            members = np.concatenate([members, chunk])
    return np.sort(members)


def front_indices(values: np.ndarray) -> np.ndarray:
    """Non-dominated row indices: the O(n log n) kernel for two objectives, `front_nd` otherwise."""
    values = np.asarray(values, dtype=np.float64)
    return front_2d(values) if values.ndim == 2 and values.shape[1] == 2 else front_nd(values)


def _passes(row: Mapping[str, Any], constraints: Sequence[str]) -> bool:
    for name in constraints:
        value = column_value(row, name)
        if value is not None and not value:
            return False
    return True


def rows_for_front(
    rows: Sequence[Mapping[str, Any]],
    objectives: Sequence[str],
    *,
    workload: str | None = None,
    constraints: Sequence[str] = (),
) -> list[Mapping[str, Any]]:
    """The candidates: 'ok' rows (of `workload` if given) meeting `constraints`, every objective finite."""
    picked = [
        r
        for r in rows
        if r.get("status") == "ok" and (workload is None or r.get("workload") == workload) and _passes(r, constraints)
    ]
    if not picked:
        return []
    finite = np.isfinite(objective_values(picked, objectives)).all(axis=1)
    return [r for r, ok in zip(picked, finite) if ok]


def front_rows(
    rows: Sequence[Mapping[str, Any]],
    objectives: Sequence[str],
    *,
    workload: str | None = None,
    constraints: Sequence[str] = (),
) -> list[Mapping[str, Any]]:
    """The Pareto-front rows over `objectives` (2 or 3 column names or aliases), sorted by the first.

    Only 'ok' rows count, of one workload when given (a front across workloads rarely means
    anything: pass it), meeting every constraint column in `constraints` (see `CONSTRAINTS`).
    """
    names = [resolve_objective(o) for o in objectives]
    if not 2 <= len(names) <= 3:
        raise TinysimError(f"expected two or three objectives, got {len(names)}", field="objectives")
    if len(set(names)) != len(names):
        raise TinysimError(f"objectives repeat: {', '.join(objectives)}", field="objectives")
    candidates = rows_for_front(rows, names, workload=workload, constraints=constraints)
    if not candidates:
        return []
    values = objective_values(candidates, names)
    keep = front_indices(values)
    order = keep[np.lexsort(values[keep].T[::-1])]
    return [candidates[i] for i in order]
