"""The physical dimensions tinysim reads from YAML, and the units accepted for each.

Units are case-sensitive and limited to the prefixes that make sense on a TinyML
datasheet: "mW" is milliwatt and "MW" is rejected (nobody means megawatt), "MHz" is
megahertz and "mHz" is rejected. Both "u" and "µ" (micro sign or Greek mu) mean micro.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

_MICRO = ("u", "µ", "μ")  # ASCII, U+00B5 micro sign, U+03BC Greek mu


def _prefixed(symbol: str, prefixes: str) -> dict[str, float]:
    """Units `<prefix><symbol>` for the given SI prefix letters ("" = none, "u" = micro)."""
    scale = {"": 1.0, "G": 1e9, "M": 1e6, "k": 1e3, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}
    units: dict[str, float] = {}
    for prefix in [""] + list(prefixes):
        for spelling in _MICRO if prefix == "u" else (prefix,):
            units[spelling + symbol] = scale[prefix]
    return units


def _sizes(per: str = "") -> dict[str, float]:
    """Byte and bit units (8 bit = 1 B), optionally per second; "kB"/"KB" are both 1000."""
    units: dict[str, float] = {}
    for prefix, decimal, binary in (("", 1.0, 1.0), ("k", 1e3, 2.0**10), ("M", 1e6, 2.0**20), ("G", 1e9, 2.0**30)):
        for spelling in ("k", "K") if prefix == "k" else (prefix,):
            units[f"{spelling}B{per}"] = decimal
            units[f"{spelling}bit{per}"] = decimal / 8
            if not per:
                units[f"{spelling}bits"] = decimal / 8
        if prefix:
            binary_prefix = "Ki" if prefix == "k" else prefix + "i"
            units[f"{binary_prefix}B{per}"] = binary
            units[f"{binary_prefix}bit{per}"] = binary / 8
            if not per:
                units[f"{binary_prefix}bits"] = binary / 8
    if not per:
        units.update(byte=1.0, bytes=1.0)
    return units


def _areas() -> dict[str, float]:
    """Square metres with the prefixes of a die and a bit cell: "mm2", "mm²", "mm^2", "um2", "µm²"..."""
    units: dict[str, float] = {}
    for length, factor in _prefixed("m", "mun").items():
        for square in ("2", "²", "^2"):
            units[length + square] = factor**2
    return units


class Dimension(enum.Enum):
    """A physical dimension; `.value` is its name in messages ("a frequency")."""

    FREQUENCY = "frequency"
    VOLTAGE = "voltage"
    ENERGY = "energy"
    POWER = "power"
    TIME = "time"
    SIZE = "size"
    BANDWIDTH = "bandwidth"
    CURRENT = "current"
    CHARGE = "charge"
    DIMENSIONLESS = "number"
    CYCLES = "cycle count"
    AREA = "area"
    LENGTH = "length"

    @property
    def units(self) -> Mapping[str, float]:
        """Accepted unit spellings → factor to the SI base unit ("" = a bare number)."""
        return _UNITS[self]

    @property
    def base_unit(self) -> str:
        """The unit a bare number is read in (bytes for SIZE, "" when dimensionless)."""
        return _BASE_UNIT[self]

    @property
    def example(self) -> str:
        return _EXAMPLE[self]

    @property
    def noun(self) -> str:
        """With its article: "a frequency", "an energy"."""
        return ("an " if self.value[0] in "aeiou" else "a ") + self.value


_UNITS: dict[Dimension, Mapping[str, float]] = {
    dim: MappingProxyType({"": 1.0, **units})
    for dim, units in {
        Dimension.FREQUENCY: _prefixed("Hz", "kMG"),
        Dimension.VOLTAGE: _prefixed("V", "mu"),
        Dimension.ENERGY: {**_prefixed("J", "kmunpf"), "Wh": 3600.0, "mWh": 3.6, "uWh": 3.6e-3, "µWh": 3.6e-3},
        Dimension.POWER: _prefixed("W", "munp"),
        Dimension.TIME: {**_prefixed("s", "munp"), "min": 60.0, "h": 3600.0, "d": 86400.0},
        Dimension.SIZE: _sizes(),
        Dimension.BANDWIDTH: _sizes("/s"),
        Dimension.CURRENT: _prefixed("A", "munp"),
        Dimension.CHARGE: {**_prefixed("C", "mu"), "Ah": 3600.0, "mAh": 3.6, "uAh": 3.6e-3, "µAh": 3.6e-3},
        Dimension.DIMENSIONLESS: {"%": 0.01},
        Dimension.CYCLES: {"cycle": 1.0, "cycles": 1.0, "kcycles": 1e3, "Mcycles": 1e6, "Gcycles": 1e9},
        Dimension.AREA: _areas(),
        Dimension.LENGTH: _prefixed("m", "mun"),
    }.items()
}

_BASE_UNIT = {
    Dimension.FREQUENCY: "Hz",
    Dimension.VOLTAGE: "V",
    Dimension.ENERGY: "J",
    Dimension.POWER: "W",
    Dimension.TIME: "s",
    Dimension.SIZE: "B",
    Dimension.BANDWIDTH: "B/s",
    Dimension.CURRENT: "A",
    Dimension.CHARGE: "C",
    Dimension.DIMENSIONLESS: "",
    Dimension.CYCLES: "cycles",
    Dimension.AREA: "m²",
    Dimension.LENGTH: "m",
}

_EXAMPLE = {
    Dimension.FREQUENCY: "120 MHz",
    Dimension.VOLTAGE: "1.8 V",
    Dimension.ENERGY: "3.2 pJ",
    Dimension.POWER: "40 uW",
    Dimension.TIME: "2.5 ms",
    Dimension.SIZE: "640 KiB",
    Dimension.BANDWIDTH: "480 MB/s",
    Dimension.CURRENT: "1.5 mA",
    Dimension.CHARGE: "220 mAh",
    Dimension.DIMENSIONLESS: "0.5",
    Dimension.CYCLES: "2000 cycles",
    Dimension.AREA: "0.242 um2",
    Dimension.LENGTH: "120 um",
}

# Spellings that could mean two things: refuse and say what to write instead.
AMBIGUOUS_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "b": 'write "bit" or "B" (byte)',
        "kb": 'write "kbit" or "kB" (kilobyte)',
        "Kb": 'write "kbit", "Kibit" or "kB"',
        "Mb": 'write "Mbit" or "MB" (megabyte)',
        "Gb": 'write "Gbit" or "GB" (gigabyte)',
        "bps": 'write "bit/s" or "B/s"',
    }
)


def dimension_of_unit(unit: str) -> Dimension | None:
    """The dimension a (non-empty) unit spelling belongs to, if any."""
    for dim in Dimension:
        if unit and unit in _UNITS[dim]:
            return dim
    return None
