"""Episode replay (tinysim.system.replay) adds up to what the SimPy model computes when it simulates every
keyword episode: within 1e-9 relative for a day on every shipped scenario x arch, for a week on one pair, and
against the plain event-by-event run (no fast-forward at all) with dense, Poisson and bursty keywords."""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path

import pytest

from tinysim.arch import PowerStateName, load_arch
from tinysim.errors import TinysimError
from tinysim.system import load_scenario, prepare_workload, run_always_on
from tinysim.system.arrivals import Process, first_inference_s
from tinysim.system.ledger import Snapshot
from tinysim.system.replay import Cycle
from tinysim.system.scenario import Arrivals, BetweenWork

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "workloads" / "scenarios").glob("*.yaml"))
ARCHS = sorted((ROOT / "archs").glob("*.yaml"))
DAY_S = 86400.0
REL = 1e-9


@cache
def loaded(path: Path):
    scenario = load_scenario(path)
    return scenario, prepare_workload(scenario)


def assert_same(replayed, simulated) -> None:
    """Counts equal; the total, the chip's part and every (component, state) energy within 1e-9 of the total
    energy, every time within 1e-9 of the duration. (Relative to the total, not to each term: a term of
    microsecond intervals far into a run carries the rounding of SimPy's absolute float clock, ulp(t) per
    interval, in the simulated run itself.)"""
    assert dict(replayed.counts) == dict(simulated.counts)
    assert replayed.energy_j.keys() == simulated.energy_j.keys()
    total = simulated.total_energy_j
    assert abs(replayed.total_energy_j - total) <= REL * total
    assert abs(replayed.chip_power_w - simulated.chip_power_w) <= REL * simulated.average_power_w
    for key, e in simulated.energy_j.items():
        assert abs(replayed.energy_j[key] - e) <= REL * total, key
    for key, t in simulated.time_s.items():
        assert abs(replayed.time_s[key] - t) <= REL * simulated.duration_s, key


@pytest.mark.parametrize("arch_path", ARCHS, ids=lambda p: p.stem)
@pytest.mark.parametrize("scenario_path", SCENARIOS, ids=lambda p: p.stem)
def test_a_day_replayed_equals_every_episode_simulated(scenario_path, arch_path):
    scenario, prepared = loaded(scenario_path)
    try:
        arch = load_arch(arch_path)
        replayed = run_always_on(scenario, arch, duration_s=DAY_S, prepared=prepared)
    except TinysimError as e:
        pytest.skip(f"{scenario.name} does not run on {arch_path.stem}: {e}")
    # (a chip that cannot keep up never settles into a cycle: nothing is replayed, its day is extrapolated in the
    # saturated regime alike in both runs, and this checks that replay stays out of the way)
    simulated = run_always_on(scenario, arch, duration_s=replayed.duration_s, replay=False, prepared=prepared)
    assert simulated.replayed_s == 0 and simulated.episodes_replayed == 0
    assert_same(replayed, simulated)
    if not replayed.overloaded and replayed.counts["events"] > 2:
        assert replayed.episodes_replayed > 0 and replayed.replayed_s > 0.9 * replayed.duration_s


