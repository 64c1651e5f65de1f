"""Render a `SimResult`: aligned text with human units, JSON and CSV with SI units in the names."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from tinysim.cost.result import SimResult
from tinysim.cost.vocabulary import IDENTITY_FIELDS, whole_cycles
from tinysim.report.names import short_layer_names
from tinysim.report.table import format_count, format_table
from tinysim.units import Dimension, format_quantity

_LAYER_CSV_COLUMNS = (
    *IDENTITY_FIELDS, "index", "layer", "op", "unit", "macs", "cycles", "latency_s", "energy_j",
    "compute_energy_j", "memory_energy_j", "static_energy_j", "bytes_read", "bytes_written", "bound",
)


def summary_dict(result: SimResult, rate_hz: float | None) -> dict:
    """Whole-inference figures, SI units in the key names."""
    return result.summary_dict(rate_hz)


def layer_rows(result: SimResult) -> list[dict]:
    return result.layer_rows()


def to_json(result: SimResult, rate_hz: float | None, *, per_layer: bool = True, extra: dict | None = None) -> str:
    doc: dict[str, Any] = {**result.identity(), "summary": summary_dict(result, rate_hz)}
    if extra:
        doc.update(extra)
    if per_layer:
        doc["layers"] = layer_rows(result)
    return json.dumps(doc, indent=2)


def to_csv(result: SimResult) -> str:
    """One row per layer plus a TOTAL row, each led by the identity fields; SI units in the column names."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_LAYER_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in layer_rows(result):
        writer.writerow(row)
    writer.writerow({
        **result.identity(), "index": "", "layer": "TOTAL", "op": "", "unit": "", "macs": result.macs,
        "cycles": whole_cycles(result.cycles),
        "latency_s": result.latency_s, "energy_j": result.energy_j,
        "compute_energy_j": sum(layer.compute_energy_j for layer in result.layers),
        "memory_energy_j": sum(sum(layer.memory_energy_j.values()) for layer in result.layers),
        "static_energy_j": sum(layer.static_energy_j for layer in result.layers),
        "bytes_read": sum(layer.bytes_read for layer in result.layers),
        "bytes_written": sum(layer.bytes_written for layer in result.layers), "bound": "",
    })
    return buf.getvalue()


def to_text(result: SimResult, rate_hz: float | None, *, per_layer: bool = False) -> str:
    parts = [
        (f"{result.workload} on {result.arch} @ {result.operating_point} "
         f"({format_quantity(result.freq_hz, Dimension.FREQUENCY)}, {format_quantity(result.voltage_v, Dimension.VOLTAGE)});"
         f" costs from {'engine-counted' if result.events_source == 'engine' else 'shape-estimated'} events"),
        "",
    ]
    if not (result.weights_fit and result.arena_fits):
        parts[1:1] = ["DOES NOT FIT: " + "; ".join(
            f"{what} {_fit_text(used, cap, mem)}"
            for what, used, cap, mem, ok in (
                ("weights", _weights_size(result), result.weights_capacity_bytes, result.weights_memory,
                 result.weights_fit),
                ("activation arena", _arena_size(result), result.arena_capacity_bytes, result.arena_memory,
                 result.arena_fits),
            ) if not ok) + " -- the figures below assume it would", ""]
    if per_layer:
        parts += [_layer_table(result), ""]
    parts.append(_summary_table(result, rate_hz))
    return "\n".join(parts)


def _layer_table(result: SimResult) -> str:
    total_e = result.energy_j or 1.0
    names = short_layer_names([layer.name for layer in result.layers])  # JSON and CSV keep the full name
    rows = [
        [str(i), names[i], layer.op_kind, format_count(layer.macs), format_count(layer.cycles),
         format_quantity(layer.latency_s, Dimension.TIME), format_quantity(layer.energy_j, Dimension.ENERGY),
         f"{100 * layer.energy_j / total_e:.1f} %", layer.bound]
        for i, layer in enumerate(result.layers)
    ]
    rows.append(["", "TOTAL", "", format_count(result.macs), format_count(result.cycles),
                 format_quantity(result.latency_s, Dimension.TIME), format_quantity(result.energy_j, Dimension.ENERGY),
                 "100.0 %", ""])
    headers = ["#", "layer", "op", "MACs", "cycles", "latency", "energy", "share", "bound"]
    numeric = [True, False, False, True, True, True, True, True, False]
    return format_table(headers, rows, numeric=numeric)


