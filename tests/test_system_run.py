"""The always-on SimPy model: fast-forward agrees with event-by-event, energy adds up, overload is reported,
DVFS policies pick what they say, host wake-ups merge, and the seed's check (NDP100 < 140 µW)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from tinysim.arch import load_arch
from tinysim.errors import TinysimError
from tinysim.report.always_on_report import comparison_table, to_json, to_text
from tinysim.system import load_scenario, parse_battery, prepare_workload, run_always_on
from tinysim.system.scenario import Arrivals, Dvfs, DvfsPolicy

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "workloads" / "scenarios" / "kws_always_on.yaml"


def arch(name: str):
    path = ROOT / "archs" / f"{name}.yaml"
    if not path.is_file():
        pytest.skip(f"{path.name} not in this checkout")
    return load_arch(path)


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(SCENARIO)


@pytest.fixture(scope="module")
def prepared(scenario):
    return prepare_workload(scenario)  # one engine run of the keyword network, shared by every test


def busy(scenario, **changes):
    """The shipped scenario with events dense enough that a minute holds dozens of detections."""
    sc = dataclasses.replace(scenario, events=Arrivals(probability_per_window=0.01, seed=7))
    inference = {k: changes.pop(k) for k in ("every_frames", "deadline_s") if k in changes}
    if inference:
        sc = dataclasses.replace(sc, inference=dataclasses.replace(sc.inference, **inference))
    return dataclasses.replace(sc, **changes)


@pytest.mark.parametrize(
    "name, every_frames", [("stm32l4r5", 4), ("ndp100", 4), ("ecm3532", 4), ("ndp100", 1), ("ecm3532", 1)]
)
def test_fast_forward_agrees_with_event_by_event_within_1_percent(scenario, prepared, name, every_frames):
    """The shipped scenario (25 windows/s) and 100 windows/s, a keyword in 1 % of windows (dozens a minute)."""
    sc, a = busy(scenario, every_frames=every_frames, deadline_s=0.01 * every_frames), arch(name)
    full = run_always_on(sc, a, duration_s=60.0, fast_forward=False, prepared=prepared)
    fast = run_always_on(sc, a, duration_s=60.0, fast_forward=True, prepared=prepared)
    assert full.fast_forwarded_s == 0 and fast.fast_forwarded_s > 30.0  # most of the minute was skipped
    assert full.counts["detections"] >= 5
    assert fast.average_power_w == pytest.approx(full.average_power_w, rel=0.01)
    assert fast.chip_power_w == pytest.approx(full.chip_power_w, rel=0.01)
    for component, energy in full.component_energy_j().items():
        assert fast.component_energy_j()[component] == pytest.approx(energy, rel=0.01, abs=1e-12)
    assert fast.counts == full.counts


@pytest.mark.parametrize("every_frames, buffer_frames", [(1, 4), (2, 4), (2, 1)])
def test_overloaded_fast_forward_agrees_within_1_percent(scenario, prepared, every_frames, buffer_frames):
    """A Cortex-M4 that cannot keep up: periodic (exact jumps) or drifting (saturated extrapolation)."""
    sc = busy(scenario, every_frames=every_frames, deadline_s=0.01 * every_frames)
    sc = dataclasses.replace(sc, events=Arrivals(), sensor=dataclasses.replace(sc.sensor, buffer_frames=buffer_frames))
    a = arch("stm32l4r5")
    full = run_always_on(sc, a, duration_s=60.0, fast_forward=False, prepared=prepared)
    fast = run_always_on(sc, a, duration_s=60.0, fast_forward=True, prepared=prepared)
    assert full.overloaded and fast.overloaded and fast.fast_forwarded_s > 30.0
    assert fast.average_power_w == pytest.approx(full.average_power_w, rel=0.01)
    for name in ("inferences", "deadline_misses", "frames"):
        assert fast.counts[name] == pytest.approx(full.counts[name], rel=0.01)
    assert fast.counts["frames_dropped"] == pytest.approx(full.counts["frames_dropped"], rel=0.05)
    if fast.extrapolated_s:
        assert "extrapolated" in to_text(fast)


def test_energy_adds_up_to_the_analytical_period(scenario, prepared):
    """No events, the DSP at its first point: every frame is wake-up + front end, every 4th an inference,
    then sleep until the next frame; the ledger must equal that sum."""
    sc = dataclasses.replace(scenario, events=Arrivals(), dvfs=Dvfs())
    a = arch("ecm3532")
    r = run_always_on(sc, a, duration_s=10.0, fast_forward=False, prepared=prepared)
    w, sleep = r.work, a.power_state("sleep")
    n_frames, n_inf = r.counts["frames"], r.counts["inferences"]
    assert n_frames == 999 and n_inf == (999 - 40) // 4 + 1
    assert w.busy_s + sleep.wake_latency_s < sc.sensor.frame_hop_s  # so the chip sleeps after every frame
    active_s = n_frames * w.front_end_s + n_inf * w.inference_s
    assert r.time_s[("front_end", "active")] + r.time_s[("network", "active")] == pytest.approx(active_s)
    assert r.time_s[("chip", "wake")] == pytest.approx(n_frames * sleep.wake_latency_s)
    chip = n_frames * w.front_end_j + n_inf * w.inference_j + n_frames * sleep.wake_energy_j
    chip += sleep.power_w * (10.0 - active_s - n_frames * sleep.wake_latency_s)
    assert r.chip_power_w * 10.0 == pytest.approx(chip, rel=1e-9)
    assert w.frame_write_j == pytest.approx(320 * a.memory(a.compute[0].activations_in).write_energy_per_byte_j)
    assert r.component_energy_j()["sensor"] == pytest.approx(sc.sensor.power_w * 10.0 + n_frames * w.frame_write_j)
    assert r.energy_per_inference_j == pytest.approx(r.total_energy_j / n_inf)


def test_overload_reports_drops_and_missed_deadlines(scenario, prepared):
    """The Cortex-M4 needs ~20 ms per inference: one every 10 ms cannot be kept up with."""
    sc = busy(scenario, every_frames=1, deadline_s=0.01)
    r = run_always_on(sc, arch("stm32l4r5"), duration_s=5.0, prepared=prepared)
    assert r.overloaded
    assert r.counts["frames_dropped"] > 100 and r.counts["deadline_misses"] > 100
    assert r.counts["inferences"] + r.counts["inferences_dropped"] == pytest.approx(r.counts["frames"] - 39, abs=5)
    assert to_text(r).startswith("OVERLOADED:")


def test_dvfs_policies(scenario, prepared):
    a = arch("ecm3532")
    points = {p.name: p for p in a.operating_points}
    fastest = max(points.values(), key=lambda p: p.freq_hz)
    pick = {}
    for policy in DvfsPolicy:
        sc = dataclasses.replace(scenario, events=Arrivals(), dvfs=Dvfs(policy=policy))
        pick[policy] = run_always_on(sc, a, duration_s=2.0, prepared=prepared)
    assert pick[DvfsPolicy.FIXED].work.operating_point == a.operating_point().name
    assert pick[DvfsPolicy.RACE_TO_IDLE].work.operating_point == fastest.name
    jit = pick[DvfsPolicy.JUST_IN_TIME]
    assert jit.work.busy_s <= scenario.inference.deadline_s and jit.counts["deadline_misses"] == 0
    assert jit.chip_power_w <= min(r.chip_power_w for r in pick.values()) * (1 + 1e-9)
    tight = dataclasses.replace(
        scenario,
        events=Arrivals(),
        dvfs=Dvfs(policy=DvfsPolicy.JUST_IN_TIME),
        inference=dataclasses.replace(scenario.inference, deadline_s=1e-6),
    )
    assert run_always_on(tight, a, duration_s=1.0, prepared=prepared).work.operating_point == fastest.name


def test_trace_events_wake_the_host_once_per_burst(scenario, prepared):
    """Keywords 0.3 s apart while the host is on (1 s) extend it: one wake-up, host on until 1 s after the last."""
    sc = dataclasses.replace(scenario, events=Arrivals(trace_times_s=(2.0, 2.3, 2.6, 7.0)))
    r = run_always_on(sc, arch("stm32l4r5"), duration_s=10.0, prepared=prepared)
    assert r.counts["events"] == 4 and r.counts["detections"] == 4 and r.counts["host_wakeups"] == 2
    on = r.time_s[("host", "on")]
    assert on == pytest.approx(2.6 - sc.host.wake_latency_s, abs=1e-9)  # (d1 + lat .. d3 + 1 s) + (d4 + lat .. + 1 s)
    assert r.component_energy_j()["host"] == pytest.approx(
        on * sc.host.power_w
        + 2 * sc.host.wake_energy_j
        + (10.0 - on - 2 * sc.host.wake_latency_s) * sc.host.sleep_power_w
    )


def test_day_long_run_is_fast_and_battery_life_consistent(scenario, prepared):
    r = run_always_on(
        scenario, arch("stm32l4r5"), duration_s=86400.0, battery=parse_battery("225mAh@3V"), prepared=prepared
    )
    assert r.fast_forwarded_s > 0.99 * 86400
    assert r.counts["inferences"] == (8_639_999 - 40) // 4 + 1
    assert r.battery_life_s == pytest.approx(2430.0 / r.average_power_w)
    assert '"average_power_w"' in to_json(r)


def test_seed_check_ndp100_under_140_uW_and_the_others_higher(scenario, prepared):
    """The seed's claim: an NDP100-class chip listening all day draws < 140 µW; the DSP and the MCU more."""
    results = [
        run_always_on(scenario, arch(n), duration_s=600.0, prepared=prepared)
        for n in ("ndp100", "ecm3532", "stm32l4r5")
    ]
    ndp, ecm, stm = results
    assert ndp.chip_power_w < 140e-6
    assert ndp.chip_power_w < ecm.chip_power_w < stm.chip_power_w
    assert not any(r.overloaded for r in results)
    table = comparison_table(results)
    assert "ndp100" in table and "µW" in table and "mW" in table


