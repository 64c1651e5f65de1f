"""A battery as capacity × voltage, parsed from "225mAh@3V", and how long it lasts at an average power."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tinysim.errors import TinysimError
from tinysim.units import Dimension, format_quantity, parse_quantity

__all__ = ["Battery", "parse_battery"]


@dataclass(frozen=True)
class Battery:
    capacity_c: float  # charge, coulombs (1 mAh = 3.6 C)
    voltage_v: float

    @property
    def energy_j(self) -> float:
        return self.capacity_c * self.voltage_v

    def life_s(self, average_power_w: float) -> float:
        """Seconds until empty at `average_power_w` (no self-discharge or cut-off derating)."""
        return self.energy_j / average_power_w if average_power_w > 0 else math.inf

    def __str__(self) -> str:
        return f"{format_quantity(self.capacity_c, Dimension.CHARGE)} at {format_quantity(self.voltage_v, Dimension.VOLTAGE)}"


def parse_battery(text: str, *, field: str = "--battery", file: str | None = None, line: int | None = None) -> Battery:
    """'225mAh@3V' / '225 mAh @ 3 V' (CR2032) / '1000mAh@3.7V' → Battery."""
    if not isinstance(text, str) or text.count("@") != 1:
        raise TinysimError(
            f'expected a battery like "225mAh@3V" (capacity@voltage), got {text!r}', file=file, line=line, field=field
        )
    capacity, voltage = (part.strip() for part in text.split("@"))
    charge = parse_quantity(capacity, Dimension.CHARGE, field=field, file=file, line=line)
    volts = parse_quantity(voltage, Dimension.VOLTAGE, field=field, file=file, line=line)
    if charge <= 0 or volts <= 0:
        raise TinysimError(f"expected a positive capacity and voltage, got {text!r}", file=file, line=line, field=field)
    return Battery(capacity_c=charge, voltage_v=volts)
