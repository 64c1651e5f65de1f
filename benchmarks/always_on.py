"""Wall time of 24 h of always-on operation at 100 inferences per second (target: <= 5 s), and the
agreement of fast-forward with the event-by-event simulation on 60 s.

    python benchmarks/always_on.py [--arch ndp100] [--probability 1e-4]

The scenario is workloads/scenarios/kws_always_on.yaml with one inference per 10 ms frame (100 Hz,
deadline 10 ms). "setup" = loading, one engine run of the network and pricing it at the operating
points; "simulate" = the SimPy model with fast-forward. The full event-by-event figure for 24 h is
extrapolated from the 60 s event-by-event run.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", default="ndp100", help="arch name under archs/ (default ndp100)")
    parser.add_argument("--probability", type=float, default=1e-4, help="keyword probability per window")
    args = parser.parse_args()

    t0 = time.perf_counter()
    from tinysim.system import load_scenario, prepare_workload, resolve_arch, run_always_on
    from tinysim.system.scenario import Events
    from tinysim.system.workcost import choose_work_cost

    scenario = load_scenario(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    scenario = dataclasses.replace(
        scenario,
        inference=dataclasses.replace(scenario.inference, every_frames=1, deadline_s=scenario.sensor.frame_hop_s),
        events=Events(probability_per_window=args.probability, seed=1),
    )
    arch = resolve_arch(scenario, args.arch)
    prepared = prepare_workload(scenario)
    choose_work_cost(arch, prepared.graph, prepared.events, scenario)
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    day = run_always_on(scenario, arch, duration_s=86400.0, prepared=prepared)
    simulate = time.perf_counter() - t1

    t2 = time.perf_counter()
    full = run_always_on(scenario, arch, duration_s=60.0, fast_forward=False, prepared=prepared)
    full_s = time.perf_counter() - t2
    busy = dataclasses.replace(scenario, events=Events(probability_per_window=0.01, seed=7))  # dozens of keywords
    full = run_always_on(busy, arch, duration_s=60.0, fast_forward=False, prepared=prepared)
    fast = run_always_on(busy, arch, duration_s=60.0, fast_forward=True, prepared=prepared)

    c = day.counts
    print(
        f"24 h of {scenario.name} on {arch.name} @ {day.work.operating_point}, one inference per "
        f"{day.period_s * 1e3:g} ms ({c['inferences']:,} inferences, {c['events']:,} keywords, "
        f"{c['host_wakeups']:,} host wake-ups, {c['frames_dropped']:,} frames dropped)"
    )
    print(
        f"  wall: {setup + simulate:.3f} s (setup {setup:.3f} s: engine run + pricing; simulate {simulate:.3f} s; "
        f"{day.fast_forwarded_s / 86400:.2%} of the day fast-forwarded)"
    )
    print(f"  average power {day.average_power_w * 1e6:.4g} µW (chip {day.chip_power_w * 1e6:.4g} µW)")
    print(f"  event by event, extrapolated from 60 s ({full_s:.3f} s): {full_s * 1440:.0f} s for 24 h")
    print(
        f"60 s with a keyword probability of 0.01 per window, fast-forward vs event by event "
        f"({full.counts['detections']} detections, {full.counts['host_wakeups']} host wake-ups):"
    )
    for label, a, b in [
        ("average power", fast.average_power_w, full.average_power_w),
        ("chip power", fast.chip_power_w, full.chip_power_w),
    ]:
        print(f"  {label}: {a * 1e6:.6g} µW vs {b * 1e6:.6g} µW ({(a - b) / b:+.2e} relative)")
    print(f"  counts equal: {fast.counts == full.counts}; fast-forwarded {fast.fast_forwarded_s:.2f} s of 60 s")


if __name__ == "__main__":
    main()
