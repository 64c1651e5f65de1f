"""Replay of keyword episodes: a year costs what its distinct episodes cost, not what its frames cost.

Between keywords the device repeats a steady *cycle* (fast-forward finds it: the state at a period
boundary repeats every L periods with equal deltas). A keyword starts an *episode*: from the cycle
boundary before it, through the detection and the host's on-time, until the next boundary whose state
is the cycle's again (host asleep, nothing pending). The chip never depends on the host, so an episode
is fixed by the cycle state it starts from and by which network completions see its keywords (their
*slots*); the precise arrival times inside a slot change nothing. The SimPy model simulates each
distinct (cycle, slots) episode once (`start` ... `finish`); `plan` then walks the arrival times,
adding up whole cycles and cached episodes, and hands the model one jump whose delta is that sum
(float64, exact to rounding). Keywords overlapping one episode are part of its key: simulated
together the first time, replayed together after. Anything ambiguous (an arrival within `EPS_S` of
a completion or a boundary) is simulated, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import numpy as np

from tinysim.system.ledger import Snapshot
from tinysim.system.replay_walk import EPS_S, UNSETTLED, slot_of, walk

__all__ = ["EPS_S", "Cycle", "Episode", "Plan", "Replay"]

QUIET_LIMIT = 32  # quiet boundaries an episode may spend away from its cycle state before it is abandoned


@dataclass(frozen=True)
class Cycle:
    """`periods` inference periods adding `delta`, the network finishing `done_s` after the cycle's start."""

    index: int
    periods: int
    period_s: float
    delta: Snapshot
    done_s: tuple[float, ...]
    length_s: float

    done: np.ndarray = field(init=False, repr=False, compare=False)  # done_s as the compiled walk reads it

    def __post_init__(self) -> None:
        object.__setattr__(self, "done", np.array(self.done_s, dtype=np.float64))

    def slot(self, rel_s: float) -> int | None:
        """Which completion (0 = the first after the cycle's start) first sees a keyword `rel_s` after the
        start; None when the arrival is too close to a completion or a period boundary to tell (the formula
        is replay_walk.slot_of, which the compiled walk uses)."""
        found = slot_of(rel_s, self.length_s, self.period_s, self.done)
        return None if found < 0 else found


@dataclass(frozen=True)
class Episode:
    slots: tuple[int, ...]  # one per keyword, in arrival order
    frames: int  # its length, a whole number of inference periods
    delta: Snapshot


@dataclass(frozen=True)
class Plan:
    """Jump `frames` frames crediting `delta`; `next_arrival`: the first keyword not replayed; `record`: the
    next episode starts now and is not known (simulate and record it)."""

    frames: int
    delta: Snapshot | None
    next_arrival: int
    record: bool
    replayed: int = 0  # episodes replayed


@dataclass
class _Recording:
    cycle: Cycle
    seq: int
    first_arrival: int
    snap: Snapshot
    quiet: int = 0


