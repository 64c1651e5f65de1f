"""A design-space sweep as a report: counts, Pareto fronts, top-N tables and their plots.

Input is what `tinysim.explore.store.read_sweep` returns (meta, points, results) turned into plain
row mappings by `sweep_rows`. `build_report` returns the two documents and the PNGs they reference
(file name → bytes, drawn by `sweep_plots`); the caller writes them side by side. The text (values with
their units, tables, Markdown and HTML, every piece of text from the store escaped) is `sweep_document`'s.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

from tinysim.errors import TinysimError
from tinysim.explore.pareto import CONSTRAINTS, column_value, front_rows, resolve_objective, rows_for_front
from tinysim.report import sweep_plots
from tinysim.report.sweep_document import column_dim, column_label, document_blocks, group_name, to_html, to_markdown

__all__ = [
    "ReportOptions",
    "SweepReport",
    "WorkloadSection",
    "build_report",
    "sweep_rows",
]

DEFAULT_OBJECTIVES = ("latency_s", "energy_j")
_MAX_REASONS = 5
# No figure tinysim writes comes near this (work is bounded at 1e11 MACs, time at 1e10 s); a larger one is a
# damaged file, and would overflow the plots' axis arithmetic (1e308 breaks matplotlib's tick locator).
_MAX_FIGURE = 1e30


@dataclass(frozen=True)
class ReportOptions:
    objectives: tuple[str, ...] = ()  # empty: the sweep's own (meta 'objectives'), else latency and energy
    workloads: tuple[str, ...] = ()  # empty: every workload in the store
    top: int = 10
    constraints: tuple[str, ...] = CONSTRAINTS


@dataclass(frozen=True)
class WorkloadSection:
    """One workload's share of the sweep."""

    workload: str
    rows: int
    ok: int
    invalid: int
    candidates: tuple[Mapping[str, Any], ...]  # ok, meeting the constraints, every objective finite
    excluded: tuple[Mapping[str, Any], ...]  # ok, but failing a constraint or missing an objective
    front: tuple[Mapping[str, Any], ...]  # every Pareto row, sorted by the objectives
    front_groups: tuple[tuple[Mapping[str, Any], ...], ...]  # the front, rows with equal objectives together
    top: tuple[tuple[Mapping[str, Any], ...], ...]  # the best N distinct objective vectors, ties together
    images: Mapping[str, str] = field(default_factory=dict)  # kind → file name


@dataclass(frozen=True)
class SweepReport:
    markdown: str
    html: str
    images: Mapping[str, bytes]  # file name (relative to the report folder) → PNG


def sweep_rows(sweep: Any) -> list[dict[str, Any]]:
    """One mapping per result: the store's columns, `energy_breakdown`, `params` and `point_index`."""
    points = {p.point_id: p for p in sweep.points}
    rows = []
    for result in sweep.results:
        row = asdict(result) if is_dataclass(result) and not isinstance(result, type) else dict(result)
        point = points.get(row["point_id"])
        row["point_index"] = point.point_index if point is not None else None
        row["params"] = point.params if point is not None else {}
        rows.append(_checked(row))
    return rows


def _checked(row: dict[str, Any]) -> dict[str, Any]:
    """The row if every value has the type and range `tinysim sweep` writes; a damaged (edited, truncated)
    results file is refused in one line naming the row and the field, not drawn with nonsense or crashing."""

    def bad(name: str, expected: str) -> TinysimError:
        where = f"point {row.get('point_id')!r:.40}, workload {row.get('workload')!r:.40}"
        return TinysimError(f"damaged results file: {where}: {name}: expected {expected}, got {row.get(name)!r:.60}")

    def number(value: Any) -> bool:
        return (
            value is None
            or isinstance(value, (int, float))
            and not isinstance(value, bool)
            and 0 <= value <= _MAX_FIGURE
        )

    if row.get("status") not in ("ok", "invalid"):
        raise bad("status", "'ok' or 'invalid'")
    for name in ("workload", "reason", "operating_point"):
        if row.get(name) is not None and not isinstance(row[name], str):
            raise bad(name, "text")
    for name in ("latency_s", "energy_j", "average_power_w", "cycles", "arena_bytes", "weights_bytes", "area_m2"):
        if not number(row.get(name)):
            raise bad(name, f"a number in 0..{_MAX_FIGURE:g}")
    for name in ("fits", "meets_deadline"):
        if row.get(name) not in (None, 0, 1):
            raise bad(name, "0 or 1")
    breakdown = row.get("energy_breakdown")
    if breakdown is not None and not (
        isinstance(breakdown, Mapping) and all(isinstance(k, str) and number(v) for k, v in breakdown.items())
    ):
        raise bad("energy_breakdown", f"a mapping of cause to an energy in 0..{_MAX_FIGURE:g} J")
    index = row.get("point_index")
    if index is not None and not (isinstance(index, int) and not isinstance(index, bool) and index >= 0):
        raise bad("point_index", "a whole number >= 0")
    params = row["params"]
    if not isinstance(params, Mapping) or any(
        isinstance(v, float) and not abs(v) <= _MAX_FIGURE for v in params.values()
    ):
        raise bad("params", f"a mapping of parameter to text or a number within +-{_MAX_FIGURE:g}")
    row["params"] = dict(row["params"])
    return row


