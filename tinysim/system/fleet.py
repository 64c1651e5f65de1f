"""Fleets: N devices of one always-on scenario whose event rate, battery capacity and temperature vary.

A scenario's `fleet:` block gives distributions (tinysim.system.fleet_spec); device i draws its parameters
and its event seed from its own stream: the same whatever N, the chunking or the executor. The network is
run and priced once on the client; every device then runs the SimPy model with its own arrivals, the
devices of a worker sharing one replay record (the chip never depends on the event rate, so the cycles
and keyword episodes learned on one device are those of the others: replay.Replay.fresh). A device's
battery life is its battery's `life_s` at its average and peak power (the temperature matters to named
cells only: an ideal reservoir has no derating).
"""

from __future__ import annotations

import concurrent.futures
import copyreg
import math
import types
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tinysim.arch import Arch
from tinysim.errors import TinysimError
from tinysim.system.arrivals import event_times
from tinysim.system.battery import Battery
from tinysim.system.components import AlwaysOnModel
from tinysim.system.fleet_spec import Device, FleetSpec, draw_device
from tinysim.system.replay import Replay
from tinysim.system.result import AlwaysOnResult
from tinysim.system.scenario import Scenario
from tinysim.system.workcost import WorkCost

__all__ = ["FleetJob", "FleetResult", "device_battery", "device_scenario", "evaluate_devices", "run_fleet"]

PERCENTILES = (5.0, 50.0, 95.0)


def device_scenario(scenario: Scenario, device: Device) -> Scenario:
    """The scenario with this device's event seed and every rate of its process scaled."""
    ev, k = scenario.events, device.event_rate_scale
    if ev.trace_times_s is not None:
        return scenario  # a trace is the same on every device
    events = replace(
        ev,
        seed=device.event_seed,
        probability_per_window=min(ev.probability_per_window * k, 1.0),
        rate_hz=ev.rate_hz * k,
        events_per_hour=tuple(r * k for r in ev.events_per_hour),
        burst_rate_hz=ev.burst_rate_hz * k,
        quiet_rate_hz=ev.quiet_rate_hz * k,
    )
    return replace(scenario, events=events)


def device_battery(battery: Battery, device: Device) -> Battery:
    temperature = battery.temperature_c if device.temperature_c is None else device.temperature_c
    return replace(battery, capacity_c=battery.capacity_c * device.capacity_scale, temperature_c=temperature)


def _frozen(mapping: dict) -> types.MappingProxyType:
    return types.MappingProxyType(mapping)


# The specs' frozen mappings travel to worker processes as the dicts they wrap.
copyreg.pickle(types.MappingProxyType, lambda m: (_frozen, (dict(m),)))


@dataclass(frozen=True, eq=False)
class FleetJob:
    """What a worker needs: everything parsed and priced on the client (no file is read on a worker)."""

    scenario: Scenario
    arch: Arch
    work: WorkCost
    battery: Battery
    duration_s: float
    spec: FleetSpec
    key: str  # names the job in a worker's replay cache
    work_limit: float = 1.0  # multiplies the frames a device may simulate one by one (tinysim.system.effort)


_REPLAYS: dict[str, Replay] = {}  # a worker's replay record per job (the last few jobs)


def _replay(job: FleetJob) -> Replay:
    if job.key not in _REPLAYS:
        while len(_REPLAYS) >= 4:
            _REPLAYS.pop(next(iter(_REPLAYS)))
        sc = job.scenario
        _REPLAYS[job.key] = Replay(sc.period_s, sc.sensor.frame_hop_s, sc.inference.every_frames)
    return _REPLAYS[job.key]