def _summary_table(result: SimResult, rate_hz: float | None) -> str:
    breakdown = result.energy_breakdown_j()
    total = result.energy_j or 1.0
    shares = ", ".join(f"{k} {100 * v / total:.1f} %" for k, v in breakdown.items())
    rows = [
        ["MACs", format_count(result.macs)],
        ["cycles", format_count(result.cycles)],
        ["MACs per cycle", f"{result.macs / result.cycles:.3f}" if result.cycles else "-"],
        ["latency", format_quantity(result.latency_s, Dimension.TIME)],
        ["energy per inference", format_quantity(result.energy_j, Dimension.ENERGY)],
        ["energy by cause", shares],
        ["power while running", format_quantity(result.energy_j / result.latency_s, Dimension.POWER)
         if result.latency_s else "-"],
    ]
    if rate_hz is not None:
        rows.append([f"average power at {rate_hz:g} Hz", average_power_text(result, rate_hz)])
    rows.append(["weights", _fit_text(_weights_size(result), result.weights_capacity_bytes, result.weights_memory)])
    rows.append(["activation arena", _fit_text(_arena_size(result), result.arena_capacity_bytes, result.arena_memory)])
    if result.area_m2 is not None:  # only architectures that name their `technology:` have one
        rows.append(["die area (estimate, lower bound)", area_text(result.area_m2)])
    return format_table(["figure", "value"], rows, numeric=[False, False])


def area_text(area_m2: float | None) -> str:
    """The die area in mm² ("2.52 mm²"), "—" for an architecture without `technology:`."""
    return "—" if area_m2 is None else format_quantity(area_m2, Dimension.AREA)


def average_power_text(result: SimResult, rate_hz: float) -> str:
    """The average power at the rate, or why there is none and the rate that would have one."""
    if result.rate_sustainable(rate_hz):
        return format_quantity(result.average_power_w(rate_hz), Dimension.POWER)
    return unsustainable_note(rate_hz, result.max_sustainable_rate_hz)


def unsustainable_note(rate_hz: float, max_rate_hz: float | None) -> str:
    """'not sustainable at 1 Hz; highest sustainable rate 0.5 Hz' (an inference outlasts the period)."""
    best = f"; highest sustainable rate {max_rate_hz:.4g} Hz" if max_rate_hz is not None else ""
    return f"not sustainable at {rate_hz:g} Hz{best}"


def _weights_size(result: SimResult) -> tuple[int, str]:
    """Stored weight bytes and, for a compressed workload, how they are stored ("encoded (huffman)")."""
    enc = result.weights_encoding
    if not enc:
        return result.weights_bytes, ""
    if enc == "decoded":
        return result.weights_bytes, "decoded (no weight decoder)"
    return result.weights_bytes, f"encoded ({enc})"


def _arena_size(result: SimResult) -> tuple[int, str]:
    """The arena TFLite Micro uses and, where known, its split: "(head 15.62 KiB + persistent 8.08 KiB)"."""
    head, persistent = result.arena_head_bytes, result.arena_persistent_bytes
    if not (head or persistent):
        return result.arena_bytes, ""
    scratch = result.arena_scratch_bytes
    of_which = f", of which kernel scratch {format_quantity(scratch, Dimension.SIZE)}" if scratch else ""
    return result.arena_bytes, (f"(head {format_quantity(head, Dimension.SIZE)}{of_which} + persistent "
                                f"{format_quantity(persistent, Dimension.SIZE)})")


def _fit_text(used: int | tuple[int, str], capacity: int, memory: str) -> str:
    used, how = used if isinstance(used, tuple) else (used, "")
    size = format_quantity(used, Dimension.SIZE) + (f" {how}" if how else "")
    cap = format_quantity(capacity, Dimension.SIZE)
    if used <= capacity:
        return f"{size} of {cap} {memory}: fits ({100 * used / capacity:.1f} %)"
    return f"{size} of {cap} {memory}: EXCEEDS {memory} by {format_quantity(used - capacity, Dimension.SIZE)}"
