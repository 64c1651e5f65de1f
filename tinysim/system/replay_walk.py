"""The compiled inner loop of replay.Replay.plan: a year of a device is ~80,000 keywords, and each costs a
few dict lookups in Python (~2 µs) but a few arithmetic steps here (~20 ns), which is what makes fleets of
thousands of device-years affordable.

From a quiet boundary of a known cycle, `walk` adds up whole cycles and the recorded episodes of one or two
keywords (by their slots), and stops at the limit, at an arrival about now (the simulation takes it), or
at a keyword the tables do not settle (no such episode recorded, or a third keyword before its end).
Python (Replay._match) then decides that keyword exactly as before — larger episodes, ambiguous
arrivals, episodes to record — and calls `walk` again. The arithmetic is
Replay.plan's and Cycle.slot's, operation for operation, so both paths take the same decisions.
"""

from __future__ import annotations

import math

import numpy as np

from tinysim.engine.jit import kernel

__all__ = ["EPS_S", "LIMIT", "NOW", "UNSETTLED", "slot_of", "walk"]

LIMIT, NOW, UNSETTLED = 0, 1, 2  # why `walk` stopped
EPS_S = 1e-9  # closer than this to a completion or a boundary, an arrival's order in SimPy is not known in advance


@kernel
def slot_of(rel_s: float, length_s: float, period_s: float, done_s: np.ndarray) -> int:
    """The completion (0 = the first after the cycle's start) that first sees a keyword `rel_s` after the start;
    -1 when the arrival is within EPS_S of a completion or a period boundary (its order in SimPy is not known)."""
    q = math.floor(rel_s / length_s)
    r = rel_s - q * length_s
    if abs(r - np.rint(r / period_s) * period_s) < EPS_S:
        return -1
    j = np.searchsorted(done_s, r, side="right")
    nd = len(done_s)
    if (j < nd and done_s[j] - r < EPS_S) or (j > 0 and r - done_s[j - 1] < EPS_S):
        return -1
    return q * nd + j


@kernel
def walk(
    times: np.ndarray,
    n: int,
    cur: int,
    hop_s: float,
    length_s: float,
    period_s: float,
    cycle_frames: int,
    limit_s: float,
    done_s: np.ndarray,
    single_frames: np.ndarray,
    pair_frames: np.ndarray,
    counts: np.ndarray,
    pair_counts: np.ndarray,
) -> tuple[int, int, int, int]:
    """(why it stopped, frame `cur`, next arrival `n`, whole cycles added); `counts[slot]` and
    `pair_counts[slot, second slot]` += episodes replayed.

    `single_frames[slot]`: the frames of the cycle's one-keyword episode starting in that slot, 0 when none;
    `pair_frames[slot, second slot]`: those of its two-keyword episodes. Sizes are tried as Replay._match
    tries them (one keyword, then two), and anything else is left to it.
    """
    end = len(times)
    steady = 0
    while True:
        t_cur = (cur + 1) * hop_s
        m_limit = math.floor((limit_s - t_cur) / length_s * (1 + 1e-12))
        if n < end and times[n] < t_cur + EPS_S:
            return NOW, cur, n, steady
        m_event = math.floor((times[n] - t_cur) / length_s) if n < end else m_limit + 1
        if m_limit <= m_event:
            whole = max(m_limit, 0)
            return LIMIT, cur + whole * cycle_frames, n, steady + whole
        steady += m_event
        cur += m_event * cycle_frames
        t0 = (cur + 1) * hop_s
        slot = slot_of(times[n] - t0, length_s, period_s, done_s)
        if slot < 0 or slot >= len(single_frames):
            return UNSETTLED, cur, n, steady
        first = single_frames[slot]
        if first:
            t_end = (cur + first + 1) * hop_s
            if t_end > limit_s or times[n] > t_end - EPS_S:
                return UNSETTLED, cur, n, steady
            if n + 1 >= end or times[n + 1] >= t_end + EPS_S:
                counts[slot] += 1
                cur += first
                n += 1
                continue
        # the keyword's episode holds the next one too (or its single is unknown): the episode of both
        if n + 1 >= end:
            return UNSETTLED, cur, n, steady
        second = slot_of(times[n + 1] - t0, length_s, period_s, done_s)
        if second < 0 or second >= pair_frames.shape[1] or pair_frames[slot, second] == 0:
            return UNSETTLED, cur, n, steady
        frames = pair_frames[slot, second]
        t_end = (cur + frames + 1) * hop_s
        if t_end > limit_s or times[n + 1] > t_end - EPS_S or (n + 2 < end and times[n + 2] < t_end + EPS_S):
            return UNSETTLED, cur, n, steady
        pair_counts[slot, second] += 1
        cur += frames
        n += 2
