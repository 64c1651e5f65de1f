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
        expected = int((windows - last) * p * 1.2) + 16
        idx = last + np.cumsum(rng.geometric(p, size=expected))
        chosen.append(idx[idx < windows])
        if idx[-1] >= windows:
            break
        last = int(idx[-1])
    index = np.concatenate(chosen)
    return first + index * period - 0.5 * period
