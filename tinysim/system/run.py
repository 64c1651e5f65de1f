"""Run an always-on scenario: load what it names, price the work once, simulate, return an AlwaysOnResult.

Usage, with the arch and workload the scenario names::

    scenario = load_scenario("workloads/scenarios/kws_always_on.yaml")
    result = run_always_on(scenario, duration_s=86400)
    result.average_power_w, result.chip_power_w, result.counts["deadline_misses"]
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tinysim.arch import Arch, load_arch
from tinysim.errors import SpecError
from tinysim.pipeline import WorkloadRun, run_workload
from tinysim.system.arrivals import event_times
from tinysim.system.battery import Battery
from tinysim.system.components import AlwaysOnModel
from tinysim.system.result import AlwaysOnResult
from tinysim.system.scenario import Scenario
from tinysim.system.workcost import choose_work_cost

__all__ = ["Prepared", "prepare_workload", "resolve_arch", "run_always_on"]


Prepared = WorkloadRun  # the scenario's network run once (seed 0), shared by every arch it is priced on


def prepare_workload(scenario: Scenario) -> WorkloadRun:
    return run_workload(scenario.workload_path, seed=0)


def resolve_arch(scenario: Scenario, arch: str | Path | None) -> Arch:
    """`arch` as a path or a shipped architecture's name (tinysim.catalog); None = the scenario's own `arch:`."""
    if arch is None:
        if scenario.arch_path is None:
            raise SpecError("no architecture: give --arch or an `arch:` line in the scenario", file=scenario.path)
        return load_arch(scenario.arch_path)
    return load_arch(arch)


def run_always_on(
    scenario: Scenario,
    arch: Arch | None = None,
    *,
    duration_s: float | None = None,
    battery: Battery | None = None,
    fast_forward: bool = True,
    replay: bool = True,
    timeline_s: tuple[float, float] | None = None,
    prepared: Prepared | None = None,
    work_limit: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> AlwaysOnResult:
    """Simulate `scenario` on `arch` for `duration_s` (default the scenario's).

    `timeline_s` = (start, end) records the power intervals in that window for a timeline plot
    (fast-forward never jumps over it). `prepared` reuses a workload already run by the engine.
    `replay` (with `fast_forward`) simulates each distinct keyword episode once and replays its repeats
    (tinysim.system.replay); False simulates every episode (steady stretches still fast-forwarded).
    `work_limit` multiplies the frames a run may simulate one by one (tinysim.system.effort); `progress(done,
    total)` hears the simulated seconds now and then while frames are simulated one by one.
    """
    arch = arch or resolve_arch(scenario, None)
    prepared = prepared or prepare_workload(scenario)
    duration = duration_s if duration_s is not None else scenario.duration_s
    if duration <= 0:
        raise SpecError(f"expected a positive duration, got {duration:g} s", field="duration")
    work = choose_work_cost(arch, prepared, scenario)
    arrivals = event_times(scenario, duration)
    model = AlwaysOnModel(
        scenario,
        arch,
        work,
        arrivals,
        duration,
        fast_forward=fast_forward,
        replay=replay,
        window=timeline_s,
        work_limit=work_limit,
        progress=progress,
    )
    model.run()
    ledger = model.ledger
    return AlwaysOnResult(
        scenario=scenario.name,
        arch=arch.name,
        workload=prepared.graph.name,
        dvfs_policy=scenario.dvfs.policy.value,
        between_work=scenario.between_work.value,
        duration_s=duration,
        period_s=scenario.period_s,
        deadline_s=scenario.inference.deadline_s,
        work=work,
        energy_j=dict(ledger.energy_j),
        time_s=dict(ledger.time_s),
        counts=dict(ledger.counts),
        fast_forwarded_s=model.ff.skipped_s,
        extrapolated_s=model.ff.saturated_s,
        replayed_s=model.replay.replayed_s if model.replay else 0.0,
        episodes_simulated=model.replay.simulated if model.replay else 0,
        episodes_replayed=model.replay.replayed if model.replay else 0,
        battery=battery,
        segments=tuple(ledger.segments),
        window_s=timeline_s,
    )
