"""Plain-text aligned tables: text columns left-aligned, numbers right-aligned."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: Sequence[bool] | None = None) -> str:
    """Render rows of already-formatted cells; `numeric[i]` right-aligns column i."""
    if numeric is None:
        numeric = [i > 0 for i in range(len(headers))]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def format_count(n: float) -> str:
    """Integers with thousands separators: 2656768 -> '2,656,768'."""
    return f"{round(n):,}"