@dataclass
class Replay:
    period_s: float
    hop_s: float
    every_frames: int
    cycles: dict[Hashable, Cycle] = field(default_factory=dict)
    episodes: dict[tuple[int, tuple[int, ...]], Episode] = field(default_factory=dict)  # by (cycle, slots)
    sizes: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # keywords per episode, by first slot
    tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)  # the walk's, by cycle
    recording: _Recording | None = None
    simulated: int = 0  # distinct episodes simulated and recorded
    replayed: int = 0  # episodes credited from the record
    replayed_s: float = 0.0

    def fresh(self) -> Replay:
        """A replay for another run of the same chip and schedule (other arrivals): the cycles and episodes
        learned so far shared with this one, its own recording, counters and times (tinysim.system.fleet)."""
        return Replay(self.period_s, self.hop_s, self.every_frames, self.cycles, self.episodes, self.sizes, self.tables)

    def boundary_s(self, seq: int) -> float:
        """When frame `seq` is ready, as the model computes it."""
        return (seq + 1) * self.hop_s

    def learn(self, state: Hashable, lag: int, delta: Snapshot, done_s: list[float], now: float) -> None:
        """Keep the steady cycle seen at this boundary (quiet state), if its completions are unambiguous."""
        if state in self.cycles:
            return
        start = now - lag * self.period_s
        rel = tuple(sorted(t - start for t in done_s if t - start > 0.5 * EPS_S and t <= now + 0.5 * EPS_S))
        if not rel or any(abs(r - round(r / self.period_s) * self.period_s) < EPS_S for r in rel):
            return
        self.cycles[state] = Cycle(len(self.cycles), lag, self.period_s, delta, rel, lag * self.period_s)

    def start(self, state: Hashable, seq: int, next_arrival: int, snap: Snapshot) -> None:
        self.recording = _Recording(self.cycles[state], seq, next_arrival, snap)

    def watch(
        self,
        state: Hashable,
        quiet: bool,
        seq: int,
        arrivals: np.ndarray,
        next_arrival: int,
        snap: Callable[[], Snapshot],
    ) -> bool:
        """At a boundary while recording: True while the episode goes on (no replay until it ends)."""
        rec = self.recording
        if rec is None:
            return False
        if quiet and self.cycles.get(state) is rec.cycle:
            self.recording = None
            self._store(rec, seq, arrivals, next_arrival, snap())
            return False
        rec.quiet = rec.quiet + 1 if quiet else 0
        if rec.quiet > QUIET_LIMIT:
            self.recording = None  # settled elsewhere: not an episode of this cycle
            return False
        return True

    def _store(self, rec: _Recording, seq: int, arrivals: np.ndarray, next_arrival: int, snap: Snapshot) -> None:
        t0, t_end = self.boundary_s(rec.seq), self.boundary_s(seq)
        times = arrivals[rec.first_arrival : next_arrival]
        if not len(times) or times[-1] > t_end - EPS_S:
            return
        if next_arrival < len(arrivals) and arrivals[next_arrival] < t_end + EPS_S:
            return
        slots = tuple(rec.cycle.slot(float(t) - t0) for t in times)
        if any(s is None for s in slots):
            return
        episode = Episode(slots, seq - rec.seq, snap.minus(rec.snap))  # type: ignore[arg-type]
        self.episodes[(rec.cycle.index, slots)] = episode  # type: ignore[index]
        if rec.cycle.index in self.tables:
            self._put(rec.cycle.index, slots, episode.frames)  # type: ignore[arg-type]
        sizes = self.sizes.setdefault((rec.cycle.index, slots[0]), [])  # type: ignore[arg-type]
        if len(slots) not in sizes:
            sizes.append(len(slots))
            sizes.sort()
        self.simulated += 1

    def plan(self, state: Hashable, seq: int, arrivals: np.ndarray, next_arrival: int, limit_s: float) -> Plan:
        """From a quiet boundary in a known cycle: whole cycles and known episodes up to the first unknown
        episode (record it if it starts here) or the last whole cycle before `limit_s`. The compiled walk
        (replay_walk) takes whole cycles and one-keyword episodes; `_match` settles the keywords it leaves."""
        cycle = self.cycles[state]
        cycle_frames = cycle.periods * self.every_frames
        singles, pairs, done = self._tables(cycle)
        counts, pair_counts = np.zeros(singles.shape, np.int64), np.zeros(pairs.shape, np.int64)
        cur, n, steady, record = seq, next_arrival, 0, False
        used: dict[int, list] = {}  # id(episode) -> [episode, times replayed]
        step = (self.hop_s, cycle.length_s, self.period_s, cycle_frames, limit_s, done, singles, pairs)
        while True:
            why, cur, n, whole = walk(arrivals, n, cur, *step, counts, pair_counts)
            steady += whole
            if why != UNSETTLED:
                break
            episode = self._match(cycle, cur, arrivals, n, limit_s)
            if episode is None:
                record = cur == seq
                break
            _count(used, episode, 1)
            cur += episode.frames
            n += len(episode.slots)
        for slot in np.flatnonzero(counts).tolist():
            _count(used, self.episodes[(cycle.index, (slot,))], int(counts[slot]))
        for first, second in np.argwhere(pair_counts).tolist():
            _count(used, self.episodes[(cycle.index, (first, second))], int(pair_counts[first, second]))
        parts = [(steady, cycle.delta), *((k, e.delta) for e, k in used.values())]
        replayed = sum(k for _, k in used.values())
        self.replayed += replayed
        return Plan(cur - seq, _combine(parts) if cur > seq else None, n, record, replayed)

    def _tables(self, cycle: Cycle) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cycle's episodes of one and two keywords as the walk reads them (frames by slots, 0: none),
        and its completion times; built once, then kept up to date by `_store`."""
        table = self.tables.get(cycle.index)
        if table is None:
            singles = np.zeros(len(cycle.done_s) + 1, dtype=np.int64)
            table = self.tables[cycle.index] = (singles, np.zeros((len(singles), 1), np.int64), cycle.done)
            for (index, slots), episode in list(self.episodes.items()):
                if index == cycle.index:
                    self._put(index, slots, episode.frames)
            table = self.tables[cycle.index]
        return table

    def _put(self, index: int, slots: tuple[int, ...], frames: int) -> None:
        singles, pairs, done = self.tables[index]
        if slots[0] >= len(singles) or len(slots) > 2:
            return  # (a first slot past the cycle's completions, or 3+ keywords: Replay._match's)
        if len(slots) == 1:
            singles[slots[0]] = frames
            return
        if slots[1] >= pairs.shape[1]:  # a wider table: the walk reads its shape
            pairs = np.pad(pairs, ((0, 0), (0, slots[1] + 1 - pairs.shape[1])))
            self.tables[index] = (singles, pairs, done)
        pairs[slots] = frames

    def _match(self, cycle: Cycle, cur: int, times: np.ndarray, n: int, limit_s: float) -> Episode | None:
        t0 = self.boundary_s(cur)
        first = cycle.slot(times[n] - t0)
        if first is None:
            return None
        slots = [first]
        for k in self.sizes.get((cycle.index, first), ()):  # at most one size fits: the keywords before its end
            while len(slots) < k:
                if n + len(slots) >= len(times):
                    return None
                slot = cycle.slot(times[n + len(slots)] - t0)
                if slot is None:
                    return None
                slots.append(slot)
            episode = self.episodes.get((cycle.index, tuple(slots)))
            if episode is None:
                continue
            t_end = self.boundary_s(cur + episode.frames)
            if t_end > limit_s:
                return None  # the one episode these keywords make does not fit: simulate it
            if times[n + k - 1] > t_end - EPS_S:
                continue
            if n + k < len(times) and times[n + k] < t_end + EPS_S:
                continue
            return episode
        return None


def _count(used: dict[int, list], episode: Episode, k: int) -> None:
    entry = used.get(id(episode))
    if entry is None:
        used[id(episode)] = [episode, k]
    else:
        entry[1] += k


def _combine(parts: list[tuple[int, Snapshot]]) -> Snapshot:
    """Σ k x delta over (k, delta) pairs."""
    energy: dict = {}
    time: dict = {}
    counts: dict[str, int] = {}
    for k, delta in parts:
        if not k:
            continue
        for key, v in delta.energy_j.items():
            energy[key] = energy.get(key, 0.0) + k * v
        for key, v in delta.time_s.items():
            time[key] = time.get(key, 0.0) + k * v
        for name, c in delta.counts.items():
            counts[name] = counts.get(name, 0) + k * c
    return Snapshot(energy, time, counts)
