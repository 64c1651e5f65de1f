"""A fleet's distribution as text (P5/P50/P95 table), JSON (`fleet:` block) and a histogram PNG."""

from __future__ import annotations

import json
from typing import Any

from tinysim.report.table import format_table
from tinysim.system.fleet import PERCENTILES, FleetResult
from tinysim.units import Dimension, format_quantity

__all__ = ["plot_fleet", "to_dict", "to_json", "to_text"]

_DAY_S = 86400.0


def _days(seconds: float) -> str:
    return f"{seconds / _DAY_S:.4g} days"


def to_text(fleet: FleetResult) -> str:
    power = fleet.percentiles(fleet.average_power_w)
    life = fleet.percentiles(fleet.battery_life_s)
    keys = [f"p{p:g}" for p in PERCENTILES]
    rows = [
        ["average power", *(format_quantity(power[k], Dimension.POWER) for k in keys)],
        ["battery life", *(_days(life[k]) for k in keys)],
    ]
    head = (
        f"fleet of {fleet.devices} devices: {fleet.scenario} on {fleet.arch}, "
        f"{format_quantity(fleet.duration_s, Dimension.TIME)} each (seed {fleet.seed})"
    )
    return head + "\n" + format_table(["", *(k.upper() for k in keys)], rows)


def to_dict(fleet: FleetResult) -> dict[str, Any]:
    return {"scenario": fleet.scenario, "arch": fleet.arch, "fleet": fleet.to_dict()}


def to_json(fleet: FleetResult) -> str:
    return json.dumps(to_dict(fleet), indent=2)


def plot_fleet(fleet: FleetResult, path: str, bins: int = 40) -> None:
    """Two histograms side by side: average power (µW) and battery life (days), P5/P50/P95 marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    panels = (
        (fleet.average_power_w * 1e6, "average power (µW)", "tab:blue"),
        (fleet.battery_life_s / _DAY_S, "battery life (days)", "tab:green"),
    )
    for ax, (values, label, color) in zip(axes, panels, strict=True):
        ax.hist(values, bins=bins, color=color, alpha=0.8)
        for p, style in zip(PERCENTILES, (":", "--", ":"), strict=True):
            ax.axvline(float(_percentile(values, p)), color="black", linestyle=style, linewidth=1)
        ax.set_xlabel(label + "   (P5 / P50 / P95 dashed)")
        ax.set_ylabel("devices")
    fig.suptitle(
        f"{fleet.devices} devices, {fleet.scenario} on {fleet.arch}, {format_quantity(fleet.duration_s, Dimension.TIME)}"
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _percentile(values: Any, p: float) -> float:
    import numpy as np

    return float(np.percentile(values, p))