def test_timeline_png(scenario, prepared, tmp_path):
    from tinysim.report.timeline_plot import plot_timeline

    r = run_always_on(scenario, arch("stm32l4r5"), duration_s=5.0, timeline_s=(0.4, 0.6), prepared=prepared)
    assert r.segments and all(s.end_s > 0.4 and s.start_s < 0.6 for s in r.segments)
    assert {s.track for s in r.segments} == {"sensor", "chip", "host"}
    out = tmp_path / "timeline.png"
    plot_timeline(r, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not math.isnan(r.average_power_w)


def test_window_must_match_the_network_input(scenario, prepared):
    sc = dataclasses.replace(scenario, inference=dataclasses.replace(scenario.inference, window_frames=20))
    with pytest.raises(TinysimError) as info:
        run_always_on(sc, arch("stm32l4r5"), duration_s=1.0, prepared=prepared)
    text = str(info.value)
    assert "kws_always_on.yaml:" in text and "front_end.features_per_frame: 20 frames x 40 features = 800" in text
    assert "kws_fc reads 1600 inputs" in text


def test_front_end_cost_scales_from_the_first_operating_point():
    from tinysim.arch import OperatingPoint
    from tinysim.system.signal_chain import FrontEndCost
    from tinysim.system.workcost import front_end_cost

    nominal = OperatingPoint("a", 0.9, 30e6, 0.0)
    fast = OperatingPoint("b", 1.1, 90e6, 0.0)
    by_power = FrontEndCost(cycles=30000, power_w=1.5e-3)
    assert front_end_cost(by_power, nominal, nominal, 9.9) == pytest.approx((1e-3, 1.5e-6))
    t, e = front_end_cost(by_power, fast, nominal, 9.9)
    assert t == pytest.approx(30000 / 90e6) and e == pytest.approx(1.5e-6 * (1.1 / 0.9) ** 2)  # E ∝ V²
    by_energy = FrontEndCost(cycles=30000, energy_j=2e-6)
    assert front_end_cost(by_energy, fast, nominal, 9.9)[1] == pytest.approx(2e-6 * (1.1 / 0.9) ** 2)
    fixed = FrontEndCost(time_s=1e-4, power_w=1e-3)
    assert front_end_cost(fixed, fast, nominal, 9.9) == pytest.approx((1e-4, 1e-7))
    running = FrontEndCost(cycles=9e4)
    assert front_end_cost(running, fast, nominal, 2e-3) == pytest.approx((1e-3, 2e-6))


def test_auto_power_state_skips_a_sleep_too_slow_to_wake_for_the_deadline(scenario, prepared):
    from tinysim.arch import PowerState, PowerStateName

    a = arch("ecm3532")
    sc = dataclasses.replace(scenario, events=Arrivals(), dvfs=Dvfs())
    normal = run_always_on(sc, a, duration_s=2.0, prepared=prepared)
    assert ("chip", "sleep") in normal.time_s and ("chip", "idle") not in normal.time_s
    slow = dict(a.power_states)
    slow[PowerStateName.SLEEP] = dataclasses.replace(slow[PowerStateName.SLEEP], wake_latency_s=0.039)
    slow_arch = dataclasses.replace(a, power_states=slow)
    r = run_always_on(sc, slow_arch, duration_s=2.0, prepared=prepared)
    assert ("chip", "idle") in r.time_s and r.time_s.get(("chip", "sleep"), 0.0) == 0.0
    assert r.counts["deadline_misses"] == 0 and isinstance(slow[PowerStateName.SLEEP], PowerState)


def test_saturated_jumps_keep_every_keyword(scenario, prepared):
    """Overloaded chip, a keyword every 50 s: jumps stop short of each, counts stay whole and non-negative."""
    sc = busy(scenario, every_frames=1, deadline_s=0.01)
    sc = dataclasses.replace(sc, events=Arrivals(trace_times_s=tuple(float(t) for t in range(25, 600, 50))))
    a = arch("stm32l4r5")
    full = run_always_on(sc, a, duration_s=600.0, fast_forward=False, prepared=prepared)
    fast = run_always_on(sc, a, duration_s=600.0, prepared=prepared)
    assert fast.extrapolated_s > 300.0
    assert all(v >= 0 for v in fast.counts.values())
    for name in ("events", "detections", "host_wakeups"):
        assert fast.counts[name] == full.counts[name] == 12
    assert fast.average_power_w == pytest.approx(full.average_power_w, rel=0.01)
    assert fast.component_energy_j()["host"] == pytest.approx(full.component_energy_j()["host"], rel=0.01)


def test_an_overloaded_chip_that_sometimes_waits_is_extrapolated(scenario, prepared):
    """The RP2040 needs ~66 ms per 40 ms window: it drops ~45 % of frames yet waits for a frame at ~1 boundary in
    10 (a drop leaves a gap). Saturated windows were once restarted at every such wait, so nothing was skipped and
    a day took minutes; now most of the run is extrapolated and agrees with every frame simulated."""
    a = arch("rp2040")
    full = run_always_on(scenario, a, duration_s=600.0, fast_forward=False, prepared=prepared)
    fast = run_always_on(scenario, a, duration_s=600.0, prepared=prepared)
    assert full.overloaded and 0.2 < full.counts["frames_dropped"] / full.counts["frames"] < 0.8
    assert fast.extrapolated_s > 500.0
    assert fast.average_power_w == pytest.approx(full.average_power_w, rel=0.01)
    for name in ("frames", "inferences", "deadline_misses", "events", "detections", "host_wakeups"):
        assert fast.counts[name] == pytest.approx(full.counts[name], rel=0.01), name


def test_a_run_that_would_simulate_too_many_frames_stops_at_once_with_its_estimate(scenario, prepared):
    """Every frame simulated (no fast-forward), 10 ms frames: a day is 8.64e6 frames, past the 5e6 default. The run
    stops after the first ESTIMATE_AFTER_FRAMES with the extrapolated total; --work-limit raises the limit."""
    from tinysim.system.effort import ESTIMATE_AFTER_FRAMES, MAX_SIMULATED_FRAMES

    a = arch("ndp100")
    with pytest.raises(TinysimError) as err:
        run_always_on(scenario, a, duration_s=86400.0, fast_forward=False, prepared=prepared)
    message = str(err.value)
    assert "\n" not in message and "--work-limit" in message and str(SCENARIO) in message
    estimate = float(message.split("~")[1].split(" frames")[0])
    assert estimate == pytest.approx(86400.0 / scenario.sensor.frame_hop_s, rel=0.01)
    seconds = ESTIMATE_AFTER_FRAMES * 2 * scenario.sensor.frame_hop_s  # a run under the limit: not refused
    limit = ESTIMATE_AFTER_FRAMES / MAX_SIMULATED_FRAMES  # a limit of ESTIMATE_AFTER_FRAMES frames
    with pytest.raises(TinysimError, match="beyond the limit of"):
        run_always_on(scenario, a, duration_s=seconds, fast_forward=False, prepared=prepared, work_limit=limit)
    r = run_always_on(scenario, a, duration_s=seconds, fast_forward=False, prepared=prepared, work_limit=2 * limit)
    assert r.counts["frames"] == pytest.approx(seconds / scenario.sensor.frame_hop_s, abs=1)


def test_progress_hears_the_simulated_seconds_while_frames_are_simulated(scenario, prepared):
    calls: list[tuple[int, int]] = []
    run_always_on(
        scenario, arch("ndp100"), duration_s=600.0, fast_forward=False, prepared=prepared,
        progress=lambda d, t: calls.append((d, t)),
    )  # fmt: skip
    assert len(calls) == 60_000 // 4096 and all(t == 600 for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and 0 < done[-1] <= 600


def test_an_error_re_created_from_its_args_keeps_where_it_happened():
    """SimPy re-raises a failed process's exception as type(e)(*e.args); pickling (process pools, Dask) also
    rebuilds from args. Both must keep the file, line and field of the one-line message."""
    import pickle

    from tinysim.errors import SpecError

    err = SpecError("expected a time", file="s.yaml", line=3, field="duration")
    for copy in (type(err)(*err.args), pickle.loads(pickle.dumps(err))):
        assert str(copy) == str(err) == "s.yaml:3: duration: expected a time"
        assert (copy.file, copy.line, copy.field, copy.message) == ("s.yaml", 3, "duration", "expected a time")