def objectives_for(meta: Mapping[str, str], options: ReportOptions) -> tuple[str, ...]:
    """The report's objectives: the options', else the sweep's first three, else latency and energy."""
    names = list(options.objectives)
    if not names:
        try:
            names = [str(n) for n in json.loads(meta.get("objectives") or "[]")][:3]
        except json.JSONDecodeError:
            names = []
    names = [resolve_objective(n) for n in names]
    return tuple(names) if len(names) >= 2 else DEFAULT_OBJECTIVES


def varying_params(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Parameter names whose values differ between rows (all of them when none differ)."""
    names = list(dict.fromkeys(k for r in rows for k in r.get("params", {})))
    varying = [n for n in names if len({json.dumps(r.get("params", {}).get(n)) for r in rows}) > 1]
    return varying or names


def _section(rows: list[dict[str, Any]], workload: str, objectives: Sequence[str], options: ReportOptions):
    mine = [r for r in rows if r["workload"] == workload]
    ok = [r for r in mine if r["status"] == "ok"]
    candidates = rows_for_front(mine, objectives, constraints=options.constraints)
    kept = {id(r) for r in candidates}
    front = front_rows(mine, objectives, constraints=options.constraints)
    key = [(tuple(column_value(r, o) for o in objectives), r["point_index"] or 0) for r in candidates]
    ranked = [r for _, r in sorted(zip(key, candidates), key=lambda kr: kr[0])]
    return WorkloadSection(
        workload=workload,
        rows=len(mine),
        ok=len(ok),
        invalid=len(mine) - len(ok),
        candidates=tuple(candidates),
        excluded=tuple(r for r in ok if id(r) not in kept),
        front=tuple(front),
        front_groups=group_ties(front, objectives),
        top=group_ties(ranked, objectives)[: max(options.top, 0)],
    )


def group_ties(
    rows: Sequence[Mapping[str, Any]], objectives: Sequence[str]
) -> tuple[tuple[Mapping[str, Any], ...], ...]:
    """Rows with the same objective values (to 9 significant digits) as one group, in first-seen order.

    Sweeps often hold many designs that price the same (an axis the workload does not feel, such as a
    memory larger than needed): tables show each objective vector once, with the designs behind it.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in rows:
        key = tuple(float(f"{float(column_value(r, o)):.9g}") for o in objectives)
        groups.setdefault(key, []).append(r)
    return tuple(tuple(g) for g in groups.values())


def invalid_reasons(rows: Sequence[Mapping[str, Any]], limit: int = _MAX_REASONS) -> list[tuple[str, int]]:
    """The most common reasons of invalid rows, with counts (numbers folded so similar reasons group)."""
    reasons = Counter(_fold(str(r.get("reason") or "no reason given")) for r in rows if r.get("status") != "ok")
    return reasons.most_common(limit)


def _fold(reason: str) -> str:
    """Group similar reasons: file paths shortened to their name, free-standing numbers to N."""
    reason = re.sub(r"(?<![\w.])(?:[\w.~-]*/)+([\w-]+\.\w+)", r"\1", reason.strip())
    return re.sub(r"\b\d+(\.\d+)?\b", "N", reason)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "workload"


def build_report(
    sweep: Any, options: ReportOptions | None = None, progress: Callable[[int, int], None] | None = None
) -> SweepReport:
    """The report of a read sweep (`read_sweep(path)`): Markdown, HTML and the PNGs they show;
    `progress(workloads_done, workloads_total)` is called as each workload's section is drawn."""
    options = options or ReportOptions()
    rows = sweep_rows(sweep)
    meta = dict(sweep.meta)
    objectives = objectives_for(meta, options)
    present = list(dict.fromkeys(r["workload"] for r in rows))
    workloads = list(options.workloads) or present
    unknown = [w for w in workloads if w not in present]
    if unknown:
        raise TinysimError(
            f"no results for workload {', '.join(unknown)}; the store has {', '.join(present) or 'none'}",
            field="workload",
        )
    sections: list[WorkloadSection] = []
    images: dict[str, bytes] = {}
    for done, workload in enumerate(workloads):
        if progress is not None:
            progress(done, len(workloads))
        section = _section(rows, workload, objectives, options)
        names = _draw(section, rows, objectives, images)
        sections.append(WorkloadSection(**{**section.__dict__, "images": names}))
    if progress is not None:
        progress(len(workloads), len(workloads))
    summary = {
        "meta": meta,
        "points": len(sweep.points),
        "rows": len(rows),
        "ok": sum(r["status"] == "ok" for r in rows),
        "invalid": sum(r["status"] != "ok" for r in rows),
        "reasons": invalid_reasons(rows),
        "workloads_present": present,
        "objectives": objectives,
        "constraints": options.constraints,
        "top": options.top,
    }
    blocks = document_blocks(summary, sections, varying_params(rows))
    title = f"Sweep report: {meta.get('sweep_name') or 'sweep'}"
    return SweepReport(markdown=to_markdown(blocks), html=to_html(title, blocks), images=images)


def _draw(section: WorkloadSection, rows, objectives: Sequence[str], images: dict[str, bytes]) -> dict[str, str]:
    """Draw the section's PNGs into `images`; returns kind → file name for those drawn."""
    if not section.candidates and not section.excluded:
        return {}
    slug = _slug(section.workload)
    names = {}
    labels = [_axis_label(o, [column_value(r, o) for r in section.candidates]) for o in objectives]
    png = sweep_plots.scatter_png(
        candidates=[[column_value(r, o) for o in objectives] for r in section.candidates],
        excluded=[[column_value(r, o) for o in objectives[:2]] for r in section.excluded],
        front=[[column_value(r, o) for o in objectives] for r in section.front],
        labels=labels,
        title=f"{section.workload}: {len(section.front)} Pareto points of {len(section.candidates)}",
    )
    names["scatter"] = f"{slug}_pareto.png"
    images[names["scatter"]] = png
    if section.front:
        names["breakdown"] = f"{slug}_energy_breakdown.png"
        images[names["breakdown"]] = sweep_plots.breakdown_png(
            [group_name(g) for g in section.front_groups],
            [g[0].get("energy_breakdown") or {} for g in section.front_groups],
            title=f"{section.workload}: energy per inference of the Pareto points",
        )
    curves = _op_curves(section)
    if curves is not None:
        names["op_curves"] = f"{slug}_operating_points.png"
        images[names["op_curves"]] = sweep_plots.op_curves_png(*curves, title=f"{section.workload}: operating points")
    return names


def _axis_label(name: str, values: Sequence[Any]) -> sweep_plots.Axis:
    dim = column_dim(name)
    finite = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v) and v > 0]
    return sweep_plots.axis_for(column_label(name), dim, finite, unit="")


