"""The outcome of an always-on run: the ledger's totals and the figures derived from them (SI units)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.cost.vocabulary import identity
from tinysim.dataframes import pandas
from tinysim.system.battery import Battery, HarvestBalance
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
    replayed_s: float = 0.0  # of the fast-forwarded time, what was credited as recorded cycles and keyword episodes
    episodes_simulated: int = 0  # distinct keyword episodes simulated (and recorded) by the SimPy model
    episodes_replayed: int = 0  # keyword episodes credited from that record
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
    def peak_power_w(self) -> float:
        """The load's peak, for the battery's pulse derating: each component at its highest-power state at once
        (an upper bound: the chip active while the host is on and the sensor streams)."""
        peaks: dict[str, float] = {}
        for key, t in self.time_s.items():
            if t > 0:
                part = "chip" if key[0] in CHIP_COMPONENTS else key[0]
                peaks[part] = max(peaks.get(part, 0.0), self.energy_j.get(key, 0.0) / t)
        return max(sum(peaks.values()), self.average_power_w)

    @property
    def battery_life_s(self) -> float | None:
        """Until empty with no harvest (a named cell: derated at the peak power and its temperature, leaking)."""
        return self.battery.life_s(self.average_power_w, self.peak_power_w) if self.battery else None

    @property
    def harvest(self) -> HarvestBalance | None:
        return self.battery.harvest_balance(self.average_power_w, self.peak_power_w) if self.battery else None

    @property
    def overloaded(self) -> bool:
        return bool(self.counts.get("frames_dropped") or self.counts.get("deadline_misses"))

    def to_dict(self) -> dict[str, Any]:
        """Plain data, led by the identity fields, SI units in the key names (what `tinysim always-on --format
        json` prints); `latency_s` and `energy_j` are one inference's, as in `tinysim run`."""
        w = self.work
        return {
            **identity(self.arch, self.workload, w.operating_point),
            "scenario": self.scenario,
            "voltage_v": w.voltage_v,
            "freq_hz": w.freq_hz,
            "dvfs_policy": self.dvfs_policy,
            "between_work": self.between_work,
            "duration_s": self.duration_s,
            "fast_forwarded_s": self.fast_forwarded_s,
            "extrapolated_s": self.extrapolated_s,
            "inference_period_s": self.period_s,
            "deadline_s": self.deadline_s,
            "latency_s": w.inference_s,
            "energy_j": w.inference_j,
            "front_end_time_s": w.front_end_s,
            "front_end_energy_j": w.front_end_j,
            "average_power_w": self.average_power_w,
            "chip_power_w": self.chip_power_w,
            "energy_per_inference_j": self.energy_per_inference_j,
            "duty_cycle": self.duty_cycle,
            "total_energy_j": self.total_energy_j,
            "energy_j_by_component": self.component_energy_j(),
            "energy_j_by_state": self.state_energy_j(),
            "ledger": self.ledger_rows(),
            "counts": dict(self.counts),
            "overloaded": self.overloaded,
            "battery": self.battery_dict(),
            "battery_life_s": self.battery_life_s,
        }

    def battery_dict(self) -> dict[str, Any] | None:
        b = self.battery
        if b is None:
            return None
        h = self.harvest
        return {
            "cell": b.cell.name if b.cell else None,
            "capacity_c": b.capacity_c,
            "voltage_v": b.voltage_v,
            "energy_j": b.energy_j,
            "temperature_c": b.temperature_c if b.cell else None,
            "peak_power_w": self.peak_power_w,
            "usable_charge_c": b.usable_charge_c(self.peak_power_w),
            "pulse_voltage_v": b.pulse_voltage_v(self.peak_power_w) if b.cell else None,
            "cutoff_v": b.cell.cutoff_v if b.cell else None,
            "energy_neutral": None if h is None else h.energy_neutral,
            "harvested_j_per_day": None if h is None else h.harvested_j_per_day,
            "autonomy_days": None if self.battery_life_s is None else self.battery_life_s / 86400.0,
        }

    def ledger_rows(self) -> list[dict[str, Any]]:
        """One row per (component, power state), led by the identity fields: energy and time over the run."""
        return [
            {
                **identity(self.arch, self.workload, self.work.operating_point),
                "component": c,
                "state": s,
                "energy_j": e,
                "time_s": self.time_s.get((c, s), 0.0),
                "on_chip": c in CHIP_COMPONENTS,
            }
            for (c, s), e in sorted(self.energy_j.items())
        ]

    def to_dataframe(self, *, breakdown: bool = False):
        """A pandas DataFrame: one row of whole-run figures (counts as columns), or with `breakdown` one row
        per (component, power state) with its energy, time and average power (needs pandas)."""
        pd = pandas()
        if breakdown:
            rows = [{**row, "average_power_w": row["energy_j"] / self.duration_s} for row in self.ledger_rows()]
            return pd.DataFrame(rows)
        doc = self.to_dict()
        for key in ("energy_j_by_component", "energy_j_by_state", "ledger", "battery"):
            doc.pop(key)
        counts = doc.pop("counts")
        doc.update(counts)
        doc.update({f"energy_{c}_j": e for c, e in self.component_energy_j().items()})
        return pd.DataFrame([doc])
