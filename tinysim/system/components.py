"""The SimPy model of an always-on device: one process per component.

- sensor: a frame every hop into a bounded buffer (a full buffer drops the frame); at each
  inference-period boundary it offers fast-forward the chance to jump over steady periods;
- keywords: events arriving at their times (drawn or traced), pending until an inference sees them;
- chip: the power-state machine — wake from its low-power state (latency, energy), feature front
  end per frame, the network every N frames (deadline checked), then the cheapest low-power
  state for the gap to the next frame (`auto`: among those whose wake-up keeps the deadline);
- host: woken by a detection (latency, energy), on for `on_time` (a detection while on extends it).

All energy goes through the `Ledger`, keyed by (component, state). At each inference-period boundary
`leap` may jump: over steady repetitions (fastforward.py) or, once the steady cycle is known, over whole
cycles and keyword episodes already simulated once (replay.py).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from tinysim.arch import Arch, PowerStateName
from tinysim.system.effort import MAX_SIMULATED_FRAMES, EffortGuard
from tinysim.system.fastforward import MAX_LAG, FastForward, Jump
from tinysim.system.ledger import Key, Ledger, Snapshot
from tinysim.system.replay import Replay
from tinysim.system.scenario import BetweenWork, Scenario
from tinysim.system.workcost import WorkCost

__all__ = ["AlwaysOnModel"]

SENSOR_ON: Key = ("sensor", "on")
SENSOR_DMA: Key = ("sensor", "dma")  # writing each frame into the chip's memory
FRONT_END: Key = ("front_end", "active")
NETWORK: Key = ("network", "active")
HOST_ON: Key = ("host", "on")
HOST_SLEEP: Key = ("host", "sleep")
HOST_WAKE: Key = ("host", "wake")


@dataclass(frozen=True)
class Frame:
    seq: int
    ready_s: float


class AlwaysOnModel:
    """Wires the processes together on one SimPy environment; `run()` simulates until `end_s`."""

    def __init__(
        self,
        scenario: Scenario,
        arch: Arch,
        work: WorkCost,
        arrivals: np.ndarray,
        end_s: float,
        *,
        fast_forward: bool = True,
        replay: bool = True,
        window: tuple[float, float] | None = None,
        work_limit: float = 1.0,
        progress: Callable[[int, int], None] | None = None,
    ):
        self.sc, self.arch, self.work = scenario, arch, work
        self.arrivals, self.end_s, self.window = arrivals, end_s, window
        self.env = simpy.Environment()
        self.ledger = Ledger(window=window)
        self.ff = FastForward(self.ledger, scenario.period_s, enabled=fast_forward)
        self.effort = EffortGuard(
            end_s, MAX_SIMULATED_FRAMES * work_limit, scenario.path, progress, self.dropped_fraction, fast_forward
        )
        hop = scenario.sensor.frame_hop_s
        every = scenario.inference.every_frames
        self.replay = Replay(scenario.period_s, hop, every) if replay and fast_forward else None
        self.done_s: deque[float] = deque(maxlen=2 * MAX_LAG + 2)  # when the last networks finished
        self.buffer = simpy.Store(self.env)
        self.next_frame_s = scenario.sensor.frame_hop_s
        self.next_arrival = 0  # index into arrivals
        self.pending = 0  # keywords no inference has seen yet
        self.chip_waiting = False
        self.frame: Frame | None = None
        self.chip_busy_until = 0.0
        self.host_off_s = -math.inf
        self.host_asleep = True
        self.host_signal = self.env.event()
        self.low_states = [s for s in (PowerStateName.IDLE, PowerStateName.SLEEP) if s in arch.power_states]
        # `auto` only picks states whose wake-up still lets a window finish by its deadline (if any does)
        deadline = scenario.inference.deadline_s
        self.fast_enough = [
            s for s in self.low_states if arch.power_state(s).wake_latency_s + work.busy_s <= deadline
        ] or self.low_states
        for name in (
            "frames",
            "frames_dropped",
            "inferences",
            "inferences_dropped",
            "deadline_misses",
            "events",
            "detections",
            "host_wakeups",
        ):
            self.ledger.counts[name] = 0

    def run(self) -> None:
        self.chip_process = self.env.process(self.chip())
        self.keyword_process = self.env.process(self.keywords())
        for process in (self.sensor(), self.host()):
            self.env.process(process)
        self.env.run(until=self.end_s)
        self.ledger.finish(self.end_s)

    # --- sensor -------------------------------------------------------------------------------
    def is_trigger(self, seq: int) -> bool:
        done, inf = seq + 1, self.sc.inference
        return done >= inf.window_frames and (done - inf.window_frames) % inf.every_frames == 0

    def sensor(self):
        hop, env = self.sc.sensor.frame_hop_s, self.env
        self.ledger.enter("sensor", SENSOR_ON, self.sc.sensor.power_w, env.now)
        seq = 0
        while True:
            self.next_frame_s = (seq + 1) * hop
            yield env.timeout(max(0.0, self.next_frame_s - env.now))
            again = False
            while self.is_trigger(seq):
                leap = self.leap(seq, after_replay=again)
                if leap is None:
                    break
                jump, again = leap
                before = env.now
                frames = jump.units * jump.unit_periods * self.sc.inference.every_frames
                seq += frames
                self.next_frame_s = (seq + 1) * hop
                span = self.next_frame_s - before
                self.ff.apply(jump, before, span)
                self.shift_in_flight(frames, span)
                yield env.timeout(max(0.0, span))
                if not again:  # after a replayed stretch, look again where it landed (an episode may start there)
                    break
            self.ledger.count("frames")
            self.effort.frame(env.now)
            if len(self.buffer.items) >= self.sc.sensor.buffer_frames:
                self.ledger.count("frames_dropped")
                if self.is_trigger(seq):
                    self.ledger.count("inferences_dropped")
            else:
                self.ledger.lump(SENSOR_DMA, self.work.frame_write_j)
                self.buffer.put(Frame(seq, env.now))
            seq += 1

    def leap(self, seq: int, *, after_replay: bool) -> tuple[Jump, bool] | None:
        """At a period boundary: the jump to make (and whether it was replayed), or None to simulate on."""
        now, rp = self.env.now, self.replay
        state = self.state(seq)
        quiet = self.host_asleep and not self.pending
        recording = rp is not None and rp.watch(state, quiet, seq, self.arrivals, self.next_arrival, self.snapshot)
        jump = None
        if not after_replay:  # (an episode being recorded may be fast-forwarded too: its steady parts are exact)
            jump = self.ff.plan(now, state, self.coarse_state(), self.horizon_s())
            if rp is not None and quiet and self.ff.cycle is not None:
                rp.learn(state, self.ff.cycle[0], self.ff.cycle[1], list(self.done_s), now)
            if rp is not None and recording and jump is not None and not jump.exact:
                rp.recording = None  # an extrapolated stretch is no exact record
        if rp is None or recording or not quiet or state not in rp.cycles:
            return None if jump is None else (jump, False)
        plan = rp.plan(state, seq, self.arrivals, self.next_arrival, self.limit_s())
        if plan.record:
            rp.start(state, seq, self.next_arrival, self.snapshot())
            return None
        if plan.delta is None:
            return None if jump is None else (jump, False)
        if plan.next_arrival != self.next_arrival:
            self.next_arrival = plan.next_arrival
            self.keyword_process.interrupt()  # its next keyword is a later one now
        rp.replayed_s += plan.frames * self.sc.sensor.frame_hop_s
        return Jump(1, plan.frames // self.sc.inference.every_frames, plan.delta), True

    def dropped_fraction(self) -> float:
        counts = self.ledger.counts
        return counts["frames_dropped"] / max(counts["frames"], 1)

    def snapshot(self) -> Snapshot:
        return self.ledger.snapshot(self.env.now)

    def limit_s(self) -> float:
        """How far replay may go: the end of the run, or the timeline window (simulated, never skipped)."""
        if self.window is not None and self.env.now < self.window[1]:
            return min(self.end_s, max(self.window[0], self.env.now))
        return self.end_s

    def shift_in_flight(self, frames: int, span_s: float) -> None:
        """After a jump, what was in flight resumes `span_s` (and `frames` frames) later."""
        self.buffer.items[:] = [Frame(f.seq + frames, f.ready_s + span_s) for f in self.buffer.items]
        if self.frame is not None:
            self.frame = Frame(self.frame.seq + frames, self.frame.ready_s + span_s)
        if not self.chip_waiting:
            self.chip_process.interrupt(span_s)  # its current interval ends span_s later

    def coarse_state(self) -> tuple:
        """What must stay put between saturated windows: the sensor (keywords and the host do not change
        what the chip does; they only bound the jumps)."""
        return tuple(t for t in self.ledger.signature() if t[0] not in ("chip", "host"))

    def state(self, seq: int) -> tuple:
        """Everything the future depends on, relative to now and to frame `seq` (times to the ns)."""
        now = self.env.now

        def rel(f: Frame | None) -> tuple[int, int] | None:
            return None if f is None else (f.seq - seq, round((f.ready_s - now) * 1e9))

        busy = None if self.chip_waiting else round((self.chip_busy_until - now) * 1e9)
        frames = tuple(rel(f) for f in self.buffer.items)
        return (self.ledger.signature(), frames, rel(self.frame), busy, self.pending, self.host_asleep)

    def horizon_s(self) -> float:
        """The next external change fast-forward must not jump over."""
        horizon = self.end_s
        if self.next_arrival < len(self.arrivals):
            horizon = min(horizon, float(self.arrivals[self.next_arrival]))
        if not self.host_asleep:
            horizon = min(horizon, self.host_off_s)
        if self.ledger.state("host") == HOST_WAKE:
            horizon = self.env.now  # waking up: no jump until it is on
        if self.pending:
            horizon = self.env.now  # a keyword the next inference will detect
        if self.chip_waiting and not self.buffer.get_queue:
            horizon = self.env.now  # the chip was handed a frame this instant and has not started on it
        if self.window is not None and self.env.now < self.window[1]:
            horizon = min(horizon, max(self.window[0], self.env.now))
        return horizon

    # --- keyword arrivals -----------------------------------------------------------------------
    def keywords(self):
        env = self.env
        while self.next_arrival < len(self.arrivals):
            try:
                yield env.timeout(max(0.0, float(self.arrivals[self.next_arrival]) - env.now))
            except simpy.Interrupt:
                continue  # replay credited the keywords up to a later one: wait for that
            self.next_arrival += 1
            self.pending += 1
            self.ledger.count("events")

    # --- chip -----------------------------------------------------------------------------------
    def chip(self):
        env, work, inf = self.env, self.work, self.sc.inference
        low = self.enter_low_power()
        while True:
            self.chip_waiting, self.frame = True, None
            self.frame = yield self.buffer.get()
            self.chip_waiting = False
            if low is not None:
                state = self.arch.power_state(low)
                yield from self.interval("chip", ("chip", "wake"), state.wake_latency_s, state.wake_energy_j)
                low = None
            yield from self.interval("chip", FRONT_END, work.front_end_s, work.front_end_j)
            if self.is_trigger(self.frame.seq):
                yield from self.interval("chip", NETWORK, work.inference_s, work.inference_j)
                self.ledger.count("inferences")
                self.done_s.append(env.now)
                if env.now - self.frame.ready_s > inf.deadline_s * (1 + 1e-9):
                    self.ledger.count("deadline_misses")
                if self.pending:
                    self.pending = 0
                    self.ledger.count("detections")
                    self.detect()
            if not self.buffer.items:
                low = self.enter_low_power()

    def interval(self, track: str, key: Key, duration_s: float, energy_j: float):
        if duration_s > 0:
            self.ledger.enter(track, key, energy_j / duration_s, self.env.now, duration_s)
            end = self.env.now + duration_s
            while True:
                if track == "chip":
                    self.chip_busy_until = end
                try:
                    yield self.env.timeout(max(0.0, end - self.env.now))
                    break
                except simpy.Interrupt as jump:  # fast-forward jumped while this ran: it ends that much later
                    if jump.cause is None:  # not a fast-forward jump (that one carries the span skipped)
                        raise
                    end += jump.cause
        else:
            self.ledger.lump(key, energy_j)

    def low_cost_j(self, name: PowerStateName, gap_s: float) -> float:
        state = self.arch.power_state(name)
        return (state.power_w or 0.0) * gap_s + state.wake_energy_j

    def enter_low_power(self) -> PowerStateName | None:
        """Enter the low-power state the policy picks for the gap until the next frame."""
        if not self.low_states:
            return None
        gap = max(self.next_frame_s - self.env.now, 0.0)
        choice = self.sc.between_work
        if choice is not BetweenWork.AUTO and PowerStateName(choice.value) in self.low_states:
            name = PowerStateName(choice.value)
        else:
            name = min(self.fast_enough, key=lambda s: self.low_cost_j(s, gap))
        self.ledger.enter("chip", ("chip", name.value), self.arch.power_state(name).power_w or 0.0, self.env.now)
        return name

    # --- host -----------------------------------------------------------------------------------
    def detect(self) -> None:
        host = self.sc.host
        start = self.env.now + (host.wake_latency_s if self.host_asleep else 0.0)
        self.host_off_s = max(self.host_off_s, start + host.on_time_s)
        if self.host_asleep:
            self.host_asleep = False
            self.host_signal.succeed()

    def host(self):
        env, host = self.env, self.sc.host
        while True:
            self.ledger.enter("host", HOST_SLEEP, host.sleep_power_w, env.now)
            yield self.host_signal
            self.host_signal = env.event()
            self.ledger.count("host_wakeups")
            yield from self.interval("host", HOST_WAKE, host.wake_latency_s, host.wake_energy_j)
            self.ledger.enter("host", HOST_ON, host.power_w, env.now)
            while env.now < self.host_off_s:
                yield env.timeout(self.host_off_s - env.now)
            self.host_asleep = True
