"""What one frame and one inference cost on the chip, and which operating point the DVFS policy picks.

The network is run by the engine ONCE per workload (`tinysim.pipeline.run_workload`) and priced at
every operating point in one call (`tinysim.pipeline.price_points`); the SimPy model only replays these figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinysim.arch import Arch, OperatingPoint, PowerStateName
from tinysim.cost.price import dynamic_scale
from tinysim.cost.result import SimResult
from tinysim.errors import SpecError
from tinysim.pipeline import WorkloadRun, price_points, price_run
from tinysim.system.scenario import DvfsPolicy, Scenario
from tinysim.system.signal_chain import FrontEndCost
from tinysim.workload.graph import Graph

__all__ = ["WorkCost", "choose_work_cost", "work_cost"]


@dataclass(frozen=True)
class WorkCost:
    """The chip's figures at one operating point."""

    operating_point: str
    voltage_v: float
    freq_hz: float
    inference_s: float
    inference_j: float
    front_end_s: float
    front_end_j: float
    inference: SimResult
    frame_write_j: float = 0.0  # the sensor's DMA writing one frame into the chip's activation memory

    @property
    def active_power_w(self) -> float:
        return self.inference_j / self.inference_s if self.inference_s > 0 else 0.0

    @property
    def busy_s(self) -> float:
        """Front end of the window's last frame plus the inference: what the inference deadline covers."""
        return self.front_end_s + self.inference_s


def front_end_cost(front: FrontEndCost, op: OperatingPoint, nominal: OperatingPoint, running_w: float):
    """(seconds, joules) per frame at `op`.

    Given as `time`: that time, and `energy` or `power` x time, at any operating point. Given as
    `cycles`: cycles / f, and the `energy` or `power` stated for the arch's FIRST operating point,
    scaled as CMOS scales (energy by V², power by f·V²). Neither energy nor power: the network's
    running power at `op` over that time.
    """
    if front.time_s is not None:
        fe_s, energy_scale, power_scale = front.time_s, 1.0, 1.0
    else:
        fe_s = (front.cycles or 0.0) / op.freq_hz
        energy_scale = dynamic_scale(op.voltage_v, nominal.voltage_v)
        power_scale = energy_scale * op.freq_hz / nominal.freq_hz
    if front.energy_j is not None:
        return fe_s, front.energy_j * energy_scale
    if front.power_w is not None:
        return fe_s, front.power_w * power_scale * fe_s
    return fe_s, running_w * fe_s


def work_cost(arch: Arch, result: SimResult, front: FrontEndCost, frame_bytes: int = 0) -> WorkCost:
    """The chip's figures at the operating point `result` was priced at."""
    memory = arch.memory(arch.compute[0].activations_in)
    op = arch.operating_point(result.operating_point)
    running_w = result.energy_j / result.latency_s if result.latency_s > 0 else 0.0
    fe_s, fe_j = front_end_cost(front, op, arch.operating_points[0], running_w)
    frame_write_j = frame_bytes * memory.write_energy_per_byte_j
    return WorkCost(
        op.name, op.voltage_v, op.freq_hz, result.latency_s, result.energy_j, fe_s, fe_j, result, frame_write_j
    )


def choose_work_cost(arch: Arch, run: WorkloadRun, scenario: Scenario) -> WorkCost:
    """The operating point the scenario's DVFS policy picks, with its figures.

    fixed: the named point (default the arch's first). race_to_idle: the fastest point.
    just_in_time: of the points whose front end + inference (+ wake-up) meets the deadline and whose
    work per period fits in the period, the one with the least energy per period (sleep in the slack
    included); if none qualifies, the fastest.
    """
    check_input_size(run.graph, scenario)
    front = scenario.front_end.cost_for(arch.name)
    frame_bytes = scenario.sensor.frame_bytes
    policy = scenario.dvfs.policy
    if policy is DvfsPolicy.FIXED:
        result = price_run(arch, run, operating_point=scenario.dvfs.operating_point).result
        return work_cost(arch, result, front, frame_bytes)
    costs = [work_cost(arch, r, front, frame_bytes) for r in price_points(arch, run)]
    fastest = min(costs, key=lambda c: (c.busy_s, c.inference_j))
    if policy is DvfsPolicy.RACE_TO_IDLE:
        return fastest
    wake_s = arch.power_state(PowerStateName.SLEEP).wake_latency_s
    period = scenario.period_s
    frames = scenario.inference.every_frames
    meeting = [
        c
        for c in costs
        if c.busy_s + wake_s <= scenario.inference.deadline_s  # latency of one window
        and c.inference_s + frames * (c.front_end_s + wake_s) <= period  # and keeping up, period after period
    ]
    if not meeting:
        return fastest

    def energy_per_period(c: WorkCost) -> float:
        busy = c.inference_s + frames * c.front_end_s
        return c.inference_j + frames * c.front_end_j + arch.sleep_power_w * max(period - busy, 0.0)

    return min(meeting, key=energy_per_period)


def check_input_size(graph: Graph, scenario: Scenario) -> None:
    """window_frames x features_per_frame must be what the network reads (when the scenario says both)."""
    per_frame = scenario.front_end.features_per_frame
    if per_frame is None:
        return
    size = graph.tensor(graph.inputs[0]).size
    window = scenario.inference.window_frames
    if window * per_frame != size:
        raise SpecError(
            f"{window} frames x {per_frame} features = {window * per_frame}, but {graph.name} reads {size} inputs",
            file=scenario.path,
            line=scenario.front_end.line,
            field="front_end.features_per_frame",
        )
