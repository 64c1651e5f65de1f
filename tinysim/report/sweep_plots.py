"""PNG charts of a sweep: objective scatter with the Pareto front, energy breakdown bars, operating-point curves.

Each function takes plain numbers (SI units) and labels and returns PNG bytes, drawn on a private
matplotlib Figure with the Agg canvas (no pyplot, no global backend switch). Axes pick a readable
unit from the data (`axis_for`) and go logarithmic when the values span more than 20x.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tinysim.units import Dimension

__all__ = ["Axis", "axis_for", "breakdown_png", "op_curves_png", "scatter_png"]

_UNITS = {
    Dimension.TIME: ("s", (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))),
    Dimension.ENERGY: ("J", (("J", 1.0), ("mJ", 1e-3), ("µJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12))),
    Dimension.POWER: ("W", (("W", 1.0), ("mW", 1e-3), ("µW", 1e-6), ("nW", 1e-9))),
    Dimension.SIZE: ("B", (("MiB", 2.0**20), ("KiB", 2.0**10), ("B", 1.0))),
    Dimension.FREQUENCY: ("Hz", (("GHz", 1e9), ("MHz", 1e6), ("kHz", 1e3), ("Hz", 1.0))),
    Dimension.CYCLES: ("cycles", (("Mcycles", 1e6), ("kcycles", 1e3), ("cycles", 1.0))),
    Dimension.AREA: ("m²", (("mm²", 1e-6), ("µm²", 1e-12))),
}
_DPI = 100


@dataclass(frozen=True)
class Axis:
    """How to show one quantity: label with unit, SI value × scale = shown value, log or linear."""

    label: str
    scale: float = 1.0
    log: bool = False


def axis_for(name: str, dim: Dimension | None, values: Sequence[float], unit: str = "") -> Axis:
    """An axis for positive SI `values`: the largest unit that keeps their median >= 1."""
    values = sorted(v for v in values if v > 0 and math.isfinite(v))
    log = bool(values) and values[-1] / values[0] > 20
    if dim not in _UNITS or not values:
        return Axis(f"{name} ({unit})" if unit else name, 1.0, log)
    median = values[len(values) // 2]
    symbol, factor = _UNITS[dim][1][-1]
    for candidate, candidate_factor in _UNITS[dim][1]:
        if median >= candidate_factor:
            symbol, factor = candidate, candidate_factor
            break
    return Axis(f"{name} ({symbol})", 1.0 / factor, log)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def _column(points: Sequence[Sequence[float | None]], j: int, scale: float) -> list[float]:
    values = (p[j] for p in points)
    return [float("nan") if v is None else float(v) * scale for v in values]


def _log(axis) -> None:
    """A log scale labelled with plain numbers at 1, 2, 5 × 10^k (not 10^k exponents)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _style(ax, x: Axis, y: Axis) -> None:
    ax.set_xlabel(x.label)
    ax.set_ylabel(y.label)
    if x.log:
        ax.set_xscale("log")
        _log(ax.xaxis)
    if y.log:
        ax.set_yscale("log")
        _log(ax.yaxis)
    ax.grid(True, which="major", alpha=0.3)


