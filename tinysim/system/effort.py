"""A bound on the frames an always-on run simulates one by one (issue 14: no hang on valid input).

Replay and fast-forward make most runs cost what their distinct episodes cost. A device that never settles
into a repeating cycle between events (an overloaded chip whose saturated windows restart at every keyword,
dense overlapping events, or --no-fast-forward) costs what its frames cost: a year of 10 ms frames is 3e9 of
them, hours of SimPy. Once a run has simulated ESTIMATE_AFTER_FRAMES frames, the total is extrapolated from
the simulated time covered so far; above the limit the run stops in one line with the estimate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tinysim.errors import SpecError

__all__ = ["MAX_SIMULATED_FRAMES", "EffortGuard"]

# ~1.5 minutes of SimPy at the ~60,000 frames/s measured on one core of the development machine (2-core
# AMD EPYC; tinysim always-on kws_always_on --arch rp2040 --no-fast-forward): the run's wall-time budget
MAX_SIMULATED_FRAMES = 5_000_000
ESTIMATE_AFTER_FRAMES = MAX_SIMULATED_FRAMES // 50  # enough of the run to extrapolate from (~2 s)
CHECK_EVERY = 4096


@dataclass
class EffortGuard:
    end_s: float
    limit_frames: float = MAX_SIMULATED_FRAMES
    file: str | None = None
    progress: Callable[[int, int], None] | None = None  # (simulated seconds, of the run's), every CHECK_EVERY frames
    dropped_fraction: Callable[[], float] = lambda: 0.0  # of the frames so far (why the run costs what it does)
    fast_forward: bool = True
    frames: int = 0
    started: float = field(default_factory=time.monotonic)

    def frame(self, now_s: float) -> None:
        """Count one simulated frame; every CHECK_EVERY frames, refuse a run whose total would pass the limit."""
        self.frames += 1
        if self.frames % CHECK_EVERY:
            return
        if self.progress is not None:
            self.progress(int(now_s), int(self.end_s))
        if self.frames < min(ESTIMATE_AFTER_FRAMES, self.limit_frames):
            return
        expected = self.frames * self.end_s / max(now_s, 1e-9)
        if expected <= self.limit_frames:
            return
        wall_s = (time.monotonic() - self.started) * expected / self.frames
        dropped = self.dropped_fraction()
        if not self.fast_forward:
            why = "every frame is simulated (--no-fast-forward)"
        elif dropped:
            why = f"the chip cannot keep up ({dropped:.0%} of frames dropped) and every event restarts its saturated stretches"
        else:
            why = "the device does not settle into a repeating cycle between its events"
        raise SpecError(
            f"{self.end_s:g} s means simulating ~{expected:.2g} frames one by one (~{_minutes(wall_s)} here), beyond "
            f"the limit of {self.limit_frames:.2g}: {why}; shorten --duration (power and rates are per unit "
            "time), or raise the limit with --work-limit FACTOR",
            file=self.file,
            field="duration",
        )


def _minutes(seconds: float) -> str:
    return (
        f"{seconds:.0f} s"
        if seconds < 120
        else f"{seconds / 60:.0f} min"
        if seconds < 7200
        else f"{seconds / 3600:.1f} h"
    )
