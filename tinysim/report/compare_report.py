"""Render a comparison of architectures: one row per (architecture, workload), as text, JSON or CSV.

A row either carries a priced `SimResult` or the reason the architecture cannot run the workload
(spec error, no unit for an op, no operating point meets the deadline); a result that does not fit
in memory or cannot sustain the rate keeps its numbers and says so in its `fits` / note cells.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from tinysim.cost.dvfs import DeadlineChoice
from tinysim.cost.result import SimResult
from tinysim.cost.vocabulary import IDENTITY_FIELDS, OUTPUT_SCHEMA_VERSION, identity, whole_cycles
from tinysim.errors import CostError
from tinysim.report.table import format_table
from tinysim.units import Dimension, format_quantity
from tinysim.version import __version__

__all__ = ["CompareRow", "operating_points_table", "row_dict", "to_csv", "to_dict", "to_json", "to_text"]

_CSV_COLUMNS = (
    *IDENTITY_FIELDS,
    "ok",
    "voltage_v",
    "freq_hz",
    "cycles",
    "latency_s",
    "energy_j",
    "rate_hz",
    "average_power_w",
    "arena_bytes",
    "arena_memory",
    "arena_capacity_bytes",
    "weights_bytes",
    "weights_memory",
    "weights_capacity_bytes",
    "fits",
    "deadline_s",
    "note",
)


@dataclass(frozen=True)
class CompareRow:
    """One architecture on one workload: a result, or why there is none."""

    arch: str  # the architecture's name, or its file when it could not be loaded
    workload: str
    arena_bytes: int  # the priced result's arena; without a result, the workload's planned arena
    result: SimResult | None = None
    reason: str = ""  # why there is no result
    choice: DeadlineChoice | None = None  # set when the operating point was chosen for a deadline

    @property
    def ok(self) -> bool:
        return self.result is not None


def average_power(result: SimResult, rate_hz: float) -> tuple[float | None, str]:
    """Average power at the rate, or None and why (the inference is longer than the period)."""
    try:
        return result.average_power_w(rate_hz), ""
    except CostError:
        return None, f"rate unsustainable: at most {1.0 / result.latency_s:.4g} Hz"


def fit_note(result: SimResult) -> str:
    """'' when weights and arena fit, else what overflows which memory."""
    parts = []
    if not result.weights_fit:
        parts.append(
            f"weights {_size(result.weights_bytes)} > {_size(result.weights_capacity_bytes)} {result.weights_memory}"
        )
    if not result.arena_fits:
        parts.append(f"arena {_size(result.arena_bytes)} > {_size(result.arena_capacity_bytes)} {result.arena_memory}")
    return "; ".join(parts)


def row_dict(row: CompareRow, rate_hz: float) -> dict:
    """Everything about a row, led by the identity fields, SI units in the key names; None where a figure
    does not exist."""
    r = row.result
    out: dict = {
        **identity(row.arch, row.workload, None if r is None else r.operating_point),
        "ok": row.ok,
        "arena_bytes": row.arena_bytes if r is None else r.arena_bytes,
        "rate_hz": rate_hz,
    }
    if r is None:
        out["note"] = row.reason
        return out
    power, power_note = average_power(r, rate_hz)
    fits = fit_note(r)
    out.update(
        {
            "voltage_v": r.voltage_v,
            "freq_hz": r.freq_hz,
            "cycles": whole_cycles(r.cycles),
            "latency_s": r.latency_s,
            "energy_j": r.energy_j,
            "average_power_w": power,
            "arena_memory": r.arena_memory,
            "arena_capacity_bytes": r.arena_capacity_bytes,
            "weights_bytes": r.weights_bytes,
            "weights_memory": r.weights_memory,
            "weights_capacity_bytes": r.weights_capacity_bytes,
            "area_m2": r.area_m2,
            "fits": not fits,
            "note": "; ".join(n for n in (fits and f"does not fit: {fits}", power_note) if n),
        }
    )
    if row.choice is not None:
        out["deadline_s"] = row.choice.deadline_s
        out["operating_point_reason"] = row.choice.reason()
    return out


def to_text(rows: list[CompareRow], rate_hz: float) -> str:
    headers = [
        "arch",
        "workload",
        "operating point",
        "latency",
        "energy/inf",
        f"avg power @ {rate_hz:g} Hz",
        "peak SRAM",
        "area",
        "fits?",
        "note",
    ]
    table = []
    for row in rows:
        d = row_dict(row, rate_hz)
        r = row.result
        if r is None:
            table.append(
                [
                    row.arch,
                    row.workload,
                    "-",
                    "-",
                    "-",
                    "-",
                    _size(row.arena_bytes if r is None else r.arena_bytes),
                    "-",
                    "-",
                    f"cannot run: {row.reason}",
                ]
            )
            continue
        power = d["average_power_w"]
        table.append(
            [
                row.arch,
                row.workload,
                _point(r),
                format_quantity(r.latency_s, Dimension.TIME),
                format_quantity(r.energy_j, Dimension.ENERGY),
                format_quantity(power, Dimension.POWER) if power is not None else "-",
                _size(row.arena_bytes if r is None else r.arena_bytes),
                "—" if r.area_m2 is None else format_quantity(r.area_m2, Dimension.AREA),
                "yes" if d["fits"] else "NO",
                d["note"],
            ]
        )
    text = format_table(headers, table, numeric=[False, False, False, True, True, True, True, True, False, False])
    reasons = [f"{row.arch}/{row.workload}: {row.choice.reason()}" for row in rows if row.choice is not None]
    return "\n".join([text, *([""] + reasons if reasons else [])])


def to_json(rows: list[CompareRow], rate_hz: float) -> str:
    return json.dumps(to_dict(rows, rate_hz), indent=2)


def to_dict(rows: list[CompareRow], rate_hz: float) -> dict:
    """The JSON document: tinysim and output schema versions, the rate, one identified row per (arch, workload)."""
    return {
        "tinysim_version": __version__,
        "schema_version": OUTPUT_SCHEMA_VERSION,
        "rate_hz": rate_hz,
        "rows": [row_dict(r, rate_hz) for r in rows],
    }


def to_csv(rows: list[CompareRow], rate_hz: float) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row_dict(row, rate_hz))
    return buf.getvalue()


def operating_points_table(
    results: list[SimResult] | tuple[SimResult, ...], deadline_s: float | None = None, chosen: str | None = None
) -> str:
    """Latency and energy of one workload at every operating point; marks the chosen one and misses."""
    rows = []
    for r in results:
        mark = "chosen" if r.operating_point == chosen else ""
        if deadline_s is not None and r.latency_s > deadline_s:
            mark = "misses deadline"
        rows.append(
            [
                r.operating_point,
                format_quantity(r.freq_hz, Dimension.FREQUENCY),
                format_quantity(r.voltage_v, Dimension.VOLTAGE),
                format_quantity(r.latency_s, Dimension.TIME),
                format_quantity(r.energy_j, Dimension.ENERGY),
                format_quantity(r.energy_j / r.latency_s, Dimension.POWER) if r.latency_s else "-",
                mark,
            ]
        )
    headers = ["operating point", "frequency", "voltage", "latency", "energy/inf", "power while running", "note"]
    return format_table(headers, rows, numeric=[False, True, True, True, True, True, False])


def _point(r: SimResult) -> str:
    return (
        f"{r.operating_point} ({format_quantity(r.freq_hz, Dimension.FREQUENCY)}, "
        f"{format_quantity(r.voltage_v, Dimension.VOLTAGE)})"
    )


def _size(nbytes: int) -> str:
    return format_quantity(nbytes, Dimension.SIZE)
