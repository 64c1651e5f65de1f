"""Timeline PNG of an always-on run: power vs time over the recorded window, the chip's states shaded."""

from __future__ import annotations

from pathlib import Path

from tinysim.errors import TinysimError
from tinysim.system.result import AlwaysOnResult

__all__ = ["plot_timeline"]

_STATE_COLOURS = {
    ("front_end", "active"): "#f4a261",
    ("network", "active"): "#e63946",
    ("chip", "wake"): "#9b5de5",
    ("chip", "idle"): "#a8dadc",
    ("chip", "sleep"): "#e9f5db",
}


def plot_timeline(result: AlwaysOnResult, path: str | Path) -> None:
    """Total power (step line, log scale) and each track's power over `result.window_s`; chip states shaded."""
    if result.window_s is None or not result.segments:
        raise TinysimError("no timeline was recorded: run with a timeline window", field="timeline")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    start, end = result.window_s
    end = min(end, result.duration_s)
    segs = [s for s in result.segments if s.end_s > start and s.start_s < end]
    edges = np.unique(np.clip([t for s in segs for t in (s.start_s, s.end_s)] + [start, end], start, end))
    mids = (edges[:-1] + edges[1:]) / 2
    tracks = sorted({s.track for s in segs})
    per_track = {t: np.zeros(len(mids)) for t in tracks}
    for s in segs:
        mask = (mids >= s.start_s) & (mids < s.end_s)
        per_track[s.track][mask] = s.power_w
    total = sum(per_track.values(), np.zeros(len(mids)))
    scale, unit = (1e3, "ms") if end - start < 2 else (1.0, "s")

    fig, ax = plt.subplots(figsize=(11, 4.5))
    for s in segs:
        colour = _STATE_COLOURS.get(s.key)
        if s.track == "chip" and colour:
            ax.axvspan(max(s.start_s, start) * scale, min(s.end_s, end) * scale, color=colour, alpha=0.6, lw=0)
    x = np.append(edges[:-1], edges[-1]) * scale
    for track in tracks:
        ax.step(x, np.append(per_track[track], per_track[track][-1]) * 1e6, where="post", lw=0.8, label=track)
    ax.step(x, np.append(total, total[-1]) * 1e6, where="post", color="black", lw=1.4, label="total")
    ax.set_yscale("log")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("power (µW)")
    ax.set_title(
        f"{result.scenario} on {result.arch} @ {result.work.operating_point}: "
        f"average {result.average_power_w * 1e6:.4g} µW (chip {result.chip_power_w * 1e6:.4g} µW)"
    )
    handles, labels = ax.get_legend_handles_labels()
    from matplotlib.patches import Patch

    shown = {s.key for s in segs if s.track == "chip"}
    for key, colour in _STATE_COLOURS.items():
        if key in shown:
            handles.append(Patch(color=colour, alpha=0.6))
            labels.append(f"chip: {key[0] if key[1] == 'active' else key[1]}")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    except OSError as err:
        raise TinysimError(f"cannot write the timeline: {err.strerror}", file=str(path), field="timeline") from err
    finally:
        plt.close(fig)