def evaluate_devices(job: FleetJob, start: int, stop: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Devices [start, stop): (start, average power W, battery life s)."""
    sc, shared = job.scenario, _replay(job)
    power, life = np.empty(stop - start), np.empty(stop - start)
    for k, index in enumerate(range(start, stop)):
        device = draw_device(job.spec, index)
        scenario = device_scenario(sc, device)
        arrivals = event_times(scenario, job.duration_s)
        model = AlwaysOnModel(scenario, job.arch, job.work, arrivals, job.duration_s, work_limit=job.work_limit)
        model.replay = shared.fresh()
        model.run()
        result = _result(job, scenario, model, device_battery(job.battery, device))
        power[k], life[k] = result.average_power_w, result.battery_life_s
    return start, power, life


def _result(job: FleetJob, scenario: Scenario, model: AlwaysOnModel, battery: Battery) -> AlwaysOnResult:
    ledger = model.ledger
    return AlwaysOnResult(
        scenario=scenario.name,
        arch=job.arch.name,
        workload="",
        dvfs_policy=scenario.dvfs.policy.value,
        between_work=scenario.between_work.value,
        duration_s=job.duration_s,
        period_s=scenario.period_s,
        deadline_s=scenario.inference.deadline_s,
        work=job.work,
        energy_j=dict(ledger.energy_j),
        time_s=dict(ledger.time_s),
        counts=dict(ledger.counts),
        fast_forwarded_s=model.ff.skipped_s,
        battery=battery,
    )


@dataclass(frozen=True)
class FleetResult:
    scenario: str
    arch: str
    duration_s: float
    seed: int
    average_power_w: np.ndarray  # per device, in device order
    battery_life_s: np.ndarray

    @property
    def devices(self) -> int:
        return len(self.average_power_w)

    def percentiles(self, values: np.ndarray) -> dict[str, float]:
        return {f"p{p:g}": float(v) for p, v in zip(PERCENTILES, np.percentile(values, PERCENTILES), strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "devices": self.devices,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "average_power_w": self.percentiles(self.average_power_w),
            "battery_life_s": self.percentiles(self.battery_life_s),
        }


_INSTALLED: FleetJob | None = None  # a pool worker's job, set once by its initializer


def _install(job: FleetJob) -> None:
    global _INSTALLED
    _INSTALLED = job


def _evaluate_installed(start: int, stop: int) -> tuple[int, np.ndarray, np.ndarray]:
    assert _INSTALLED is not None
    return evaluate_devices(_INSTALLED, start, stop)


def _chunks(devices: int, chunk: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk, devices)) for s in range(0, devices, chunk)]


def _run_local(job: FleetJob, chunks: list[tuple[int, int]], jobs: int) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    if jobs == 1:
        for start, stop in chunks:
            yield evaluate_devices(job, start, stop)
        return
    with concurrent.futures.ProcessPoolExecutor(jobs, initializer=_install, initargs=(job,)) as pool:
        futures = [pool.submit(_evaluate_installed, s, e) for s, e in chunks]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()


def _run_dask(
    job: FleetJob, chunks: list[tuple[int, int]], cluster: Any
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """On a Dask cluster the caller connected (anything with a distributed `client`: the sweeps' DaskExecutor,
    which the CLI builds from --dask; system sits beside explore in the layering, so it does not import it)."""
    from distributed import as_completed

    shipped = cluster.client.submit(lambda j: j, job, pure=False)  # sent once, fetched once per worker
    futures = [cluster.client.submit(evaluate_devices, shipped, s, e, pure=False) for s, e in chunks]
    for future in as_completed(futures):
        yield future.result()


def run_fleet(
    scenario: Scenario,
    arch: Arch,
    work: WorkCost,
    battery: Battery,
    devices: int,
    *,
    duration_s: float | None = None,
    spec: FleetSpec | None = None,
    jobs: int = 1,
    dask: Any = None,
    chunk: int | None = None,
    work_limit: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> FleetResult:
    """`devices` devices of `scenario` on `arch` (`work`: choose_work_cost, priced once), locally in `jobs`
    processes or on Dask (`dask`: a connected cluster with a `client`, e.g. tinysim.explore.executors.DaskExecutor);
    `spec`: default the scenario's `fleet:` block; `progress(done, total)` hears the devices done."""
    if devices < 1:
        raise TinysimError(f"expected at least one device, got {devices}", field="--fleet")
    if jobs < 1:
        raise TinysimError(f"expected at least one job, got {jobs}", field="--jobs")
    spec = spec or getattr(scenario, "fleet", None) or FleetSpec()
    duration = scenario.duration_s if duration_s is None else duration_s
    job = FleetJob(scenario, arch, work, battery, duration, spec, key=uuid.uuid4().hex, work_limit=work_limit)
    workers = jobs if not dask else 8
    chunks = _chunks(devices, chunk or max(1, math.ceil(devices / (4 * workers))))
    runs = _run_dask(job, chunks, dask) if dask else _run_local(job, chunks, jobs)
    power, life = np.empty(devices), np.empty(devices)
    done = 0
    for start, p, b in runs:
        power[start : start + len(p)], life[start : start + len(b)] = p, b
        done += len(p)
        if progress is not None:
            progress(done, devices)
    return FleetResult(scenario.name, arch.name, duration, spec.seed, power, life)
