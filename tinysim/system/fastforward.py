"""Analytical fast-forward of steady stretches.

Between keyword arrivals and host transitions an always-on device repeats the same inference
period exactly. At each period boundary (the moment a window's last frame is ready) the model
asks `FastForward.periods_to_skip`: if the last two periods left the same ledger deltas and the
system is in the same state (same power states, empty sensor buffer, chip waiting, nothing
pending), the next K whole periods before the next external change (an event, the host going
back to sleep, the end of the run, the timeline window) are credited as K × one period's delta
and simulated time jumps over them. Everything else is simulated event by event.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass

from tinysim.system.ledger import Ledger, Snapshot

__all__ = ["FastForward"]


@dataclass
class FastForward:
    ledger: Ledger
    period_s: float
    enabled: bool = True
    skipped_s: float = 0.0
    _last: tuple[Hashable, Snapshot] | None = None
    _last_delta: Snapshot | None = None

    def periods_to_skip(self, now: float, state: Hashable, horizon_s: float) -> int:
        """Whole periods that can be credited now without simulating them (0 if not steady)."""
        if not self.enabled:
            return 0
        snap = self.ledger.snapshot(now)
        steady = False
        delta = None
        if self._last is not None and self._last[0] == state:
            delta = snap.minus(self._last[1])
            steady = self._last_delta is not None and delta.close_to(self._last_delta)
        self._last, self._last_delta = (state, snap), delta
        if not steady:
            return 0
        return max(0, math.floor((horizon_s - now) / self.period_s * (1 + 1e-12)))

    def skip(self, periods: int, now_s: float, span_s: float) -> None:
        """Credit `periods` copies of the last period's delta over [now, now + span)."""
        assert self._last is not None and self._last_delta is not None
        self.ledger.skip(self._last_delta, periods, now_s, span_s)
        self.skipped_s += span_s
        self._last = (self._last[0], self.ledger.snapshot(now_s + span_s))
