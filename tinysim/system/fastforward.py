"""Analytical fast-forward of steady stretches.

Between keyword arrivals and host transitions an always-on device repeats itself. At each period
boundary (the moment a window's last frame is ready) the model asks `FastForward.plan` whether
it may jump over whole repetitions before the next external change (an event, the host going
back to sleep, the end of the run, the timeline window), crediting each as one measured delta:

- exact: the state (power states, buffer contents and the chip's progress through its current
  task, both relative to now, pending events, host) is the same as L and 2L boundaries ago
  (L = 1..`MAX_LAG`) and the two L-period deltas agree — a repetition is L periods, and the jump
  is exact; a state once seen repeating is remembered, and jumps at once when it comes back (after
  each keyword, the host's on-time and the return to sleep are such states);
- saturated: the chip cannot keep up (frames are dropped in both windows; it may still wait for a
  frame now and then, as a drop leaves a gap); its phase against the frames drifts, so no single period
  repeats. Two consecutive windows of about `SATURATED_WINDOW_S` that agree within `SATURATED_REL`
  (counts within one or that fraction)
  make a repetition of both windows together (the host, independent of the chip, is credited
  from its present state, so host wake-ups do not restart the windows). This is an extrapolation: energy and inference
  counts land within about one inference per repetition, but drop counts of a chip whose drop
  pattern wanders over tens of seconds can be off by tens of percent (the result says how much
  time was extrapolated this way; --no-fast-forward simulates it all).

Everything else is simulated event by event. The exact repetition found at the last boundary is kept in
`cycle`: replay.py adds up whole cycles and recorded keyword episodes from it (no horizon at the next keyword).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field

from tinysim.system.ledger import Ledger, Snapshot

__all__ = ["MAX_LAG", "SATURATED_REL", "SATURATED_WINDOW_S", "FastForward", "Jump"]

SATURATED_WINDOW_S = 2.0  # length of each of the two windows compared in the saturated regime
SATURATED_REL = 0.01
MAX_LAG = 8  # longest exact repetition looked for, in periods
MAX_KNOWN = 4096  # repeating states remembered (each with its delta)


@dataclass(frozen=True)
class Jump:
    """`units` repetitions of `delta`, each lasting `unit_periods` inference periods."""

    units: int
    unit_periods: int
    delta: Snapshot
    exact: bool = True


@dataclass
class FastForward:
    ledger: Ledger
    period_s: float
    enabled: bool = True
    skipped_s: float = 0.0
    saturated_s: float = 0.0  # of which jumped in the saturated regime (extrapolated, not exact)
    _history: list[tuple[Hashable, Snapshot]] = field(default_factory=list)  # the last 2 x MAX_LAG + 1 boundaries
    _index: int = 0  # boundaries seen
    _coarse: Hashable = None
    _windows: list[tuple[int, Snapshot]] = field(default_factory=list)
    cycle: tuple[int, Snapshot] | None = None  # (L, delta) of the exact repetition found at the last boundary
    _known: dict[Hashable, tuple[int, Snapshot]] = field(default_factory=dict)  # states seen repeating: (L, delta)

    @property
    def window_periods(self) -> int:
        return max(1, round(SATURATED_WINDOW_S / self.period_s))

    def plan(self, now: float, state: Hashable, coarse: Hashable, horizon_s: float) -> Jump | None:
        """The jump to make at this boundary, or None to simulate on.

        `state`: everything that must repeat exactly; `coarse`: what must not change at all in the
        saturated regime (the sensor's settings).
        """
        if not self.enabled:
            return None
        snap = self.ledger.snapshot(now)
        self._index += 1
        exact = self.cycle = self._exact(snap, state)
        if exact is not None and len(self._known) < MAX_KNOWN:
            self._known.setdefault(state, exact)
        elif exact is None:  # a state seen repeating before repeats again: no need to watch 2L periods first
            exact = self._known.get(state)
        if exact is not None:
            return self._fit(exact[1], exact[0], now, horizon_s)
        saturated_delta = self._saturated(snap, coarse)
        if saturated_delta is not None:
            jump = self._fit(saturated_delta, 2 * self.window_periods, now, horizon_s)
            return None if jump is None else Jump(jump.units, jump.unit_periods, jump.delta, exact=False)
        return None

    def _exact(self, snap: Snapshot, state: Hashable) -> tuple[int, Snapshot] | None:
        """(L, the last L periods' delta) for the shortest lag L at which the state repeats exactly."""
        self._history = [*self._history[-2 * MAX_LAG :], (state, snap)]
        h = self._history
        for lag in range(1, MAX_LAG + 1):
            if len(h) <= 2 * lag:
                break
            (s0, a), (s1, b), (s2, c) = h[-1 - 2 * lag], h[-1 - lag], h[-1]
            if s0 == s1 == s2:
                delta = c.minus(b)
                if not any(delta.counts.get(k) for k in _HOST_COUNTS) and delta.close_to(b.minus(a)):
                    return lag, delta  # (keywords are not periodic: a stretch with one is no repetition)
        return None

    def _saturated(self, snap: Snapshot, coarse: Hashable) -> Snapshot | None:
        snap = _without_host(snap)  # the host is independent of the chip: credited from its present state
        if coarse != self._coarse or not self._windows:
            self._coarse, self._windows = coarse, [(self._index, snap)]
            return None
        if self._index - self._windows[-1][0] < self.window_periods:
            return None
        self._windows = [*self._windows[-2:], (self._index, snap)]
        if len(self._windows) < 3:
            return None
        (_, s0), (_, s1), (_, s2) = self._windows
        first, second = s1.minus(s0), s2.minus(s1)
        if not (first.counts.get("frames_dropped") and second.counts.get("frames_dropped")):
            return None  # still filling its buffer: not the steady regime yet
        if not _similar(first, second):
            return None
        delta = s2.minus(s0)
        host = self.ledger.open_interval("host")
        if host is not None:  # constant until the horizon (its next change bounds the jump)
            key, power_w = host
            unit_s = 2 * self.window_periods * self.period_s
            delta.energy_j[key] = power_w * unit_s
            delta.time_s[key] = unit_s
        return delta

    def _fit(self, delta: Snapshot, unit_periods: int, now: float, horizon_s: float) -> Jump | None:
        units = math.floor((horizon_s - now) / (unit_periods * self.period_s) * (1 + 1e-12))
        return Jump(units, unit_periods, delta) if units >= 1 else None

    def apply(self, jump: Jump, now_s: float, span_s: float) -> None:
        """Credit the jump over [now, now + span); the next boundaries start afresh."""
        self.ledger.skip(jump.delta, jump.units, now_s, span_s)
        self.skipped_s += span_s
        if not jump.exact:
            self.saturated_s += span_s
        after = self.ledger.snapshot(now_s + span_s)
        self._history = [(self._history[-1][0], after)] if self._history else []
        self._windows = [(self._index, _without_host(after))] if self._windows else []


_HOST_COUNTS = ("events", "detections", "host_wakeups")


def _without_host(snap: Snapshot) -> Snapshot:
    """The chip and sensor part of a snapshot (no host energy, no event counts)."""
    return Snapshot(
        {k: v for k, v in snap.energy_j.items() if k[0] != "host"},
        {k: v for k, v in snap.time_s.items() if k[0] != "host"},
        {k: (0 if k in _HOST_COUNTS else v) for k, v in snap.counts.items()},
    )


def _similar(a: Snapshot, b: Snapshot, rel: float = SATURATED_REL) -> bool:
    """Two windows' deltas agree: energies and times within `rel` of the window's total, counts within
    one or `rel`."""
    if a.energy_j.keys() != b.energy_j.keys() or a.counts.keys() != b.counts.keys():
        return False
    scale_e = max(sum(a.energy_j.values()), 1e-30)
    scale_t = max(sum(a.time_s.values()), 1e-30)
    return (
        all(abs(v - b.energy_j[k]) <= rel * scale_e for k, v in a.energy_j.items())
        and all(abs(v - b.time_s.get(k, 0.0)) <= rel * scale_t for k, v in a.time_s.items())
        and all(abs(v - b.counts[k]) <= max(1, rel * max(abs(v), abs(b.counts[k]))) for k, v in a.counts.items())
    )
