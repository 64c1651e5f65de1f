"""A battery: an ideal reservoir ("225mAh@3V", capacity × voltage) or a named cell from cells.yaml whose usable
charge is derated by the load's peak current and the temperature and leaks by self-discharge; optionally
recharged by a daily harvesting profile (energy neutral or not, days of autonomy in the dark)."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from tinysim.errors import TinysimError
from tinysim.schema.fields import Bound, Where, block, expect_list, expect_mapping, get_quantity, get_str
from tinysim.schema.jsonschema import Block, ListOf, Number, OneOf, Quantity, Text
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension, format_quantity, parse_quantity

__all__ = ["BATTERY", "HARVEST", "Battery", "Cell", "HarvestBalance", "cells", "parse_battery", "parse_supply"]

CELLS_PATH = Path(__file__).with_name("cells.yaml")
YEAR_S = 365.25 * 86400.0
DAY_S = 86400.0
ROOM_TEMPERATURE_C = 21.0  # the rating temperature of the Energizer sheets in cells.yaml
DEFAULT = "225mAh@3V"  # the ideal reservoir used when no battery is named (a CR2032's usual rating)

BATTERY = Block({"cell": Text(), "temperature_c": Number(minimum=-60, maximum=100)}, required=("cell",))
HARVEST = Block(
    {"profile": OneOf((ListOf(Quantity(Dimension.POWER, Bound.NONNEGATIVE), 24, 24), Text()))},
    required=("profile",),
)


@dataclass(frozen=True)
class Cell:
    """One row of cells.yaml; derating tables are (x, fraction of capacity) points sorted by x."""

    name: str
    description: str
    capacity_c: float
    voltage_v: float
    cutoff_v: float
    self_discharge_per_year: float
    internal_resistance_ohm: float
    pulse_derating: tuple[tuple[float, float], ...]  # (peak current A, fraction)
    temperature_derating: tuple[tuple[float, float], ...]  # (temperature C, fraction)

    def derating(self, peak_current_a: float, temperature_c: float) -> float:
        """Fraction of the rated capacity delivered at this peak current and temperature (held flat past the
        tables' ends; current interpolated on a log scale, as the datasheets plot it)."""
        amps, pulse = zip(*self.pulse_derating, strict=True)
        temps, cold = zip(*self.temperature_derating, strict=True)
        current = max(peak_current_a, amps[0])
        return float(np.interp(math.log(current), np.log(amps), pulse) * np.interp(temperature_c, temps, cold))


@dataclass(frozen=True)
class HarvestBalance:
    harvested_j_per_day: float
    consumed_j_per_day: float
    largest_deficit_j: float  # the deepest the battery is drawn within a day (night) when harvest ≥ use overall
    energy_neutral: bool  # harvest covers the day's use and the battery bridges the night


@dataclass(frozen=True)
class Battery:
    capacity_c: float  # charge, coulombs (1 mAh = 3.6 C)
    voltage_v: float
    cell: Cell | None = None  # None: the ideal reservoir (no derating, no self-discharge)
    temperature_c: float = ROOM_TEMPERATURE_C
    harvest_w: tuple[float, ...] = ()  # harvested power per hour of the day, midnight first (24 values) or none

    @property
    def energy_j(self) -> float:
        return self.capacity_c * self.voltage_v

    def usable_charge_c(self, peak_power_w: float = 0.0) -> float:
        if self.cell is None:
            return self.capacity_c
        return self.capacity_c * self.cell.derating(peak_power_w / self.voltage_v, self.temperature_c)

    def life_s(self, average_power_w: float, peak_power_w: float | None = None) -> float:
        """Seconds until empty at `average_power_w` (with no harvest), loads drawn at `peak_power_w` (default:
        the average, a continuous load). Constant power at the nominal voltage: current = power / voltage."""
        peak = average_power_w if peak_power_w is None else max(peak_power_w, average_power_w)
        leak_a = self.cell.self_discharge_per_year * self.capacity_c / YEAR_S if self.cell else 0.0
        drain_a = average_power_w / self.voltage_v + leak_a
        return self.usable_charge_c(peak) / drain_a if drain_a > 0 else math.inf

    def pulse_voltage_v(self, peak_power_w: float) -> float:
        """The terminal voltage of a fresh cell during the peak (nominal minus the drop over its resistance)."""
        r = self.cell.internal_resistance_ohm if self.cell else 0.0
        return self.voltage_v - peak_power_w / self.voltage_v * r

    def harvest_balance(self, average_power_w: float, peak_power_w: float | None = None) -> HarvestBalance | None:
        """Energy neutral: a day's harvest covers a day's use and the usable energy bridges the worst stretch
        (the largest fall of the stored energy over two days, so a night across midnight counts whole)."""
        if not self.harvest_w:
            return None
        net_j = (np.asarray(self.harvest_w) - average_power_w) * 3600.0
        level = np.concatenate(([0.0], np.cumsum(np.tile(net_j, 2))))
        deficit = float(np.max(np.maximum.accumulate(level) - level))
        usable_j = self.usable_charge_c(average_power_w if peak_power_w is None else peak_power_w) * self.voltage_v
        harvested, consumed = float(sum(self.harvest_w) * 3600.0), average_power_w * DAY_S
        return HarvestBalance(harvested, consumed, deficit, harvested >= consumed and deficit <= usable_j)

    def __str__(self) -> str:
        ideal = f"{format_quantity(self.capacity_c, Dimension.CHARGE)} at {format_quantity(self.voltage_v, Dimension.VOLTAGE)}"
        if self.cell is None:
            return ideal
        return f"{self.cell.name}, {ideal}, {self.temperature_c:g} °C"


def parse_battery(text: str, *, field: str = "--battery", file: str | None = None, line: int | None = None) -> Battery:
    """A cell name from cells.yaml ('CR2032') or an ideal reservoir '225mAh@3V' / '1000 mAh @ 3.7 V' → Battery."""
    if isinstance(text, str) and text.strip() in cells():
        cell = cells()[text.strip()]
        return Battery(capacity_c=cell.capacity_c, voltage_v=cell.voltage_v, cell=cell)
    if not isinstance(text, str) or text.count("@") != 1:
        names = ", ".join(cells())
        raise TinysimError(
            f'expected a cell ({names}) or a battery like "225mAh@3V" (capacity@voltage), got {text!r}',
            file=file,
            line=line,
            field=field,
        )
    capacity, voltage = (part.strip() for part in text.split("@"))
    charge = parse_quantity(capacity, Dimension.CHARGE, field=field, file=file, line=line)
    volts = parse_quantity(voltage, Dimension.VOLTAGE, field=field, file=file, line=line)
    if charge <= 0 or volts <= 0:
        raise TinysimError(f"expected a positive capacity and voltage, got {text!r}", file=file, line=line, field=field)
    return Battery(capacity_c=charge, voltage_v=volts)


def parse_supply(top: Mapping[str, Any], where: Where) -> Battery | None:
    """A scenario's `battery: {cell, temperature_c}` and `harvest: {profile}` blocks → Battery (None if neither);
    a harvest without a battery charges the ideal default reservoir."""
    if "battery" not in top and "harvest" not in top:
        return None
    battery = parse_battery(DEFAULT)
    if "battery" in top:
        at = where.key(top, "battery")
        m = block(top["battery"], at, allowed=BATTERY.keys, required=BATTERY.required)
        battery = parse_battery(get_str(m, "cell", at), field=f"{at.path}.cell", file=at.file, line=line_of(m, "cell"))
        temperature = get_quantity(m, "temperature_c", at, Dimension.DIMENSIONLESS, default=ROOM_TEMPERATURE_C)
        if not -60.0 <= temperature <= 100.0:
            raise at.key(m, "temperature_c").fail(
                f"expected a cell temperature in °C within -60..100, got {temperature:g}"
            )
        battery = replace(battery, temperature_c=temperature)
    if "harvest" in top:
        at = where.key(top, "harvest")
        m = block(top["harvest"], at, allowed=HARVEST.keys, required=HARVEST.required)
        here = at.key(m, "profile")
        rows = expect_list(m["profile"], here, "24 powers, one per hour from midnight")
        if len(rows) != 24:
            raise here.fail(f"expected 24 powers (one per hour, midnight first), got {len(rows)}")
        powers = tuple(
            get_quantity({"p": v}, "p", here.item(rows, i), Dimension.POWER, bound=Bound.NONNEGATIVE)
            for i, v in enumerate(rows)
        )
        battery = replace(battery, harvest_w=powers)
    return battery


@functools.cache
def cells() -> Mapping[str, Cell]:
    """The shipped cell table (cells.yaml), read once."""
    path = str(CELLS_PATH)
    data = load_yaml(CELLS_PATH)
    where = Where(file=path, line=line_of(data), notes={})
    table = expect_mapping(
        block(data, where, allowed=("version", "cells"), required=("version", "cells"))["cells"],
        where.key(data, "cells"),
    )
    return MappingProxyType({str(name): _cell(str(name), table[name], where.key(table, name)) for name in table})


def _cell(name: str, value: Any, at: Where) -> Cell:
    keys = ("description", "capacity", "voltage", "cutoff", "self_discharge_per_year", "internal_resistance_ohm")
    m = block(
        value,
        at,
        allowed=(*keys, "pulse_derating", "temperature_derating"),
        required=keys[1:] + ("pulse_derating", "temperature_derating"),
    )

    def number(key: str, dim: Dimension) -> float:
        return get_quantity(m, key, at, dim, bound=Bound.NONNEGATIVE)

    return Cell(
        name=name,
        description=get_str(m, "description", at, default=name),
        capacity_c=number("capacity", Dimension.CHARGE),
        voltage_v=number("voltage", Dimension.VOLTAGE),
        cutoff_v=number("cutoff", Dimension.VOLTAGE),
        self_discharge_per_year=number("self_discharge_per_year", Dimension.DIMENSIONLESS),
        internal_resistance_ohm=number("internal_resistance_ohm", Dimension.DIMENSIONLESS),
        pulse_derating=_table(m, "pulse_derating", at, "current", Dimension.CURRENT),
        temperature_derating=_table(m, "temperature_derating", at, "temperature_c", Dimension.DIMENSIONLESS),
    )


def _table(m: Mapping[str, Any], key: str, at: Where, x: str, dim: Dimension) -> tuple[tuple[float, float], ...]:
    here = at.key(m, key)
    rows = expect_list(m[key], here, f"a list of {{{x}, fraction}} points")
    points = []
    for i, row in enumerate(rows):
        spot = here.item(rows, i)
        r = block(row, spot, allowed=(x, "fraction"), required=(x, "fraction"))
        points.append(
            (
                get_quantity(r, x, spot, dim),
                get_quantity(r, "fraction", spot, Dimension.DIMENSIONLESS, bound=Bound.POSITIVE),
            )
        )
    if not points or any(a[0] >= b[0] for a, b in itertools.pairwise(points)):
        raise here.fail(f"expected at least one point, in increasing {x}")
    return tuple(points)