def test_a_week_replayed_equals_every_episode_simulated():
    scenario, prepared = loaded(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    arch = load_arch(ROOT / "archs" / "ndp100.yaml")
    replayed = run_always_on(scenario, arch, duration_s=7 * DAY_S, prepared=prepared)
    simulated = run_always_on(scenario, arch, duration_s=7 * DAY_S, replay=False, prepared=prepared)
    assert_same(replayed, simulated)
    assert replayed.counts["events"] > 1000  # ~1 keyword per 400 s: a week holds ~1500
    assert replayed.episodes_simulated < replayed.episodes_replayed / 20  # each distinct episode simulated once


@pytest.mark.parametrize(
    "arrivals",
    [
        Arrivals(probability_per_window=0.01, seed=7),  # a keyword every 4 s: host on-times overlap often
        Arrivals(process=Process.POISSON, rate_hz=0.3, seed=3),  # arrival times anywhere in a window
        Arrivals(
            process=Process.BURSTY, burst_rate_hz=2.0, quiet_rate_hz=0.05, mean_burst_s=3.0, mean_quiet_s=30.0, seed=5
        ),
    ],
    ids=["bernoulli", "poisson", "bursty"],
)
@pytest.mark.parametrize("scenario_name, arch_name", [("kws_always_on", "ndp100"), ("ad_machine_monitor", "ecm3532")])
def test_replay_equals_the_event_by_event_run(arrivals, scenario_name, arch_name):
    """Against the model with no fast-forward at all: every frame simulated."""
    scenario, prepared = loaded(ROOT / "workloads" / "scenarios" / f"{scenario_name}.yaml")
    scenario = dataclasses.replace(scenario, events=arrivals)
    arch = load_arch(ROOT / "archs" / f"{arch_name}.yaml")
    replayed = run_always_on(scenario, arch, duration_s=300.0, prepared=prepared)
    full = run_always_on(scenario, arch, duration_s=300.0, fast_forward=False, prepared=prepared)
    assert full.fast_forwarded_s == 0 and full.counts["events"] > 10
    assert_same(replayed, full)
    assert replayed.episodes_replayed > 0


def test_a_keyword_is_seen_by_the_first_completion_after_it():
    """Slots of a 2-period cycle (40 ms periods) whose networks finish 5 ms and 45 ms after its start."""
    cycle = Cycle(0, 2, 0.04, Snapshot({}, {}, {}), (0.005, 0.045), 0.08)
    assert cycle.slot(0.002) == 0
    assert cycle.slot(0.02) == 1  # after the first completion: the second sees it
    assert cycle.slot(0.05) == 2  # after both: the next cycle's first
    assert cycle.slot(0.08 + 0.046) == 4  # one cycle on, after its second
    assert cycle.slot(0.005) is None and cycle.slot(0.04) is None  # on a completion, on a boundary: not known


def test_where_a_keyword_falls_in_its_period_decides_whether_the_host_stays_on():
    """Pairs of keywords 26 periods apart, the second just before or just after the network finishes in its
    period: detected 25 periods (1 s, the host's on-time less its 5 µs wake-up) after the first it keeps the
    host on; one period later the host is asleep and wakes again. Replay must key them apart."""
    scenario, prepared = loaded(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    scenario = dataclasses.replace(scenario, between_work=BetweenWork.SLEEP)
    arch = load_arch(ROOT / "archs" / "ndp100.yaml")
    work = run_always_on(scenario, arch, duration_s=2.0, prepared=prepared).work
    period, host = scenario.period_s, scenario.host
    done = arch.power_state(PowerStateName.SLEEP).wake_latency_s + work.front_end_s + work.inference_s
    assert done < period and abs(host.on_time_s - 25 * period) < 1e-12 and host.wake_latency_s < 0.5 * period
    times, wakeups = [], 0
    for k in range(24):
        start = first_inference_s(scenario) + 500 * k * period  # a window boundary, 20 s apart
        times.append(start + done + 0.5 * (period - done))  # seen by the next period's network
        later = k % 2 == 1
        times.append(start + 26 * period + (done + 0.5 * (period - done) if later else 0.5 * done))
        wakeups += 2 if later else 1
    scenario = dataclasses.replace(scenario, events=Arrivals(trace_times_s=tuple(times)))
    replayed = run_always_on(scenario, arch, duration_s=500 * 24 * period, prepared=prepared)
    simulated = run_always_on(scenario, arch, duration_s=replayed.duration_s, replay=False, prepared=prepared)
    assert replayed.counts["host_wakeups"] == wakeups
    assert_same(replayed, simulated)
    assert replayed.episodes_replayed >= 20


def test_the_compiled_walk_takes_the_decisions_python_takes(monkeypatch):
    """replay_walk settles whole cycles and episodes of one or two keywords; Replay._match settles the rest. With
    the walk's tables emptied every keyword goes through _match: a busy day (a keyword every ~4 s, so many
    episodes of two and three keywords) must come out the same, episode for episode."""
    from tinysim.system.replay import Replay

    scenario, prepared = loaded(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    scenario = dataclasses.replace(scenario, events=Arrivals(probability_per_window=0.01, seed=11))
    arch = load_arch(ROOT / "archs" / "ndp100.yaml")
    matched = {"n": 0}
    original_match, original_tables = Replay._match, Replay._tables

    def counting_match(self, *args):
        matched["n"] += 1
        return original_match(self, *args)

    monkeypatch.setattr(Replay, "_match", counting_match)
    walked = run_always_on(scenario, arch, duration_s=DAY_S, prepared=prepared)
    by_walk = matched["n"]

    def empty_tables(self, cycle):
        singles, pairs, done = original_tables(self, cycle)
        return singles * 0, pairs * 0, done

    monkeypatch.setattr(Replay, "_tables", empty_tables)
    matched["n"] = 0
    by_python = run_always_on(scenario, arch, duration_s=DAY_S, prepared=prepared)
    assert by_python.counts["events"] > 10_000 and matched["n"] > by_python.episodes_replayed / 2
    assert by_walk < matched["n"] / 10  # the walk settled nearly all of them
    assert walked.episodes_replayed == by_python.episodes_replayed
    assert walked.episodes_simulated == by_python.episodes_simulated
    assert walked.replayed_s == pytest.approx(by_python.replayed_s, rel=1e-12)
    assert_same(walked, by_python)
