"""Parse quantities such as "120 MHz", "3.2 pJ" or "640 KiB" into SI floats, and format them back.

In YAML a bare number (`frequency: 120000000`) is read in the SI base unit of its
dimension: Hz, V, J, W, s, bytes, bytes/s, A, coulombs; "%" divides by 100. Strings
carry their unit with or without a space ("120MHz"); the exponent form "1e-12 J" works.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from tinysim.errors import UnitError
from tinysim.units.dimension import AMBIGUOUS_UNITS, Dimension, dimension_of_unit

__all__ = ["describe_value", "format_quantity", "format_si", "parse_quantity"]

_NUMBER_UNIT = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([^\d\s.+-].*)?$")


def describe_value(value: Any) -> str:
    """How a bad input is shown in a message: strings quoted, others by kind."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        text = json.dumps(value.strip(), ensure_ascii=False)  # quoted, newlines escaped: messages stay one line
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if abs(value) < 10**30 else "a number too large to use"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def parse_quantity(
    value: Any, dim: Dimension, *, field: str, file: str | None = None, line: int | None = None
) -> float:
    """`value` (a number in SI base units, or a string with a unit) as a float in SI base units.

    Raises UnitError naming `field` (and `file:line` when given) for anything else: a
    wrong dimension, an unknown unit, a non-finite number, a boolean, null, a list...
    """

    def fail(detail: str = "") -> UnitError:
        message = f'expected {dim.noun} like "{dim.example}", got {describe_value(value)}'
        return UnitError(message + (f" ({detail})" if detail else ""), file=file, line=line, field=field)

    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise fail()
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value.strip())
        if not match:
            raise fail("not a number with a unit" if value.strip() else "")
        number, unit = float(match.group(1)), match.group(2) or ""
    else:
        number, unit = (float(value) if abs(value) < 1e308 else math.inf), ""
    if not math.isfinite(number):
        raise fail("not a finite number")
    factor = dim.units.get(unit)
    if factor is None:
        raise fail(_unit_problem(unit, dim))
    inverse = round(1 / factor)
    if factor < 1 and abs(inverse * factor - 1) < 1e-12:
        result = number / inverse  # 40 / 1e6 is exactly 4e-05; 40 * 1e-6 is not
    else:
        result = number * factor
    _check_physical(result, dim, fail)
    return result


# Magnitudes no TinyML part comes near, in SI base units: (smallest non-zero, largest, what the largest is).
# Beyond them a figure is a typo or a hostile input, and would overflow downstream (an energy of inf from a
# nominal voltage of 5e-324 V, a clock of 1e308 MHz, an array of 1e300 rows).
_PHYSICAL: dict[Dimension, tuple[float, float, str]] = {
    Dimension.FREQUENCY: (1e-9, 1e11, "100 GHz, beyond any clock"),
    Dimension.VOLTAGE: (1e-6, 1e3, "1 kV"),
    Dimension.ENERGY: (1e-24, 1e9, "1 GJ"),
    Dimension.POWER: (1e-18, 1e6, "1 MW"),
    Dimension.TIME: (1e-15, 1e10, "1e10 s (three centuries)"),
    Dimension.SIZE: (1e-3, 2.0**50, "1 PiB"),
    Dimension.BANDWIDTH: (1e-3, 1e15, "1 PB/s"),
    Dimension.CURRENT: (1e-18, 1e3, "1 kA"),
    Dimension.CHARGE: (1e-18, 1e9, "1e9 C"),
    Dimension.DIMENSIONLESS: (0.0, 1e15, "1e15"),
    Dimension.CYCLES: (0.0, 1e15, "1e15 cycles"),
    Dimension.AREA: (1e-24, 1.0, "1 m²"),
    Dimension.LENGTH: (1e-12, 1.0, "1 m"),
}


def physical_range(dim: Dimension) -> tuple[float, float]:
    """(smallest non-zero, largest) magnitude `parse_quantity` accepts for `dim`, in SI base units."""
    low, high, _ = _PHYSICAL.get(dim, (0.0, math.inf, ""))
    return low, high


def _check_physical(value: float, dim: Dimension, fail: Any) -> None:
    low, high, largest = _PHYSICAL.get(dim, (0.0, math.inf, ""))
    if abs(value) > high:
        raise fail(f"beyond any TinyML hardware: expected at most {largest}")
    if value != 0 and abs(value) < low:
        raise fail(f"too small to be physical: expected 0 or at least {low:g} in SI units")


