"""Wall time of 24 h of always-on operation at 100 inferences per second (target: <= 5 s), and the
agreement of fast-forward with the event-by-event simulation on 60 s.

    python benchmarks/always_on.py [--arch ndp100 --arch stm32l4r5] [--probability 1e-4]

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
    args = parser.parse_args()

    t0 = time.perf_counter()
    from tinysim.system import load_scenario, prepare_workload, resolve_arch
    from tinysim.system.scenario import Events

    scenario = load_scenario(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    scenario = dataclasses.replace(
        scenario,
        inference=dataclasses.replace(scenario.inference, every_frames=1, deadline_s=scenario.sensor.frame_hop_s),
        events=Events(probability_per_window=args.probability, seed=1),
    )
    prepared = prepare_workload(scenario)
    setup = time.perf_counter() - t0
    print(f"setup {setup:.3f} s (imports, scenario, one engine run of {prepared.graph.name})")
    for name in args.arch or ["ndp100", "stm32l4r5"]:
        day(scenario, resolve_arch(scenario, name), prepared)


def day(scenario, arch, prepared) -> None:
    from tinysim.system import run_always_on
    from tinysim.system.scenario import Events
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

    busy = dataclasses.replace(scenario, events=Events(probability_per_window=0.01, seed=7))
    for label, sc in (("no keywords", dataclasses.replace(scenario, events=Events())), ("p = 0.01", busy)):
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


if __name__ == "__main__":
    main()
