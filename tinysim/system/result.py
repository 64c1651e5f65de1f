"""The outcome of an always-on run: the ledger's totals and the figures derived from them (SI units)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tinysim.system.battery import Battery
from tinysim.system.ledger import Key, Segment
from tinysim.system.workcost import WorkCost

__all__ = ["CHIP_COMPONENTS", "AlwaysOnResult"]

CHIP_COMPONENTS = ("front_end", "network", "chip")  # what the always-on chip itself draws
ACTIVE_COMPONENTS = ("front_end", "network")


@dataclass(frozen=True)
class AlwaysOnResult:
    scenario: str
    arch: str
    workload: str
    dvfs_policy: str
    between_work: str
    duration_s: float
    period_s: float
    deadline_s: float
    work: WorkCost
    energy_j: Mapping[Key, float]
    time_s: Mapping[Key, float]
    counts: Mapping[str, int]
    fast_forwarded_s: float
    extrapolated_s: float = 0.0  # of the fast-forwarded time, what was jumped in the saturated (overloaded) regime
    battery: Battery | None = None
    segments: tuple[Segment, ...] = ()
    window_s: tuple[float, float] | None = None

    @property
    def total_energy_j(self) -> float:
        return sum(self.energy_j.values())

    @property
    def average_power_w(self) -> float:
        return self.total_energy_j / self.duration_s

    def component_energy_j(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (component, _), e in self.energy_j.items():
            out[component] = out.get(component, 0.0) + e
        return out

    def state_energy_j(self) -> dict[str, float]:
        """By power state; the chip's states, plus the sensor and host as their own rows."""
        out: dict[str, float] = {}
        for (component, state), e in self.energy_j.items():
            label = state if component in CHIP_COMPONENTS else f"{component} {state}"
            out[label] = out.get(label, 0.0) + e
        return out

    @property
    def chip_power_w(self) -> float:
        """The always-on chip alone: front end + network + its idle/sleep/wake states (no sensor, no host)."""
        return sum(e for (c, _), e in self.energy_j.items() if c in CHIP_COMPONENTS) / self.duration_s

    @property
    def duty_cycle(self) -> float:
        """Fraction of time the chip is active (front end or network)."""
        return sum(t for (c, _), t in self.time_s.items() if c in ACTIVE_COMPONENTS) / self.duration_s

    @property
    def energy_per_inference_j(self) -> float:
        """Whole-system energy divided by the inferences run (sensor, front end, sleep, host included)."""
        n = self.counts.get("inferences", 0)
        return self.total_energy_j / n if n else 0.0

    @property
    def battery_life_s(self) -> float | None:
        return self.battery.life_s(self.average_power_w) if self.battery else None

    @property
    def overloaded(self) -> bool:
        return bool(self.counts.get("frames_dropped") or self.counts.get("deadline_misses"))
