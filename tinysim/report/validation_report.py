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
            ref.role,
            format_quantity(c.latency_s, Dimension.TIME),
            _published(ref.latency_s, Dimension.TIME),
            _error(c.latency_error),
            format_quantity(c.energy_j, Dimension.ENERGY),
            _published(ref.energy_j, Dimension.ENERGY),
            _error(c.energy_error),
        ])
    return rows


def _published(value: float | None, dim: Dimension) -> str:
    return "—" if value is None else format_quantity(value, dim)


def _error(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:+.1f} %"


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


DIE_HEADERS = ["arch", "die area pred", "of which blocks", "published", "error", "within", "source"]


def die_area_rows(rows) -> list[list[str]]:
    """Predicted (die and blocks without the I/O ring) vs published die area; rows marked outside say so."""
    out = []
    for r in rows:
        within = "yes" if r.within else ("no (marked)" if r.outside else "NO")
        out.append([r.arch, format_quantity(r.predicted_m2, Dimension.AREA), format_quantity(r.blocks_m2, Dimension.AREA),
                    format_quantity(r.published_m2, Dimension.AREA), _error(r.error), within, r.source])
    return out


def die_area_text(rows) -> str:
    notes = [f"{r.arch}: outside tolerance: {r.outside}" for r in rows if r.outside and not r.within]
    table = format_table(DIE_HEADERS, die_area_rows(rows), numeric=[False, True, True, True, True, False, False])
    return "\n".join([table, *notes])


def die_area_markdown(rows) -> str:
    lines = ["| " + " | ".join(DIE_HEADERS) + " |", "|" + "---|" * len(DIE_HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in die_area_rows(rows)]
    lines += [f"- {r.arch}: outside tolerance: {r.outside}" for r in rows if r.outside and not r.within]
    return "\n".join(lines)
