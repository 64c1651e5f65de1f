"""Always-on simulation cost: 1 / 30 / 365 days of the shipped keyword scenario (target: 365 days in <= 1 s),
with the exactness of episode replay; then 24 h at 100 inferences per second (target: <= 5 s) and the
agreement of fast-forward with the event-by-event simulation on 60 s.

    python benchmarks/always_on.py [--arch ndp100 --arch stm32l4r5] [--probability 1e-4] [--replay-arch ndp100]

Replay (tinysim.system.replay): each distinct keyword episode is simulated once by the SimPy model, its
repeats and the steady cycles between them are added up. "wall" is run_always_on (arrival times, pricing,
simulation; imports and the engine run excluded); "cpu" is the process time of the same call (what the
wall time is on an idle machine). The exactness check compares replay with the same model simulating every
episode (1 and 7 days) and with the plain event-by-event run, no fast-forward at all (5 minutes, a keyword
every 4 s).

The scenario is workloads/scenarios/kws_always_on.yaml with one inference per 10 ms frame (100 Hz,
deadline 10 ms) and a keyword probability per window. "setup" = loading, one engine run of the
network and pricing it at the operating points; "simulate" = the SimPy model with fast-forward.
The event-by-event figure for 24 h is extrapolated from a 60 s event-by-event run. The Cortex-M4
(stm32l4r5) cannot keep up at 100 Hz: its day is the overloaded (saturated) case.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", action="append", help="arch name under archs/ (default: ndp100 and stm32l4r5)")
    parser.add_argument("--probability", type=float, default=1e-4, help="keyword probability per window")
    parser.add_argument("--replay-arch", default="ndp100", help="arch for the 1 / 30 / 365-day replay runs")
    parser.add_argument("--fleet-devices", type=int, default=10_000, help="devices of the fleet section (10,000)")
    parser.add_argument("--fleet-jobs", type=int, default=2, help="worker processes of the fleet section (2)")
    parser.add_argument("--fleet-only", action="store_true", help="run only the fleet section")
    args = parser.parse_args()
    if args.fleet_only:
        fleet(args.fleet_devices, args.fleet_jobs)
        return

    t0 = time.perf_counter()
    from tinysim.system import load_scenario, prepare_workload, resolve_arch
    from tinysim.system.scenario import Arrivals

    shipped = load_scenario(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    prepared = prepare_workload(shipped)
    setup = time.perf_counter() - t0
    print(f"setup {setup:.3f} s (imports, scenario, one engine run of {prepared.graph.name})")
    years(shipped, resolve_arch(shipped, args.replay_arch), prepared)

    scenario = dataclasses.replace(
        shipped,
        inference=dataclasses.replace(shipped.inference, every_frames=1, deadline_s=shipped.sensor.frame_hop_s),
        events=Arrivals(probability_per_window=args.probability, seed=1),
    )
    for name in args.arch or ["ndp100", "stm32l4r5"]:
        day(scenario, resolve_arch(scenario, name), prepared)
    fleet(args.fleet_devices, args.fleet_jobs)


def years(scenario, arch, prepared) -> None:
    """1 / 30 / 365 days with replay, and replay against every episode simulated and the event-by-event run."""
    from tinysim.system import run_always_on
    from tinysim.system.scenario import Arrivals

    print(f"\n{scenario.name} (shipped) on {arch.name}, replay of keyword episodes:")
    for days in (1, 30, 365):
        t0, c0 = time.perf_counter(), time.process_time()
        r = run_always_on(scenario, arch, duration_s=days * 86400.0, prepared=prepared)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"  {days:3d} days simulated in {wall:.3f} s wall ({cpu:.3f} s cpu): {r.counts['events']:,} keywords, "
            f"{r.episodes_simulated} distinct episodes simulated, {r.episodes_replayed:,} replayed; "
            f"{r.replayed_s / r.duration_s:.4%} of the time replayed; {r.average_power_w * 1e6:.6g} µW"
        )
    print("  exactness (replay vs the SimPy model simulating every episode / every frame):")
    busy = dataclasses.replace(scenario, events=Arrivals(probability_per_window=0.01, seed=7))
    for label, sc, seconds, options in (
        ("1 day, every episode simulated", scenario, 86400.0, {"replay": False}),
        ("7 days, every episode simulated", scenario, 7 * 86400.0, {"replay": False}),
        ("300 s, a keyword every 4 s, event by event (no fast-forward)", busy, 300.0, {"fast_forward": False}),
    ):
        t0 = time.perf_counter()
        ref = run_always_on(sc, arch, duration_s=seconds, prepared=prepared, **options)
        ref_wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = run_always_on(sc, arch, duration_s=seconds, prepared=prepared)
        rep_wall = time.perf_counter() - t0
        total = ref.total_energy_j
        worst = max(abs(rep.energy_j.get(k, 0.0) - e) for k, e in ref.energy_j.items()) / total
        worst_t = max(abs(rep.time_s.get(k, 0.0) - t) for k, t in ref.time_s.items()) / seconds
        print(
            f"    {label}: {ref_wall:.2f} s vs replay {rep_wall:.3f} s; total energy {rep.total_energy_j:.12g} vs "
            f"{total:.12g} J ({(rep.total_energy_j - total) / total:+.2e}); worst state energy {worst:.1e} of the "
            f"total, worst state time {worst_t:.1e} of the duration; counts "
            f"{'equal' if dict(rep.counts) == dict(ref.counts) else 'DIFFER'} ({ref.counts['events']} keywords); "
            f"{'PASS' if max(worst, worst_t) <= 1e-9 and dict(rep.counts) == dict(ref.counts) else 'FAIL'} (1e-9)"
        )


def day(scenario, arch, prepared) -> None:
    from tinysim.system import run_always_on
    from tinysim.system.scenario import Arrivals
    from tinysim.system.workcost import choose_work_cost

    t0 = time.perf_counter()
    choose_work_cost(arch, prepared, scenario)
    pricing = time.perf_counter() - t0
    t1 = time.perf_counter()
    r = run_always_on(scenario, arch, duration_s=86400.0, prepared=prepared)
    simulate = time.perf_counter() - t1
    t2 = time.perf_counter()
    run_always_on(scenario, arch, duration_s=60.0, fast_forward=False, prepared=prepared)
    full_s = time.perf_counter() - t2

    c = r.counts
    print(
        f"\n24 h of {scenario.name} on {arch.name} @ {r.work.operating_point}, one inference per "
        f"{r.period_s * 1e3:g} ms ({c['inferences']:,} inferences, {c['events']:,} keywords, "
        f"{c['host_wakeups']:,} host wake-ups, {c['frames_dropped']:,} frames dropped)"
    )
    print(
        f"  wall: simulate {simulate:.3f} s + pricing {pricing:.3f} s; {r.fast_forwarded_s / 86400:.2%} of the day "
        f"fast-forwarded ({r.extrapolated_s / 86400:.2%} extrapolated in the saturated regime)"
    )
    print(f"  average power {r.average_power_w * 1e6:.4g} µW (chip {r.chip_power_w * 1e6:.4g} µW)")
    print(f"  event by event, extrapolated from 60 s ({full_s:.3f} s): {full_s * 1440:.0f} s for 24 h")

    busy = dataclasses.replace(scenario, events=Arrivals(probability_per_window=0.01, seed=7))
    for label, sc in (("no keywords", dataclasses.replace(scenario, events=Arrivals())), ("p = 0.01", busy)):
        full = run_always_on(sc, arch, duration_s=60.0, fast_forward=False, prepared=prepared)
        fast = run_always_on(sc, arch, duration_s=60.0, fast_forward=True, prepared=prepared)
        print(
            f"  60 s, {label} ({full.counts['detections']} detections), fast-forward ({fast.fast_forwarded_s:.1f} s "
            f"skipped) vs event by event:"
        )
        for what, a, b in (
            ("average power", fast.average_power_w, full.average_power_w),
            ("chip power", fast.chip_power_w, full.chip_power_w),
            ("inferences", fast.counts["inferences"], full.counts["inferences"]),
            ("frames dropped", fast.counts["frames_dropped"], full.counts["frames_dropped"]),
        ):
            rel = (a - b) / b if b else 0.0
            unit = " µW" if "power" in what else ""
            scale = 1e6 if unit else 1
            print(f"    {what}: {a * scale:.6g}{unit} vs {b * scale:.6g}{unit} ({rel:+.2e} relative)")


def fleet(devices: int, jobs: int) -> None:
    """`devices` x 1 year of workloads/scenarios/kws_fleet.yaml in `jobs` processes (target: 10,000 in <= 60 s on
    2 cores). The network is run and priced once; each worker shares one replay record between its devices."""
    from tinysim.system import load_scenario, prepare_workload, resolve_arch
    from tinysim.system.fleet import run_fleet
    from tinysim.system.workcost import choose_work_cost

    scenario = load_scenario(ROOT / "workloads" / "scenarios" / "kws_fleet.yaml")
    arch = resolve_arch(scenario, None)
    work = choose_work_cost(arch, prepare_workload(scenario), scenario)
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_fleet(scenario, arch, work, scenario.battery, devices, duration_s=365.25 * 86400.0, jobs=jobs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    p = result.to_dict()
    per = wall / devices
    print(
        f"\nfleet: {devices:,} devices x 1 year of {scenario.name} on {arch.name}, {jobs} processes: {wall:.1f} s wall "
        f"({per * 1e3:.1f} ms per device; 10,000 devices: {per * 10_000:.0f} s, target 60 s; client cpu {cpu:.1f} s)"
    )
    print(
        "  average power P5/P50/P95 "
        + " / ".join(f"{p['average_power_w'][k] * 1e6:.5g} µW" for k in ("p5", "p50", "p95"))
        + "; battery life "
        + " / ".join(f"{p['battery_life_s'][k] / 86400:.4g} days" for k in ("p5", "p50", "p95"))
    )


if __name__ == "__main__":
    main()
