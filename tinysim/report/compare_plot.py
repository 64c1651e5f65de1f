"""Grouped bar chart of a comparison: latency, energy per inference and average power, one bar per arch.

Drawn with matplotlib's Agg canvas on a private Figure (no pyplot, no global backend switch);
returns PNG bytes — the caller decides where they go. Rows without a figure (cannot run, or a
rate they cannot sustain) are left out of their group and named in a footnote.
"""

from __future__ import annotations

import io

from tinysim.cost.result import SimResult
from tinysim.report.compare_report import CompareRow, average_power, fit_note

__all__ = ["compare_png"]

_PANELS = (
    ("latency", "latency (ms)", 1e3),
    ("energy", "energy per inference (µJ)", 1e6),
    ("power", "average power (µW)", 1e6),
)


def _value(r: SimResult, what: str, rate_hz: float) -> float | None:
    if what == "latency":
        return r.latency_s
    if what == "energy":
        return r.energy_j
    return average_power(r, rate_hz)[0]


def compare_png(rows: list[CompareRow], rate_hz: float, *, title: str = "") -> bytes:
    """PNG of one panel per figure; x groups are workloads, bars within a group are architectures."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    workloads = list(dict.fromkeys(r.workload for r in rows))
    archs = list(dict.fromkeys(r.arch for r in rows))
    by_key = {(r.arch, r.workload): r for r in rows}
    fig = Figure(figsize=(4.2 * len(_PANELS) + 1.6, 4.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(_PANELS))
    width = 0.8 / max(len(archs), 1)
    colors = {arch: f"C{i % 10}" for i, arch in enumerate(archs)}
    missing: dict[str, list[str]] = {}
    for ax, (what, label, scale) in zip(axes, _PANELS):
        for a, arch in enumerate(archs):
            xs, heights, hatches = [], [], []
            for w, workload in enumerate(workloads):
                row = by_key.get((arch, workload))
                result = row.result if row is not None else None
                value = _value(result, what, rate_hz) if result is not None else None
                if result is None or value is None or value <= 0:
                    missing.setdefault(f"{arch}/{workload}" if len(workloads) > 1 else arch, []).append(what)
                    continue
                xs.append(w - 0.4 + width * (a + 0.5))
                heights.append(value * scale)
                hatches.append("" if fit_note(result) == "" else "//")
            if xs:
                bars = ax.bar(xs, heights, width, color=colors[arch])
                for patch, hatch in zip(bars.patches, hatches):
                    patch.set_hatch(hatch)
                ax.bar_label(bars, fmt="%.3g", fontsize=6, padding=1)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylabel(label)
        ax.set_xticks(range(len(workloads)), workloads)
        ax.grid(axis="y", which="major", alpha=0.3)
        if what == "power":
            ax.set_title(f"at {rate_hz:g} Hz", fontsize=9)
    handles = [Patch(color=colors[a], label=a) for a in archs]
    fig.legend(handles=handles, loc="outside right upper", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    overflows = any(r.result is not None and fit_note(r.result) for r in rows)
    footnotes = ["hatched: does not fit in memory"] if overflows else []
    if missing:
        notes = [
            name if len(whats) == len(_PANELS) else f"{name} ({', '.join(whats)})" for name, whats in missing.items()
        ]
        footnotes.append("no figure for: " + ", ".join(notes))
    if footnotes:
        fig.supxlabel("; ".join(footnotes), fontsize=7, wrap=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()
