"""Render a `StreamEvaluation` (`tinysim run --frames N`): one row per invocation and the total."""

from __future__ import annotations

import csv
import io

from tinysim.cost.vocabulary import IDENTITY_FIELDS, whole_cycles
from tinysim.frames import StreamEvaluation
from tinysim.report.run_report import unsustainable_note
from tinysim.report.table import format_count, format_table
from tinysim.units import Dimension, format_quantity

_CSV_COLUMNS = (*IDENTITY_FIELDS, "frame", "latency_s", "energy_j", "cycles", "macs", "zero_macs")


def frames_text(stream: StreamEvaluation) -> str:
    """Header line, a table of every frame and a TOTAL row, average power at the rate if given."""
    first = stream.frames[0]
    result = first.result
    rows = [
        [str(i), format_count(f.macs), format_count(f.cycles), format_quantity(f.latency_s, Dimension.TIME),
         format_quantity(f.energy_j, Dimension.ENERGY)]
        for i, f in enumerate(stream.frames)
    ]  # fmt: skip
    rows.append(["TOTAL", format_count(stream.macs), format_count(stream.cycles),
                 format_quantity(stream.latency_s, Dimension.TIME), format_quantity(stream.energy_j, Dimension.ENERGY)])
    lines = [
        (f"{result.workload} on {result.arch} @ {result.operating_point}: {len(stream.frames)} invocations in a "
         "row, state carried from each to the next"),
        "",
        format_table(["frame", "MACs", "cycles", "latency", "energy"], rows, numeric=[True] * 5),
    ]
    power = stream.average_power_w
    if first.rate_hz is not None and power is not None:
        lines += ["", f"average power at {first.rate_hz:g} Hz: {format_quantity(power, Dimension.POWER)}"]
    elif first.rate_hz is not None:  # some frame outlasts the period: name the rate every frame sustains
        slowest = max(f.latency_s for f in stream.frames)
        note = unsustainable_note(first.rate_hz, 1.0 / slowest if slowest > 0 else None)
        lines += ["", f"average power at {first.rate_hz:g} Hz: {note}"]
    return "\n".join(lines)


def frames_csv(stream: StreamEvaluation) -> str:
    """One row per frame plus a TOTAL row, each led by the identity fields; SI units in the column names."""
    ident = stream.frames[0].result.identity()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for i, f in enumerate(stream.frames):
        writer.writerow({**ident, "frame": i, "latency_s": f.latency_s, "energy_j": f.energy_j,
                         "cycles": whole_cycles(f.cycles),
                         "macs": f.macs, "zero_macs": sum(e.zero_macs for e in f.run.events)})  # fmt: skip
    writer.writerow({**ident, "frame": "TOTAL", "latency_s": stream.latency_s, "energy_j": stream.energy_j,
                     "cycles": whole_cycles(stream.cycles), "macs": stream.macs,
                     "zero_macs": sum(e.zero_macs for f in stream.frames for e in f.run.events)})  # fmt: skip
    return buf.getvalue()
