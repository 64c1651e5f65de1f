"""A scenario's signal chain: the sensor that produces frames, the front end that turns each frame into
features (its cost per arch), and the inference that runs over a window of frames, with its deadline.

    sensor: {name: PDM microphone, sample_rate: 16 kHz, bytes_per_sample: 2, power: 1.55 mW,
             frame_hop: 10 ms, buffer_frames: 4}
    front_end: {name: log-mel filterbank, features_per_frame: 40, default: {cycles: 40000},
                ndp100: {time: 200 us, power: 30 uW}}
    inference: {every_frames: 2, window_frames: 16, deadline: 20 ms}

The dataclasses, the YAML blocks (for the JSON Schema) and their readers; `scenario` assembles them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from tinysim.schema.fields import Bound, Where, block, expect_mapping, get_int, get_quantity, get_str
from tinysim.schema.jsonschema import Block, Integer, Quantity, Text
from tinysim.schema.yamlio import line_of
from tinysim.units import Dimension
from tinysim.units.quantity import describe_value

__all__ = [
    "FRONT_END",
    "INFERENCE",
    "SENSOR",
    "FrontEnd",
    "FrontEndCost",
    "Inference",
    "Sensor",
    "parse_front_end",
    "parse_inference",
    "parse_sensor",
]

_NONNEG_TIME, _NONNEG_POWER = Quantity(Dimension.TIME, Bound.NONNEGATIVE), Quantity(Dimension.POWER, Bound.NONNEGATIVE)
SENSOR = Block(
    {
        "name": Text(),
        "sample_rate": Quantity(Dimension.FREQUENCY, Bound.POSITIVE),
        "bytes_per_sample": Integer(Dimension.SIZE, Bound.POSITIVE),
        "power": _NONNEG_POWER,
        "frame_hop": Quantity(Dimension.TIME, Bound.POSITIVE),
        "buffer_frames": Integer(bound=Bound.POSITIVE),
    },
    required=("sample_rate", "power", "frame_hop"),
)
_COST = Block(  # one frame of feature extraction on one arch: `time` or `cycles`, and `energy` or `power`
    {
        "time": _NONNEG_TIME,
        "cycles": Quantity(Dimension.CYCLES, Bound.NONNEGATIVE),
        "energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "power": _NONNEG_POWER,
    }
)
INFERENCE = Block(
    {
        "every_frames": Integer(bound=Bound.POSITIVE),
        "window_frames": Integer(bound=Bound.POSITIVE),
        "deadline": Quantity(Dimension.TIME, Bound.POSITIVE),
    }
)
FRONT_END = Block({"name": Text(), "features_per_frame": Integer(bound=Bound.POSITIVE)}, extra=_COST)


@dataclass(frozen=True)
class Sensor:
    name: str
    sample_rate_hz: float
    bytes_per_sample: int
    power_w: float  # sensor + ADC, drawn all the time
    frame_hop_s: float
    buffer_frames: int  # frames the sensor buffer holds; a frame arriving to a full buffer is dropped

    @property
    def frame_bytes(self) -> int:
        return round(self.sample_rate_hz * self.frame_hop_s) * self.bytes_per_sample


@dataclass(frozen=True)
class FrontEndCost:
    """Cost of one frame of feature extraction: a time (or cycles at the operating point's clock), and an
    energy (or a power over that time); neither energy nor power = the chip's running power. With cycles,
    energy and power are those at the arch's first operating point, scaled to the others (V², f·V²)."""

    time_s: float | None = None
    cycles: float | None = None
    energy_j: float | None = None
    power_w: float | None = None


@dataclass(frozen=True)
class FrontEnd:
    name: str
    costs: Mapping[str, FrontEndCost]  # by arch name; "default" for the others
    features_per_frame: int | None = None  # if given, window_frames x this must be the network's input size
    line: int | None = None  # of `features_per_frame`, for the mismatch error

    def cost_for(self, arch_name: str) -> FrontEndCost:
        return self.costs.get(arch_name) or self.costs.get("default") or FrontEndCost(time_s=0.0, energy_j=0.0)


@dataclass(frozen=True)
class Inference:
    every_frames: int
    window_frames: int
    deadline_s: float


def parse_sensor(top: Mapping[str, Any], where: Where) -> Sensor:
    at = where.key(top, "sensor")
    m = block(top["sensor"], at, allowed=SENSOR.keys, required=SENSOR.required)
    return Sensor(
        name=get_str(m, "name", at, default="sensor"),
        sample_rate_hz=get_quantity(m, "sample_rate", at, Dimension.FREQUENCY, bound=Bound.POSITIVE),
        bytes_per_sample=get_int(m, "bytes_per_sample", at, Dimension.SIZE, bound=Bound.POSITIVE, default=2),
        power_w=get_quantity(m, "power", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
        frame_hop_s=get_quantity(m, "frame_hop", at, Dimension.TIME, bound=Bound.POSITIVE),
        buffer_frames=get_int(m, "buffer_frames", at, bound=Bound.POSITIVE, default=4),
    )


def parse_front_end(top: Mapping[str, Any], where: Where) -> FrontEnd:
    if "front_end" not in top:
        return FrontEnd(name="none", costs=MappingProxyType({}))
    at = where.key(top, "front_end")
    m = expect_mapping(top["front_end"], at, "a mapping: name, then a cost per arch name or `default`")
    costs: dict[str, FrontEndCost] = {}
    for key, value in m.items():
        if key in ("name", "features_per_frame", "source", "assumed"):
            continue
        here = at.key(m, key)
        if not isinstance(key, str):
            raise here.fail(f"expected an arch name or `default`, got {describe_value(key)}")
        c = block(value, here, allowed=_COST.keys)
        if ("time" in c) == ("cycles" in c):
            raise here.fail("give exactly one of `time` or `cycles` per frame")
        if "energy" in c and "power" in c:
            raise here.key(c, "power").fail("give `energy` per frame or `power`, not both")
        costs[key] = FrontEndCost(
            time_s=get_quantity(c, "time", here, Dimension.TIME, bound=Bound.NONNEGATIVE, default=None),
            cycles=get_quantity(c, "cycles", here, Dimension.CYCLES, bound=Bound.NONNEGATIVE, default=None),
            energy_j=get_quantity(c, "energy", here, Dimension.ENERGY, bound=Bound.NONNEGATIVE, default=None),
            power_w=get_quantity(c, "power", here, Dimension.POWER, bound=Bound.NONNEGATIVE, default=None),
        )
    return FrontEnd(
        name=get_str(m, "name", at, default="front end"),
        costs=MappingProxyType(costs),
        features_per_frame=get_int(m, "features_per_frame", at, bound=Bound.POSITIVE, default=None),
        line=line_of(m, "features_per_frame"),
    )


def parse_inference(top: Mapping[str, Any], where: Where, sensor: Sensor) -> Inference:
    at = where.key(top, "inference")
    m = block(top["inference"], at, allowed=INFERENCE.keys)
    every = get_int(m, "every_frames", at, bound=Bound.POSITIVE, default=1)
    window = get_int(m, "window_frames", at, bound=Bound.POSITIVE, default=1)
    deadline = get_quantity(m, "deadline", at, Dimension.TIME, bound=Bound.POSITIVE, default=every * sensor.frame_hop_s)
    return Inference(every_frames=every, window_frames=window, deadline_s=deadline)
