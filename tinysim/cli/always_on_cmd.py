"""`tinysim always-on SCENARIO.yaml`: simulate a device listening all day; average µW, breakdown, battery life."""

from __future__ import annotations

import argparse

from tinysim.cli.output import emit
from tinysim.errors import TinysimError

EXAMPLES = """examples:
  tinysim always-on kws_always_on
  tinysim always-on kws_always_on --arch ecm3532 --duration 24h
  tinysim always-on kws_always_on --arch stm32l4r5 --battery 225mAh@3V --format json
  tinysim always-on kws_always_on --arch ecm3532 --battery CR2032 --duration 24h
  tinysim always-on kws_always_on --arch ndp100 --arch ecm3532 --arch stm32l4r5 --duration 24h
  tinysim always-on kws_always_on --timeline timeline.png --window "0.5 s" --window-start 2s
  tinysim always-on kws_fleet --fleet 1000 --duration 365d --jobs 2 --fleet-plot fleet.png
  tinysim always-on kws_fleet --fleet 1000 --duration 30d --dask local:2 --format json
"""


def register(sub) -> None:
    p = sub.add_parser(
        "always-on",
        help="simulate an always-on scenario: average power, breakdown, drops, battery life",
        description="Simulate a sensor streaming frames, a feature front end, the network every N frames, "
        "keyword events waking a host, and the chip's power states (SimPy, steady stretches fast-forwarded "
        "analytically). Reports average power with a per-component and per-state breakdown, energy per "
        "inference, duty cycle, detections and host wake-ups, dropped frames and missed deadlines, battery life.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", metavar="SCENARIO.yaml", help="scenario YAML (workloads/scenarios/*.yaml)")
    p.add_argument(
        "--arch",
        metavar="ARCH",
        action="append",
        help="architecture YAML, or a name under archs/ (default: the scenario's); repeat it to compare "
        "architectures on the scenario in one table",
    )
    p.add_argument("--duration", metavar="TIME", help="simulated time, e.g. 60s, 24h (default: the scenario's)")
    p.add_argument(
        "--battery",
        metavar="CELL|CAP@V",
        help="battery for the battery life: a cell (CR2032, CR2477, 2xAA, LiPo150: derated for the peak current "
        "and temperature, self-discharging) or an ideal reservoir capacity@voltage (default: the scenario's "
        "`battery:`, else 225mAh@3V)",
    )
    p.add_argument("--no-fast-forward", action="store_true", help="simulate every period event by event")
    p.add_argument(
        "--work-limit",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply the limit on frames simulated one by one (5e6, ~1.5 min; a run that would pass it "
        "stops at once with its estimate)",
    )
    p.add_argument("--timeline", metavar="FILE.png", help="write a power-vs-time PNG of a window of the run")
    p.add_argument(
        "--trace",
        metavar="FILE.csv",
        help="write the per-component power trace of the window as CSV (track, state, start_s, end_s, "
        "power_w, energy_j per interval)",
    )
    p.add_argument("--window", metavar="TIME", default="200 ms", help="timeline window length (default 200 ms)")
    p.add_argument(
        "--window-start", metavar="TIME", help="timeline window start (default: just after the first inference)"
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="output format (default table; markdown = the comparison table)",
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    p.add_argument(
        "--fleet",
        metavar="N",
        type=int,
        help="simulate N devices whose event rate, battery capacity and temperature are drawn from the "
        "scenario's `fleet:` block; report P5/P50/P95 of average power and battery life",
    )
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes for --fleet (default 1)")
    p.add_argument("--dask", metavar="ADDRESS", help='run --fleet on Dask: "tcp://HOST:PORT" or "local:N"')
    p.add_argument("--fleet-plot", metavar="FILE.png", help="with --fleet: write histograms of the fleet")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import compile_notice, each, progress_bar
    from tinysim.report.always_on_report import comparison_table, headline, to_json, to_text
    from tinysim.system.run import prepare_workload, resolve_arch, run_always_on
    from tinysim.system.scenario import load_scenario
    from tinysim.units import Dimension, parse_quantity

    scenario = load_scenario(args.scenario)
    duration = parse_quantity(args.duration, Dimension.TIME, field="--duration") if args.duration else None
    battery = _battery(args.battery, scenario)
    if args.fleet is not None or args.fleet_plot:
        return _fleet(args, scenario, duration, battery)
    archs = [resolve_arch(scenario, a) for a in args.arch] if args.arch else [resolve_arch(scenario, None)]
    if (args.timeline or args.trace) and len(archs) > 1:
        raise TinysimError("a timeline is drawn for one architecture: give a single --arch", field="--timeline")
    window = _window(args, scenario) if args.timeline or args.trace else None
    with compile_notice():
        prepared = prepare_workload(scenario)  # one engine run, priced on every architecture
    results = []
    for arch in each(archs, "always-on", "arch", enabled=len(archs) > 1):
        with progress_bar(f"simulating on {arch.name}", "s", enabled=len(archs) == 1) as progress:
            result = run_always_on(
                scenario,
                arch,
                duration_s=duration,
                battery=battery,
                fast_forward=not args.no_fast_forward,
                timeline_s=window,
                prepared=prepared,
                work_limit=args.work_limit,
                progress=progress,
            )
        results.append(result)
    if args.timeline:
        from tinysim.report.timeline_plot import plot_timeline

        plot_timeline(results[0], args.timeline)
    if args.trace:
        from pathlib import Path

        from tinysim.cli.output import write_atomic
        from tinysim.report.power_trace import power_trace_csv

        write_atomic(Path(args.trace), power_trace_csv(results[0]), field="--trace")
    if args.format == "json":
        text = to_json(results[0]) if len(results) == 1 else "[\n" + ",\n".join(to_json(r) for r in results) + "\n]"
    elif args.format == "markdown":
        text = comparison_table(results, markdown=True)
    elif len(results) == 1:
        text = to_text(results[0])
    else:
        text = "\n\n".join([*(headline(r) for r in results), comparison_table(results)])
    emit(text, args.output)
    return 0


def _fleet(args: argparse.Namespace, scenario, duration, battery) -> int:
    """--fleet N: one engine run and pricing here, the devices in --jobs processes or on --dask."""
    from tinysim.cli.progress import compile_notice, progress_bar
    from tinysim.report.fleet_report import plot_fleet, to_json, to_text
    from tinysim.system.fleet import run_fleet
    from tinysim.system.run import prepare_workload, resolve_arch
    from tinysim.system.workcost import choose_work_cost

    if args.fleet is None:
        raise TinysimError("--fleet-plot draws a fleet: give --fleet N", field="--fleet-plot")
    if args.arch and len(args.arch) > 1 or args.timeline:
        raise TinysimError("a fleet runs one architecture and draws no timeline", field="--fleet")
    arch = resolve_arch(scenario, args.arch[0] if args.arch else None)
    with compile_notice():
        work = choose_work_cost(arch, prepare_workload(scenario), scenario)
    cluster = None
    if args.dask:
        from tinysim.explore.executors import DaskExecutor

        cluster = DaskExecutor(args.dask)
    try:
        with progress_bar("devices", "device") as progress:
            fleet = run_fleet(
                scenario,
                arch,
                work,
                battery,
                args.fleet,
                duration_s=duration,
                jobs=args.jobs,
                dask=cluster,
                work_limit=args.work_limit,
                progress=progress,
            )
    finally:
        if cluster is not None:
            cluster.close()
    if args.fleet_plot:
        plot_fleet(fleet, args.fleet_plot)
    emit(to_json(fleet) if args.format == "json" else to_text(fleet), args.output)
    return 0


def _battery(text: str | None, scenario):
    """--battery, keeping the scenario's temperature and harvest; else the scenario's battery, else the default."""
    from dataclasses import replace

    from tinysim.system.battery import DEFAULT, parse_battery

    if not text:
        return scenario.battery or parse_battery(DEFAULT)
    battery = parse_battery(text)
    if scenario.battery is not None:
        battery = replace(battery, temperature_c=scenario.battery.temperature_c, harvest_w=scenario.battery.harvest_w)
    return battery


def _window(args: argparse.Namespace, scenario) -> tuple[float, float]:
    from tinysim.units import Dimension, parse_quantity

    length = parse_quantity(args.window, Dimension.TIME, field="--window")
    if args.window_start:
        start = parse_quantity(args.window_start, Dimension.TIME, field="--window-start")
    else:
        start = scenario.inference.window_frames * scenario.sensor.frame_hop_s
    return (start, start + length)