def scatter_png(
    *,
    candidates: Sequence[Sequence[float | None]],
    excluded: Sequence[Sequence[float | None]],
    front: Sequence[Sequence[float | None]],
    labels: Sequence[Axis],
    title: str = "",
) -> bytes:
    """Objective 1 vs objective 0 for every candidate, the front highlighted (a third objective colours the dots)."""
    fig = _figure(7.5, 5.2)
    ax = fig.subplots()
    x, y = labels[0], labels[1]
    if excluded:
        ax.scatter(
            _column(excluded, 0, x.scale),
            _column(excluded, 1, y.scale),
            s=14,
            marker="x",
            color="0.75",
            linewidths=0.8,
            label=f"excluded by a constraint ({len(excluded)})",
        )
    if candidates:
        cx, cy = _column(candidates, 0, x.scale), _column(candidates, 1, y.scale)
        if len(labels) > 2:
            z = labels[2]
            dots = ax.scatter(
                cx,
                cy,
                s=16,
                c=_column(candidates, 2, z.scale),
                cmap="viridis",
                alpha=0.8,
                label=f"design points ({len(candidates)})",
            )
            fig.colorbar(dots, ax=ax, label=z.label)
        else:
            ax.scatter(cx, cy, s=16, color="C0", alpha=0.5, label=f"design points ({len(candidates)})")
    if front:
        fx, fy = _column(front, 0, x.scale), _column(front, 1, y.scale)
        if len(labels) == 2:
            ax.step(fx, fy, where="post", color="C3", linewidth=1.2, alpha=0.8)
        ax.scatter(
            fx, fy, s=46, facecolors="none", edgecolors="C3", linewidths=1.6, label=f"Pareto front ({len(front)})"
        )
    _style(ax, x, y)
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title, fontsize=10)
    return _png(fig)


def breakdown_png(names: Sequence[str], breakdowns: Sequence[Mapping[str, float]], *, title: str = "") -> bytes:
    """Stacked bars of energy per inference by component (compute, each memory, static), one bar per point."""
    names, breakdowns = list(names)[:30], list(breakdowns)[:30]
    parts = list(dict.fromkeys(k for b in breakdowns for k in b))
    totals = [sum(v for v in b.values() if v) for b in breakdowns]
    axis = axis_for("energy per inference", Dimension.ENERGY, totals)
    fig = _figure(max(6.0, 0.45 * len(names) + 3.0), 4.6)
    ax = fig.subplots()
    bottom = [0.0] * len(names)
    for i, part in enumerate(parts):
        heights = [(b.get(part) or 0.0) * axis.scale for b in breakdowns]
        ax.bar(range(len(names)), heights, 0.7, bottom=bottom, color=f"C{i % 10}", label=part)
        bottom = [b + h for b, h in zip(bottom, heights)]
    ax.set_xticks(range(len(names)), names, rotation=60 if len(names) > 8 else 0, fontsize=8)
    ax.set_xlabel("design point (Pareto front, in front order)")
    ax.set_ylabel(axis.label)
    ax.grid(axis="y", alpha=0.3)
    if parts:
        ax.legend(fontsize=8, loc="best")
    else:
        ax.text(0.5, 0.5, "no energy breakdown recorded", transform=ax.transAxes, ha="center")
    if title:
        ax.set_title(title, fontsize=10)
    return _png(fig)


def op_curves_png(
    ops: Sequence[str],
    medians: Mapping[str, Sequence[float]],
    lines: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    title: str = "",
) -> bytes:
    """Latency and energy per operating point: the median over all design points, and the front's designs."""
    fig = _figure(11.0, 4.4)
    axes = fig.subplots(1, 2)
    for ax, what, dim, name in (
        (axes[0], "latency_s", Dimension.TIME, "latency"),
        (axes[1], "energy_j", Dimension.ENERGY, "energy per inference"),
    ):
        values = list(medians.get(what, [])) + [v for line in lines.values() for v in line.get(what, [])]
        axis = axis_for(name, dim, values)
        xs = list(range(len(ops)))
        ax.plot(
            xs,
            [v * axis.scale for v in medians.get(what, [])],
            "k--o",
            markersize=4,
            label="median of all design points",
        )
        for i, (label, line) in enumerate(lines.items()):
            ax.plot(
                xs,
                [v * axis.scale for v in line.get(what, [])],
                "-o",
                markersize=3,
                color=f"C{i % 10}",
                label=f"{label} (Pareto)",
            )
        ax.set_xticks(xs, list(ops), rotation=30 if len(ops) > 4 else 0, fontsize=8)
        ax.set_xlabel("operating point (fastest first)")
        ax.set_ylabel(axis.label)
        if axis.log:
            ax.set_yscale("log")
            _log(ax.yaxis)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return _png(fig)
