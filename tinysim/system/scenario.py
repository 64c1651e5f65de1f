"""Always-on scenario YAML (schema version 1) → `Scenario`, with `FILE:LINE: field.path: message` errors.

A scenario says what the device does all day, not what the chip is made of (that is the arch):

    version: 1
    name: kws_always_on
    arch: ../../archs/ndp100.yaml        # default architecture (paths relative to this file); --arch overrides
    workload: ../fc4_audio.yaml          # the network run at every inference
    duration: 60 s                       # default simulated time; --duration overrides
    sensor: {name: PDM microphone, sample_rate: 16 kHz, bytes_per_sample: 2, power: 1.55 mW,
             frame_hop: 10 ms, buffer_frames: 4}
    front_end:                           # feature extraction, once per frame; cost by arch name, or default
      name: log-mel filterbank
      features_per_frame: 40             # checked: window_frames x 40 = the network's input size
      default: {cycles: 40000}           # on the chip at the chosen operating point, at its running power
      ndp100: {time: 200 us, power: 30 uW}
    inference: {every_frames: 2, window_frames: 16, deadline: 20 ms}
    events: {probability_per_window: 1e-4, seed: 1}   # bernoulli; or {process: poisson, rate: 0.01 Hz, seed: 1},
                                         # {process: daily, events_per_hour: [24 numbers] or hourly.csv},
                                         # {process: bursty, burst_rate, quiet_rate, mean_burst, mean_quiet},
                                         # or {trace: keywords.csv} (event times, s); see system/arrivals.py
    host: {name: app MCU, power: 10 mW, on_time: 1 s, sleep_power: 2 uW, wake_latency: 1 ms, wake_energy: 5 uJ}
    power: {between_work: auto}          # auto | idle | sleep
    dvfs: {policy: fixed, operating_point: run120}   # fixed | race_to_idle | just_in_time
    battery: {cell: CR2032, temperature_c: 0}        # a cell of system/cells.yaml, or "225mAh@3V" (ideal)
    harvest: {profile: [0 W, ..., 200 uW, ...]}      # harvested power per hour from midnight, 24 values
    fleet: {seed: 7, event_rate_scale: {dist: lognormal, median: 1, sigma: 0.5}}  # for --fleet N (fleet_spec.py)
"""

from __future__ import annotations

import csv
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinysim.catalog import Shipped, is_name, resolve
from tinysim.errors import SpecError, TinysimError
from tinysim.schema.collect import ErrorCollector
from tinysim.schema.fields import (
    Bound,
    Where,
    block,
    expect_mapping,
    get_enum,
    get_quantity,
    get_str,
)
from tinysim.schema.files import is_regular_file
from tinysim.schema.jsonschema import Block, Choice, Number, Quantity, Text, document
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.system.arrivals import EVENTS, Arrivals, parse_process
from tinysim.system.battery import BATTERY, HARVEST, Battery, parse_supply
from tinysim.system.fleet_spec import FLEET, FleetSpec, parse_fleet
from tinysim.system.signal_chain import (
    FRONT_END,
    INFERENCE,
    SENSOR,
    FrontEnd,
    Inference,
    Sensor,
    parse_front_end,
    parse_inference,
    parse_sensor,
)
from tinysim.units import Dimension
from tinysim.units.quantity import describe_value

__all__ = [
    "SCHEMA_VERSION",
    "Arrivals",
    "BetweenWork",
    "Dvfs",
    "DvfsPolicy",
    "Host",
    "Scenario",
    "load_scenario",
    "parse_scenario",
]

