"""DVFS with a deadline: of an architecture's operating points, the lowest-energy one that is fast enough.

Re-pricing at another (V, f) needs no new engine run: `cost.simulate.simulate_points` prices the same events
at every operating point, `select_for_deadline` picks among the results. Lower V saves dynamic energy
(∝ V²) but stretches latency, so static power × time grows; the minimum-energy point is not always
the slowest one, which is why every feasible point is priced rather than taking the slowest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tinysim.cost.result import SimResult
from tinysim.cost.simulate import simulate_points
from tinysim.errors import CostError
from tinysim.units import Dimension, format_quantity

__all__ = ["DeadlineChoice", "select_for_deadline", "simulate_points"]


@dataclass(frozen=True)
class DeadlineChoice:
    """The operating point chosen for a deadline, and every point priced (in the architecture's order)."""

    chosen: SimResult
    candidates: tuple[SimResult, ...]
    deadline_s: float

    @property
    def feasible(self) -> tuple[SimResult, ...]:
        return tuple(r for r in self.candidates if r.latency_s <= self.deadline_s)

    def reason(self) -> str:
        """One line: which point, and why (fastest and energy of the runner-up)."""
        c = self.chosen
        text = (
            f"operating point {c.operating_point} ({_f(c.freq_hz, Dimension.FREQUENCY)}, "
            f"{_f(c.voltage_v, Dimension.VOLTAGE)}) chosen for the {_f(self.deadline_s, Dimension.TIME)} deadline: "
            f"{_f(c.latency_s, Dimension.TIME)}, {_f(c.energy_j, Dimension.ENERGY)} per inference, "
            f"the lowest energy of the {len(self.feasible)} of {len(self.candidates)} points that meet it"
        )
        missed = [r for r in self.candidates if r.latency_s > self.deadline_s]
        if missed:
            slowest = max(missed, key=lambda r: r.latency_s)
            text += f" ({', '.join(r.operating_point for r in missed)} too slow: up to {_f(slowest.latency_s, Dimension.TIME)})"
        return text



def select_for_deadline(results: Sequence[SimResult], deadline_s: float) -> DeadlineChoice:
    """The lowest-energy result whose latency meets `deadline_s` (ties: the faster one).

    Raises CostError naming the fastest achievable latency when no point meets the deadline.
    """
    if not results:
        raise ValueError("expected at least one priced operating point")
    if deadline_s <= 0:
        raise CostError(f"expected a positive deadline, got {_f(deadline_s, Dimension.TIME)}", field="deadline")
    feasible = [r for r in results if r.latency_s <= deadline_s]
    if not feasible:
        fastest = min(results, key=lambda r: r.latency_s)
        raise CostError(
            f"no operating point of {fastest.arch} meets the {_f(deadline_s, Dimension.TIME)} deadline for "
            f"{fastest.workload}: the fastest, {fastest.operating_point} ({_f(fastest.freq_hz, Dimension.FREQUENCY)}), "
            f"takes {_f(fastest.latency_s, Dimension.TIME)}",
            field="deadline",
        )
    chosen = min(feasible, key=lambda r: (r.energy_j, r.latency_s))
    return DeadlineChoice(chosen=chosen, candidates=tuple(results), deadline_s=deadline_s)


def _f(value: float, dim: Dimension) -> str:
    return format_quantity(value, dim)