def _design_key(row: Mapping[str, Any]) -> str:
    """The design without its operating point: parameters minus any that name the row's operating point."""
    op = row.get("operating_point")
    params = {k: v for k, v in row["params"].items() if "operating_point" not in k and not (op and v == op)}
    return json.dumps(params, sort_keys=True)


def _op_curves(section: WorkloadSection):
    """(operating points fastest first, median latency/energy per point, front designs' own curves)."""
    rows = [r for r in (*section.candidates, *section.excluded) if r.get("operating_point")]
    if not rows:
        return None
    by_op: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_op.setdefault(str(r["operating_point"]), []).append(r)

    def median(values):
        values = sorted(v for v in values if v is not None)
        return values[len(values) // 2] if values else float("nan")

    ops = sorted(by_op, key=lambda op: median(r["latency_s"] for r in by_op[op]))
    medians = {what: [median(r[what] for r in by_op[op]) for op in ops] for what in ("latency_s", "energy_j")}
    designs: dict[str, dict[str, Mapping[str, Any]]] = {}
    for r in rows:
        designs.setdefault(_design_key(r), {})[str(r["operating_point"])] = r
    lines: dict[str, dict[str, list[float]]] = {}
    drawn: set[str] = set()
    for group in section.front_groups:
        own = designs.get(_design_key(group[0]), {})
        if len(own) >= 2 and _design_key(group[0]) not in drawn and len(lines) < 6:
            drawn.add(_design_key(group[0]))
            lines[group_name(group)] = {
                what: [own[op][what] if op in own else float("nan") for op in ops] for what in ("latency_s", "energy_j")
            }
    return ops, medians, lines
