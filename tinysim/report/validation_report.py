"""Predicted-vs-published tables (text and Markdown)."""

from __future__ import annotations

from tinysim.report.table import format_count, format_table
from tinysim.units import Dimension, format_quantity

HEADERS = ["arch", "workload", "role", "latency pred", "latency pub", "error", "energy pred", "energy pub", "error"]


def validation_rows(comparisons) -> list[list[str]]:
    rows = []
    for c in comparisons:
        ref = c.reference
        rows.append([
            ref.arch.rsplit("/", 1)[-1].removesuffix(".yaml"),
            ref.workload.rsplit("/", 1)[-1].removesuffix(".yaml"),
            "calibration" if ref.calibration else "prediction",
            format_quantity(c.latency_s, Dimension.TIME),
            format_quantity(ref.latency_s, Dimension.TIME),
            f"{100 * c.latency_error:+.1f} %",
            format_quantity(c.energy_j, Dimension.ENERGY),
            format_quantity(ref.energy_j, Dimension.ENERGY),
            f"{100 * c.energy_error:+.1f} %",
        ])
    return rows


def validation_text(comparisons) -> str:
    numeric = [False, False, False] + [True] * 6
    return format_table(HEADERS, validation_rows(comparisons), numeric=numeric)


def validation_markdown(comparisons) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in validation_rows(comparisons)]
    sources = sorted({c.reference.source for c in comparisons})
    lines += ["", "Sources:"] + [f"- {s}" for s in sources]
    return "\n".join(lines)


PEER_HEADERS = ["tool", "config", "workload", "tinysim cycles", "peer cycles", "error"]


def peer_rows(rows) -> list[list[str]]:
    return [[r.tool, r.config, r.workload, format_count(r.tinysim_cycles), format_count(r.peer_cycles),
             f"{100 * r.error:+.1f} %"] for r in rows]


def peer_text(rows) -> str:
    return format_table(PEER_HEADERS, peer_rows(rows), numeric=[False, False, False, True, True, True])


def peer_markdown(rows) -> str:
    lines = ["| " + " | ".join(PEER_HEADERS) + " |", "|" + "---|" * len(PEER_HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in peer_rows(rows)]
    return "\n".join(lines)