def _unit_problem(unit: str, dim: Dimension) -> str:
    """Why `unit` is not accepted for `dim`: another dimension, ambiguous, or a likely typo."""
    other = dimension_of_unit(unit)
    if other is not None:
        return other.noun
    if unit in AMBIGUOUS_UNITS:
        return f'"{unit}" is ambiguous: {AMBIGUOUS_UNITS[unit]}'
    known = [u for u in dim.units if u and "μ" not in u]  # Greek mu is accepted, not advertised
    same_letters = [u for u in known if u.lower() == unit.lower()]
    close = same_letters or difflib.get_close_matches(unit, known, n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'unknown unit "{unit}"; {hint}units for {dim.noun}: {", ".join(known) or "none"}'


# SI prefixes used when formatting, from large to small.
_PREFIXES = (
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("", 1.0),
    ("m", 1e-3),
    ("µ", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
)
_BINARY = (("GiB", 2.0**30), ("MiB", 2.0**20), ("KiB", 2.0**10), ("B", 1.0))
_CLOCK = (("d", 86400.0), ("h", 3600.0), ("min", 60.0))
# Prefix range per dimension when formatting (largest, smallest), and the unit used.
_FORMAT_SI = {
    Dimension.FREQUENCY: ("Hz", "G", ""),
    Dimension.VOLTAGE: ("V", "", "µ"),
    Dimension.ENERGY: ("J", "", "f"),
    Dimension.POWER: ("W", "", "p"),
    Dimension.TIME: ("s", "", "p"),
    Dimension.BANDWIDTH: ("B/s", "G", ""),
    Dimension.CURRENT: ("A", "", "p"),
    Dimension.LENGTH: ("m", "", "n"),
}
_CHARGE = (("Ah", 3600.0), ("mAh", 3.6), ("µAh", 3.6e-3))
_CYCLES = (("Gcycles", 1e9), ("Mcycles", 1e6), ("cycles", 1.0))


def _round_sig(value: float, digits: int) -> float:
    return float(f"{value:.{max(digits, 1)}g}")


def _number(value: float, digits: int) -> str:
    """`value` with `digits` significant digits, no exponent, no trailing zeros."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}" if value else "0"
    if abs(value) < 1e-3:  # below the smallest prefix: keep it readable with an exponent
        return f"{value:.{max(digits, 1)}g}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _scaled(value: float, scales: tuple[tuple[str, float], ...], digits: int) -> str:
    """Format with the largest unit of `scales` (big → small) that keeps the number ≥ 1."""
    value = _round_sig(value, digits)
    unit, factor = scales[-1]
    for candidate, candidate_factor in scales:
        if abs(value) >= candidate_factor * (1 - 1e-12):
            unit, factor = candidate, candidate_factor
            break
    return f"{_number(_round_sig(value / factor, digits), digits)} {unit}"


def format_si(value: float, unit: str, digits: int = 4, *, largest: str = "G", smallest: str = "f") -> str:
    """`value` in `unit` with an SI prefix: format_si(3.2e-12, "J") == "3.2 pJ"; µ is written "µ"."""
    names = [p for p, _ in _PREFIXES]
    chosen = _PREFIXES[names.index(largest) : names.index(smallest) + 1]
    if not math.isfinite(value):
        return f"{value} {unit}"
    if value == 0:
        return f"0 {unit}"
    return _scaled(value, tuple((prefix + unit, factor) for prefix, factor in chosen), digits)


def format_quantity(value_si: float, dim: Dimension, digits: int = 4) -> str:
    """A readable string for `value_si` (SI base units) that `parse_quantity` reads back.

    0.1819 s → "181.9 ms", 7.3737e-3 J → "7.374 mJ"; sizes use binary prefixes ("52.7 KiB"),
    charges mAh, times past a minute min/h/d, cycles Mcycles/Gcycles; "%"-free plain numbers.
    """
    value = float(value_si)
    if not math.isfinite(value) or value == 0:
        return f"{value:g} {dim.base_unit}".rstrip() if value else f"0 {dim.base_unit}".rstrip()
    if dim in _FORMAT_SI:
        unit, largest, smallest = _FORMAT_SI[dim]
        if dim is Dimension.TIME and abs(_round_sig(value, digits)) >= 60:
            return _scaled(value, _CLOCK, digits)
        return format_si(value, unit, digits, largest=largest, smallest=smallest)
    if dim is Dimension.SIZE:
        return _scaled(value, _BINARY, digits)
    if dim is Dimension.CHARGE:
        return _scaled(value, _CHARGE, digits)
    if dim is Dimension.CYCLES:
        return _scaled(value, _CYCLES, digits)
    if dim is Dimension.AREA:  # dies and blocks in mm² (down to 0.001 mm²), cells and gates in µm²
        unit, factor = ("mm²", 1e-6) if abs(value) >= 1e-9 else ("µm²", 1e-12)
        return f"{_number(_round_sig(value / factor, digits), digits)} {unit}"
    return _number(_round_sig(value, digits), digits)
