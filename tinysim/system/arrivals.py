"""When keywords (or anomalies) arrive: drawn per inference window with a seed, or read from a trace."""

from __future__ import annotations

import numpy as np

from tinysim.system.scenario import Scenario

__all__ = ["event_times", "first_inference_s"]


def first_inference_s(scenario: Scenario) -> float:
    """When the first window is complete: its last frame is ready."""
    return scenario.inference.window_frames * scenario.sensor.frame_hop_s


def event_times(scenario: Scenario, duration_s: float) -> np.ndarray:
    """Sorted event times (s) in [0, duration_s).

    With `probability_per_window` p, each inference window independently holds an event with
    probability p (drawn as geometric gaps, so a day at 100 windows/s costs nothing); the event
    is placed in the middle of the window's last stride, so the window's inference sees it.
    """
    ev = scenario.events
    if ev.trace_times_s is not None:
        times = np.asarray(ev.trace_times_s, dtype=np.float64)
        return times[times < duration_s]
    p = ev.probability_per_window
    period = scenario.period_s
    first = first_inference_s(scenario)
    if p <= 0 or duration_s < first:
        return np.zeros(0)
    windows = int((duration_s - first) // period) + 1
    rng = np.random.default_rng(ev.seed)
    chosen: list[np.ndarray] = []
    last = -1
    while True:
        expected = min(int((windows - last) * p * 1.2) + 16, _MAX_DRAW)
        idx = last + np.cumsum(_geometric_gaps(rng, p, expected))
        chosen.append(idx[idx < windows])
        if idx[-1] >= windows:
            break
        last = int(idx[-1])
    index = np.concatenate(chosen).astype(np.int64)
    return first + index * period - 0.5 * period


_MAX_DRAW = 1 << 20  # gaps drawn per round: bounds the memory of one round whatever p and the duration
_INT_GEOMETRIC_MIN_P = 1e-12  # numpy's int64 geometric draws wrap around for smaller p (gaps beyond 2**63)


def _geometric_gaps(rng: np.random.Generator, p: float, n: int) -> np.ndarray:
    """n geometric gaps (windows between events, >= 1) as float64: numpy's own draw where its int64 result
    cannot overflow (the seeded sequence of earlier versions), else the inverse CDF in floating point, whose
    gaps for a tiny p are simply larger than any duration (no wrap-around, no endless loop)."""
    if p >= _INT_GEOMETRIC_MIN_P:
        return rng.geometric(p, size=n).astype(np.float64)
    u = rng.random(n)
    with np.errstate(over="ignore", divide="ignore"):  # a denormal p: gaps of +inf, i.e. never
        return np.maximum(np.ceil(np.log1p(-u) / np.log1p(-p)), 1.0)
