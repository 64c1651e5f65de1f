"""Always-on results as text (units on every number) and JSON (SI units in the key names)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from tinysim.report.table import format_count, format_table
from tinysim.system.result import AlwaysOnResult
from tinysim.units import Dimension, format_quantity

__all__ = ["comparison_table", "headline", "to_dict", "to_json", "to_text"]


def _q(value: float, dim: Dimension) -> str:
    return format_quantity(value, dim)


def _w(value: float) -> str:
    return _q(value, Dimension.POWER)


def _pct(x: float) -> str:
    return f"{100 * x:.3g} %" if x >= 1e-4 else f"{100 * x:.2g} %"


def headline(r: AlwaysOnResult) -> str:
    w = r.work
    lines = []
    if r.overloaded:
        c = r.counts
        lines.append(
            f"OVERLOADED: {format_count(c['frames_dropped'])} frames dropped, "
            f"{format_count(c['inferences_dropped'])} inferences dropped, "
            f"{format_count(c['deadline_misses'])} deadlines missed -- the chip cannot keep up"
        )
    if r.extrapolated_s > 0:
        lines.append(
            f"note: {_pct(r.extrapolated_s / r.duration_s)} of the run was extrapolated from 2 x "
            "2 s windows of the saturated chip: power and inference counts are close, drop counts approximate "
            "(--no-fast-forward simulates every frame)"
        )
    lines.append(
        f"{r.scenario} on {r.arch} @ {w.operating_point} ({_q(w.freq_hz, Dimension.FREQUENCY)}, "
        f"{_q(w.voltage_v, Dimension.VOLTAGE)}; DVFS {r.dvfs_policy}), {_q(r.duration_s, Dimension.TIME)} simulated"
        f" ({_pct(r.fast_forwarded_s / r.duration_s)} fast-forwarded)"
    )
    lines.append(
        f"{r.workload}: {_q(w.inference_s, Dimension.TIME)} and {_q(w.inference_j, Dimension.ENERGY)} per inference, "
        f"one every {_q(r.period_s, Dimension.TIME)} ({1 / r.period_s:.4g} Hz, deadline "
        f"{_q(r.deadline_s, Dimension.TIME)}); front end {_q(w.front_end_s, Dimension.TIME)} and "
        f"{_q(w.front_end_j, Dimension.ENERGY)} per frame"
    )
    return "\n".join(lines)


def _breakdown(r: AlwaysOnResult) -> str:
    total = r.total_energy_j or 1.0
    rows = []
    keys = sorted(r.energy_j, key=lambda k: (_ORDER.get(k[0], 9), k[1]))
    for component, state in keys:
        e = r.energy_j[(component, state)]
        t = r.time_s.get((component, state), 0.0)
        rows.append(
            [component, state, _pct(t / r.duration_s), _q(e, Dimension.ENERGY), _w(e / r.duration_s), _pct(e / total)]
        )
    chip = r.chip_power_w
    rows.append(
        ["chip total", "", "", _q(chip * r.duration_s, Dimension.ENERGY), _w(chip), _pct(chip * r.duration_s / total)]
    )
    rows.append(["TOTAL", "", "", _q(r.total_energy_j, Dimension.ENERGY), _w(r.average_power_w), "100 %"])
    headers = ["component", "state", "time share", "energy", "avg power", "share"]
    return format_table(headers, rows, numeric=[False, False, True, True, True, True])


_ORDER = {"sensor": 0, "front_end": 1, "network": 2, "chip": 3, "host": 4}


def _figures(r: AlwaysOnResult) -> str:
    c = r.counts
    host_on = r.time_s.get(("host", "on"), 0.0)
    rows = [
        ["average power (system)", _w(r.average_power_w)],
        ["average power (chip: front end + network + idle/sleep/wake)", _w(r.chip_power_w)],
        ["energy per inference (system, all included)", _q(r.energy_per_inference_j, Dimension.ENERGY)],
        ["energy per inference (network alone)", _q(r.work.inference_j, Dimension.ENERGY)],
        ["duty cycle (chip active)", _pct(r.duty_cycle)],
        ["frames", f"{format_count(c['frames'])} ({format_count(c['frames_dropped'])} dropped)"],
        [
            "inferences",
            (
                f"{format_count(c['inferences'])} ({format_count(c['inferences_dropped'])} dropped, "
                f"{format_count(c['deadline_misses'])} missed deadlines)"
            ),
        ],
        ["keyword events / detections", f"{format_count(c['events'])} / {format_count(c['detections'])}"],
        ["host wake-ups", f"{format_count(c['host_wakeups'])} (host on {_q(host_on, Dimension.TIME)})"],
    ]
    life = r.battery_life_s
    if life is not None:  # set exactly when there is a battery
        rows.append([f"battery life ({r.battery})", "forever" if math.isinf(life) else _q(life, Dimension.TIME)])
    harvest = r.harvest
    if harvest is not None:
        verdict = "energy neutral" if harvest.energy_neutral else "NOT energy neutral"
        balance = (f"{_q(harvest.harvested_j_per_day, Dimension.ENERGY)} harvested vs "
                   f"{_q(harvest.consumed_j_per_day, Dimension.ENERGY)} used: {verdict}")
        rows.append(["harvest per day", balance])
        if life is not None:
            rows.append(["autonomy in the dark", "forever" if math.isinf(life) else f"{life / 86400:.3g} days"])
    return format_table(["figure", "value"], rows, numeric=[False, False])


def to_text(r: AlwaysOnResult) -> str:
    return "\n\n".join([headline(r), _breakdown(r), _figures(r)])


def to_dict(r: AlwaysOnResult) -> dict:
    return r.to_dict()


def to_json(r: AlwaysOnResult) -> str:
    return json.dumps(to_dict(r), indent=2, default=lambda x: None if isinstance(x, float) and math.isinf(x) else x)


def comparison_table(results: Sequence[AlwaysOnResult], *, markdown: bool = False) -> str:
    """One row per architecture: chip and system µW with the breakdown that explains the difference."""
    headers = [
        "arch",
        "op point",
        "inference",
        "per inference",
        "network",
        "front end",
        "idle/sleep/wake",
        "chip total",
        "sensor",
        "host",
        "system",
        "dropped",
        "battery life",
    ]
    rows = []
    for r in results:
        comp = r.component_energy_j()
        p = {k: v / r.duration_s for k, v in comp.items()}
        life = r.battery_life_s
        rows.append(
            [
                r.arch,
                r.work.operating_point,
                _q(r.work.inference_s, Dimension.TIME),
                _q(r.work.inference_j, Dimension.ENERGY),
                _w(p.get("network", 0.0)),
                _w(p.get("front_end", 0.0)),
                _w(p.get("chip", 0.0)),
                _w(r.chip_power_w),
                _w(p.get("sensor", 0.0)),
                _w(p.get("host", 0.0)),
                _w(r.average_power_w),
                format_count(r.counts["frames_dropped"]),
                "" if life is None else _q(life, Dimension.TIME),
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    return format_table(headers, rows, numeric=[False, False] + [True] * (len(headers) - 2))
