"""Per-component power trace of an always-on run over its recorded window, as CSV rows: one row per interval of
one track (chip, front end, network, host, sensor...) with its state, power and energy, identified like every
other tinysim CSV (tinysim_version, schema_version, arch, workload, operating_point)."""

from __future__ import annotations

import csv
import io

from tinysim.cost.vocabulary import identity
from tinysim.errors import TinysimError
from tinysim.system.result import AlwaysOnResult

__all__ = ["power_trace_csv", "power_trace_rows"]


def power_trace_rows(result: AlwaysOnResult) -> list[dict]:
    """The recorded intervals clipped to the window, in time order (ties by track)."""
    if result.window_s is None or not result.segments:
        raise TinysimError("no trace was recorded: run with a window", field="trace")
    start, end = result.window_s
    end = min(end, result.duration_s)
    ident = identity(result.arch, result.workload, result.work.operating_point)
    rows = []
    for s in sorted(result.segments, key=lambda s: (s.start_s, s.track)):
        lo, hi = max(s.start_s, start), min(s.end_s, end)
        if hi <= lo:
            continue
        state = s.key[-1] if isinstance(s.key, tuple) and s.key else str(s.key)
        rows.append({**ident, "track": s.track, "state": state, "start_s": lo, "end_s": hi, "power_w": s.power_w,
                     "energy_j": s.power_w * (hi - lo)})
    return rows


def power_trace_csv(result: AlwaysOnResult) -> str:
    rows = power_trace_rows(result)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["track"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
