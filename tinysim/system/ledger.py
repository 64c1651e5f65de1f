"""Energy ledger: joules and seconds by (component, power state), from state intervals and lumps.

Each physical part (sensor, chip, host) has a *track*: at any moment it is in one interval,
labelled with the (component, state) it is charged to and drawn at a constant power:

    ledger.enter("chip", ("network", "active"), 4.1e-3, now)   # closes the chip's previous interval
    ledger.lump(("chip", "wake"), 50e-9)                        # an instantaneous energy (zero-latency wake)

`snapshot(now)` includes the open intervals up to `now`; `skip(...)` is how fast-forward credits
whole steady periods at once (open intervals are closed at the jump and resume after it, so
nothing is charged twice). An optional window records the intervals for a timeline plot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["Ledger", "Segment", "Snapshot"]

Key = tuple[str, str]  # (component, state)


@dataclass(frozen=True)
class Segment:
    """One recorded interval of one track, for the timeline."""

    track: str
    key: Key
    start_s: float
    end_s: float
    power_w: float


@dataclass(frozen=True)
class Snapshot:
    energy_j: dict[Key, float]
    time_s: dict[Key, float]
    counts: dict[str, int]

    def minus(self, other: Snapshot) -> Snapshot:
        return Snapshot(
            {k: v - other.energy_j.get(k, 0.0) for k, v in self.energy_j.items()},
            {k: v - other.time_s.get(k, 0.0) for k, v in self.time_s.items()},
            {k: v - other.counts.get(k, 0) for k, v in self.counts.items()},
        )

    def close_to(self, other: Snapshot, rel: float = 1e-9) -> bool:
        """Same counts, energies and times within `rel` (relative to the period's total)."""
        if self.counts != other.counts or self.energy_j.keys() != other.energy_j.keys():
            return False
        scale_e = max(sum(self.energy_j.values()), 1e-30)
        scale_t = max(sum(self.time_s.values()), 1e-30)
        return all(abs(v - other.energy_j[k]) <= rel * scale_e for k, v in self.energy_j.items()) and all(
            abs(v - other.time_s.get(k, 0.0)) <= rel * scale_t for k, v in self.time_s.items()
        )


@dataclass
class _Open:
    key: Key
    power_w: float
    since_s: float
    left_s: float | None = None  # a fixed-length interval: how much of it is still to come


@dataclass
class Ledger:
    window: tuple[float, float] | None = None  # record segments overlapping [start, end) for the timeline
    energy_j: dict[Key, float] = field(default_factory=dict)
    time_s: dict[Key, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    segments: list[Segment] = field(default_factory=list)
    _open: dict[str, _Open] = field(default_factory=dict)

    def enter(self, track: str, key: Key, power_w: float, now: float, duration_s: float | None = None) -> None:
        """`track` is from now on in state `key`, drawing `power_w` (for `duration_s`, when that is known)."""
        self.close(track, now)
        self._open[track] = _Open(key, power_w, now, duration_s)

    def close(self, track: str, now: float) -> None:
        current = self._open.pop(track, None)
        if current is None:
            return
        duration = _elapsed(current, now)
        self.energy_j[current.key] = self.energy_j.get(current.key, 0.0) + current.power_w * duration
        self.time_s[current.key] = self.time_s.get(current.key, 0.0) + duration
        if self.window is not None and current.since_s < self.window[1] and now > self.window[0] and duration > 0:
            self.segments.append(Segment(track, current.key, current.since_s, now, current.power_w))

    def lump(self, key: Key, energy_j: float) -> None:
        self.energy_j[key] = self.energy_j.get(key, 0.0) + energy_j
        self.time_s.setdefault(key, 0.0)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n

    def state(self, track: str) -> Key | None:
        current = self._open.get(track)
        return current.key if current else None

    def open_interval(self, track: str) -> tuple[Key, float] | None:
        """(key, power) of the interval `track` is in now, if any."""
        current = self._open.get(track)
        return (current.key, current.power_w) if current else None

    def signature(self) -> tuple:
        """What the tracks are doing (not since when): equal signatures + equal deltas = a steady state."""
        return tuple(sorted((t, o.key, o.power_w) for t, o in self._open.items()))

    def snapshot(self, now: float) -> Snapshot:
        energy, time = dict(self.energy_j), dict(self.time_s)
        for current in self._open.values():
            duration = _elapsed(current, now)
            energy[current.key] = energy.get(current.key, 0.0) + current.power_w * duration
            time[current.key] = time.get(current.key, 0.0) + duration
        return Snapshot(energy, time, dict(self.counts))

    def skip(self, delta: Snapshot, periods: int, now_s: float, span_s: float) -> None:
        """Credit `periods` repetitions of `delta` (one steady period), the stretch [now, now + span) in all:
        open intervals are charged up to now and resume, unchanged, at now + span."""
        for k, v in delta.energy_j.items():
            self.energy_j[k] = self.energy_j.get(k, 0.0) + periods * v
        for k, v in delta.time_s.items():
            self.time_s[k] = self.time_s.get(k, 0.0) + periods * v
        for name, n in delta.counts.items():
            self.counts[name] = self.counts.get(name, 0) + periods * n
        for track, current in list(self._open.items()):
            self.close(track, now_s)
            left = None if current.left_s is None else current.left_s - _elapsed(current, now_s)
            self._open[track] = _Open(current.key, current.power_w, now_s + span_s, left)

    def finish(self, now: float) -> None:
        for track in list(self._open):
            self.close(track, now)


def _elapsed(current: _Open, now: float) -> float:
    """Time in `current` up to `now`. A fixed-length interval ending now lasted its stated length: the clock
    is absolute, so `now - since` far into a run is off by ulp(now), which for a microsecond wake-up a year
    in is a relative 1e-4 (and a fast-forwarded delta multiplies it)."""
    elapsed = now - current.since_s
    if current.left_s is not None and abs(elapsed - current.left_s) <= 4 * math.ulp(now):
        return current.left_s
    return elapsed
