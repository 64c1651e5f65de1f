"""A scenario's `fleet:` block: the distributions a fleet's devices draw their parameters from, and the draw.

    fleet:
      seed: 7
      event_rate_scale: {dist: lognormal, median: 1, sigma: 0.5}   # x the `events:` rate(s)
      capacity_scale: {dist: normal, mean: 1, sd: 0.05}           # x the battery's rated capacity
      temperature_c: {dist: uniform, low: -10, high: 40}           # the cell's temperature (named cells)

Distributions: normal {mean, sd}, lognormal {median, sigma}, uniform {low, high}, choice {values: [...]}.
Device i draws from `default_rng([seed, i])`: its parameters do not depend on the fleet's size or on
which worker evaluates it. Scales below zero are clipped to zero.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinysim.schema.fields import Bound, Where, block, expect_list, get_enum, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Choice, Integer, ListOf, Number
from tinysim.units import Dimension

__all__ = ["FLEET", "Device", "Dist", "Distribution", "FleetSpec", "draw_device", "parse_fleet"]


class Dist(enum.Enum):
    NORMAL = "normal"
    LOGNORMAL = "lognormal"
    UNIFORM = "uniform"
    CHOICE = "choice"


_PARAMS = {  # the keys each distribution reads
    Dist.NORMAL: ("mean", "sd"),
    Dist.LOGNORMAL: ("median", "sigma"),
    Dist.UNIFORM: ("low", "high"),
    Dist.CHOICE: ("values",),
}
_DIST = Block(
    {
        "dist": Choice(lambda: tuple(d.value for d in Dist)),
        **{key: Number() for key in ("mean", "sd", "median", "sigma", "low", "high")},
        "values": ListOf(Number(), 1),
    },
    required=("dist",),
)
_DRAWN = ("event_rate_scale", "capacity_scale", "temperature_c")  # in draw order (never reorder: seeds)
FLEET = Block({"seed": Integer(bound=Bound.NONNEGATIVE), **dict.fromkeys(_DRAWN, _DIST)})


@dataclass(frozen=True)
class Distribution:
    dist: Dist
    params: tuple[float, ...]  # in _PARAMS order; for `choice`, the values

    def draw(self, rng: np.random.Generator) -> float:
        p = self.params
        if self.dist is Dist.NORMAL:
            return float(rng.normal(p[0], p[1]))
        if self.dist is Dist.LOGNORMAL:
            return float(p[0] * math.exp(p[1] * rng.standard_normal()))
        if self.dist is Dist.UNIFORM:
            return float(rng.uniform(p[0], p[1]))
        return float(p[int(rng.integers(len(p)))])


@dataclass(frozen=True)
class FleetSpec:
    seed: int = 0
    event_rate_scale: Distribution | None = None  # None: every device at the scenario's rate
    capacity_scale: Distribution | None = None
    temperature_c: Distribution | None = None


@dataclass(frozen=True)
class Device:
    index: int
    event_rate_scale: float
    capacity_scale: float
    temperature_c: float | None  # None: the battery's own
    event_seed: int


def parse_fleet(top: Mapping[str, Any], where: Where) -> FleetSpec | None:
    if "fleet" not in top:
        return None
    at = where.key(top, "fleet")
    m = block(top["fleet"], at, allowed=FLEET.keys)
    drawn = {key: _distribution(m, key, at) for key in _DRAWN if key in m}
    return FleetSpec(seed=get_int(m, "seed", at, bound=Bound.NONNEGATIVE, default=0), **drawn)


def _distribution(m: Mapping[str, Any], key: str, at: Where) -> Distribution:
    here = at.key(m, key)
    d = block(m[key], here, allowed=_DIST.keys, required=_DIST.required)
    dist = get_enum(d, "dist", here, Dist)
    for name in d:
        if name not in ("dist", "source", "assumed") and name not in _PARAMS[dist]:
            raise here.key(d, name).fail(f"`{name}` is not read by {dist.value}; it reads " + ", ".join(_PARAMS[dist]))
    if dist is Dist.CHOICE:
        rows = expect_list(d.get("values"), here.key(d, "values") if "values" in d else here, "a list of numbers")
        values = tuple(
            get_quantity({"v": v}, "v", here.item(rows, i), Dimension.DIMENSIONLESS) for i, v in enumerate(rows)
        )
        if not values:
            raise here.fail("expected at least one value to choose from")
        return Distribution(dist, values)
    params = tuple(get_quantity(d, name, here, Dimension.DIMENSIONLESS) for name in _PARAMS[dist])
    if dist is not Dist.UNIFORM and params[1] < 0:
        raise here.key(d, _PARAMS[dist][1]).fail(f"expected a non-negative spread, got {params[1]:g}")
    if dist is Dist.UNIFORM and params[1] < params[0]:
        raise here.key(d, "high").fail(f"expected high >= low ({params[0]:g}), got {params[1]:g}")
    return Distribution(dist, params)


def draw_device(spec: FleetSpec, index: int) -> Device:
    """Device `index`'s parameters, from its own stream (independent of the fleet's size and of the executor)."""
    rng = np.random.default_rng([spec.seed, index])
    values = [d.draw(rng) if d is not None else None for d in (spec.event_rate_scale, spec.capacity_scale)]
    temperature = spec.temperature_c.draw(rng) if spec.temperature_c is not None else None
    return Device(
        index=index,
        event_rate_scale=max(values[0], 0.0) if values[0] is not None else 1.0,
        capacity_scale=max(values[1], 0.0) if values[1] is not None else 1.0,
        temperature_c=temperature,
        event_seed=int(rng.integers(2**63)),
    )