SCHEMA_VERSION = 1
_NONNEG_TIME, _NONNEG_POWER = Quantity(Dimension.TIME, Bound.NONNEGATIVE), Quantity(Dimension.POWER, Bound.NONNEGATIVE)
_HOST = Block(
    {
        "name": Text(),
        "power": _NONNEG_POWER,
        "on_time": _NONNEG_TIME,
        "sleep_power": _NONNEG_POWER,
        "wake_latency": _NONNEG_TIME,
        "wake_energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    },
    required=("power", "on_time"),
)
_EVENTS = EVENTS
_POWER = Block({"between_work": Choice(lambda: tuple(b.value for b in BetweenWork))})
_DVFS = Block({"policy": Choice(lambda: tuple(p.value for p in DvfsPolicy)), "operating_point": Text()})
_SCENARIO = Block(
    {
        "version": Number(minimum=SCHEMA_VERSION, maximum=SCHEMA_VERSION, integer=True),
        "name": Text(),
        "description": Text(),
        "arch": Text(),
        "workload": Text(),
        "duration": Quantity(Dimension.TIME, Bound.POSITIVE),
        "sensor": SENSOR,
        "front_end": FRONT_END,
        "inference": INFERENCE,
        "events": _EVENTS,
        "host": _HOST,
        "power": _POWER,
        "dvfs": _DVFS,
        "battery": BATTERY,
        "harvest": HARVEST,
        "fleet": FLEET,
    },
    required=("name", "workload", "sensor", "inference"),
)
_TOP, _TOP_REQUIRED = _SCENARIO.keys, _SCENARIO.required


class BetweenWork(enum.Enum):
    """Which low-power state the chip enters when it has nothing to do until the next frame."""

    AUTO = "auto"  # the state that costs least over the coming gap, wake-up energy included
    IDLE = "idle"
    SLEEP = "sleep"


class DvfsPolicy(enum.Enum):
    FIXED = "fixed"  # the named operating point (default: the arch's first)
    RACE_TO_IDLE = "race_to_idle"  # the fastest point, then sleep
    JUST_IN_TIME = "just_in_time"  # the slowest point that still meets the inference deadline


@dataclass(frozen=True)
class Host:
    """What a detection does: wake the host for `on_time_s` at `power_w` (a detection while on extends it)."""

    name: str = "host"
    power_w: float = 0.0
    on_time_s: float = 0.0
    sleep_power_w: float = 0.0
    wake_latency_s: float = 0.0
    wake_energy_j: float = 0.0


@dataclass(frozen=True)
class Dvfs:
    policy: DvfsPolicy = DvfsPolicy.FIXED
    operating_point: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    arch_path: str | None
    workload_path: str
    duration_s: float
    sensor: Sensor
    front_end: FrontEnd
    inference: Inference
    events: Arrivals
    host: Host
    between_work: BetweenWork
    dvfs: Dvfs
    path: str | None = None
    battery: Battery | None = None  # `battery:` / `harvest:` blocks; None: the CLI's --battery or its default
    fleet: FleetSpec | None = None  # `fleet:` block: distributions for `always-on --fleet N`

    @property
    def period_s(self) -> float:
        """Time between inferences."""
        return self.inference.every_frames * self.sensor.frame_hop_s


def load_scenario(path: str | Path, *, errors: ErrorCollector | None = None) -> Scenario:
    """Read and validate the scenario YAML at `path`; relative paths inside resolve against its folder.
    A collecting `errors` reads every section and raises all their errors together. A bare name is a
    shipped scenario (tinysim.catalog)."""
    path = resolve(path, Shipped.SCENARIOS)
    return parse_scenario(load_yaml(path), file=str(path), errors=errors)


def parse_scenario(data: Any, *, file: str | None = None, errors: ErrorCollector | None = None) -> Scenario:
    errors = errors or ErrorCollector()
    where = Where(file=file, line=line_of(data), notes={})
    if data is None:
        raise Where(file=file, line=1).fail("empty file: expected a scenario starting with `version: 1`")
    top = expect_mapping(data, where, "a mapping of scenario fields (version: 1, name: ..., ...)")
    if "version" not in top:
        raise where.fail(f'missing required key "version" (write `version: {SCHEMA_VERSION}` at the top)')
    if isinstance(top["version"], bool) or top["version"] != SCHEMA_VERSION:
        raise where.key(top, "version").fail(f"expected version {SCHEMA_VERSION}, got {describe_value(top['version'])}")
    top = block(top, where, allowed=_TOP, required=_TOP_REQUIRED, errors=errors)
    base = Path(file).parent if file else Path(".")
    # each section is one part (collecting: a bad one does not stop the others); inference needs the sensor
    sensor = errors.value(parse_sensor, top, where) if "sensor" in top else None
    inference = errors.value(parse_inference, top, where, sensor) if sensor and "inference" in top else None
    scenario = Scenario(
        name=errors.value(get_str, top, "name", where),
        description=errors.value(get_str, top, "description", where, ""),
        arch_path=errors.value(_path, top, "arch", where, base) if "arch" in top else None,
        workload_path=errors.value(_path, top, "workload", where, base) if "workload" in top else "",
        duration_s=errors.value(
            get_quantity, top, "duration", where, Dimension.TIME, bound=Bound.POSITIVE, default=60.0
        ),
        sensor=sensor,  # type: ignore[arg-type]  # None only with an error collected: check() raises below
        front_end=errors.value(parse_front_end, top, where),
        inference=inference,  # type: ignore[arg-type]
        events=errors.value(_events, top, where, base),
        host=errors.value(_host, top, where),
        between_work=errors.value(_between_work, top, where),
        dvfs=errors.value(_dvfs, top, where),
        path=file,
        battery=errors.value(parse_supply, top, where),
        fleet=errors.value(parse_fleet, top, where),
    )
    errors.check()
    return scenario


def _path(top: Mapping[str, Any], key: str, where: Where, base: Path) -> str:
    """A path relative to the scenario's folder; a bare `arch:` / `workload:` name that is no file there is the
    shipped file of that name (tinysim.catalog)."""
    text = get_str(top, key, where)
    path = Path(text)
    path = path if path.is_absolute() else base / path
    kind = {"arch": Shipped.ARCHS, "workload": Shipped.WORKLOADS}.get(key)
    if (
        kind is not None
        and not is_regular_file(path)
        and is_name(text)
        and is_regular_file(kind.folder / f"{text}.yaml")
    ):
        return str(kind.folder / f"{text}.yaml")
    return str(path)


def _events(top: Mapping[str, Any], where: Where, base: Path) -> Arrivals:
    if "events" not in top:
        return Arrivals()
    at = where.key(top, "events")
    m = block(top["events"], at, allowed=_EVENTS.keys)
    if "trace" in m:
        other = next((k for k in m if k in _EVENTS.fields and k not in ("trace", "seed")), None)
        if other is not None:
            raise at.key(m, "trace").fail(f"give `{other}` or `trace`, not both")
        path = _path(m, "trace", at, base)
        return Arrivals(trace_times_s=read_trace(path, at.key(m, "trace")), trace_path=path)
    return parse_process(m, at, base)


def read_trace(path: str, where: Where) -> tuple[float, ...]:
    """Event times from a CSV: the first column, in seconds (a bare number) or with a unit ("1.5 s");
    an optional header line; blank lines and lines starting with # are skipped."""
    from tinysim.units import parse_quantity

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as err:
        raise where.fail(f"cannot read the event trace {path}: {err.strerror}") from err
    times: list[float] = []
    for number, row in enumerate(rows, start=1):
        if not row or not row[0].strip() or row[0].lstrip().startswith("#"):
            continue
        try:
            value = parse_quantity(row[0].strip(), Dimension.TIME, field="time", file=path, line=number)
        except TinysimError as err:
            if number == 1 and not times:
                continue  # a header line
            raise SpecError(f"expected an event time, got {row[0]!r}", file=path, line=number, field="time") from err
        if value < 0:
            raise SpecError(f"expected a non-negative event time, got {row[0]!r}", file=path, line=number, field="time")
        times.append(value)
    return tuple(sorted(times))


def _host(top: Mapping[str, Any], where: Where) -> Host:
    if "host" not in top:
        return Host()
    at = where.key(top, "host")
    m = block(top["host"], at, allowed=_HOST.keys, required=_HOST.required)
    return Host(
        name=get_str(m, "name", at, default="host"),
        power_w=get_quantity(m, "power", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
        on_time_s=get_quantity(m, "on_time", at, Dimension.TIME, bound=Bound.NONNEGATIVE),
        sleep_power_w=get_quantity(m, "sleep_power", at, Dimension.POWER, bound=Bound.NONNEGATIVE, default=0.0),
        wake_latency_s=get_quantity(m, "wake_latency", at, Dimension.TIME, bound=Bound.NONNEGATIVE, default=0.0),
        wake_energy_j=get_quantity(m, "wake_energy", at, Dimension.ENERGY, bound=Bound.NONNEGATIVE, default=0.0),
    )


def _between_work(top: Mapping[str, Any], where: Where) -> BetweenWork:
    if "power" not in top:
        return BetweenWork.AUTO
    at = where.key(top, "power")
    m = block(top["power"], at, allowed=_POWER.keys)
    return get_enum(m, "between_work", at, BetweenWork) if "between_work" in m else BetweenWork.AUTO


def _dvfs(top: Mapping[str, Any], where: Where) -> Dvfs:
    if "dvfs" not in top:
        return Dvfs()
    at = where.key(top, "dvfs")
    m = block(top["dvfs"], at, allowed=_DVFS.keys)
    policy = get_enum(m, "policy", at, DvfsPolicy) if "policy" in m else DvfsPolicy.FIXED
    point = get_str(m, "operating_point", at, default=None)
    if point is not None and policy is not DvfsPolicy.FIXED:
        raise at.key(m, "operating_point").fail(
            f"an operating point is chosen by the {policy.value} policy; give one only with `policy: fixed`"
        )
    return Dvfs(policy=policy, operating_point=point)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario YAML, from the blocks this module reads."""
    root = Block(_SCENARIO.fields, required=("version", *_SCENARIO.required))
    return document("scenario", root, description=__doc__.splitlines()[0])
