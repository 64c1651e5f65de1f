"""Tests for tinysim.units: parsing quantities into SI floats and formatting them back."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinysim.errors import UnitError
from tinysim.units import Dimension, format_quantity, format_si, parse_quantity

D = Dimension

PARSED = [
    ("120 MHz", D.FREQUENCY, 120e6),
    ("120MHz", D.FREQUENCY, 120e6),
    ("32.768 kHz", D.FREQUENCY, 32768.0),
    ("1 GHz", D.FREQUENCY, 1e9),
    ("48000000", D.FREQUENCY, 48e6),
    ("1.8 V", D.VOLTAGE, 1.8),
    ("900 mV", D.VOLTAGE, 0.9),
    ("3.2 pJ", D.ENERGY, 3.2e-12),
    ("1e-12 J", D.ENERGY, 1e-12),
    ("7.374 mJ", D.ENERGY, 7.374e-3),
    ("5 uJ", D.ENERGY, 5e-6),
    ("5 µJ", D.ENERGY, 5e-6),
    ("5 μJ", D.ENERGY, 5e-6),  # Greek mu
    ("50 nJ", D.ENERGY, 50e-9),
    ("0.8 fJ", D.ENERGY, 0.8e-15),
    ("1 mWh", D.ENERGY, 3.6),
    ("40 uW", D.POWER, 40e-6),
    ("20 mW", D.POWER, 20e-3),
    ("2.4 µW", D.POWER, 2.4e-6),
    ("15 nW", D.POWER, 15e-9),
    ("1 W", D.POWER, 1.0),
    ("2.5 ms", D.TIME, 2.5e-3),
    ("10 us", D.TIME, 10e-6),
    ("3 ns", D.TIME, 3e-9),
    ("2 min", D.TIME, 120.0),
    ("1 h", D.TIME, 3600.0),
    ("2 d", D.TIME, 172800.0),
    ("640 KiB", D.SIZE, 655360.0),
    ("2 MiB", D.SIZE, 2 * 2**20),
    ("1 GiB", D.SIZE, 2**30),
    ("256 kB", D.SIZE, 256e3),
    ("256 KB", D.SIZE, 256e3),
    ("1 MB", D.SIZE, 1e6),
    ("32 bit", D.SIZE, 4.0),
    ("128 bits", D.SIZE, 16.0),
    ("8 kbit", D.SIZE, 1000.0),
    ("8 Kibit", D.SIZE, 1024.0),
    ("1 Mbit", D.SIZE, 125e3),
    ("64", D.SIZE, 64.0),
    ("480 MB/s", D.BANDWIDTH, 480e6),
    ("1 GB/s", D.BANDWIDTH, 1e9),
    ("1 KiB/s", D.BANDWIDTH, 1024.0),
    ("8 Mbit/s", D.BANDWIDTH, 1e6),
    ("1.5 mA", D.CURRENT, 1.5e-3),
    ("200 nA", D.CURRENT, 200e-9),
    ("3 uA", D.CURRENT, 3e-6),
    ("220 mAh", D.CHARGE, 792.0),
    ("1 Ah", D.CHARGE, 3600.0),
    ("10 C", D.CHARGE, 10.0),
    ("0.5", D.DIMENSIONLESS, 0.5),
    ("50%", D.DIMENSIONLESS, 0.5),
    ("12.5 %", D.DIMENSIONLESS, 0.125),
    ("2000", D.CYCLES, 2000.0),
    ("2000 cycles", D.CYCLES, 2000.0),
    ("1 cycle", D.CYCLES, 1.0),
    ("1.5 Mcycles", D.CYCLES, 1.5e6),
    (3.2e-12, D.ENERGY, 3.2e-12),
    (120_000_000, D.FREQUENCY, 120e6),
    ("  -3 mW ", D.POWER, -3e-3),
    (".5 V", D.VOLTAGE, 0.5),
]


@pytest.mark.parametrize(("text", "dim", "expected"), PARSED)
def test_parse(text, dim, expected):
    assert parse_quantity(text, dim, field="f") == pytest.approx(expected, rel=1e-12)


def test_parse_is_exact_for_decimal_prefixes():
    assert parse_quantity("40 uW", D.POWER, field="f") == 40e-6
    assert parse_quantity("3.2 pJ", D.ENERGY, field="f") == 3.2e-12


FORMATTED = [
    (0.1819, D.TIME, "181.9 ms"),
    (7.3737e-3, D.ENERGY, "7.374 mJ"),
    (4.05e-2, D.POWER, "40.5 mW"),
    (52.7 * 1024, D.SIZE, "52.7 KiB"),
    (655360, D.SIZE, "640 KiB"),
    (100, D.SIZE, "100 B"),
    (2 * 2**20, D.SIZE, "2 MiB"),
    (40e-6, D.POWER, "40 µW"),
    (120e6, D.FREQUENCY, "120 MHz"),
    (1.8, D.VOLTAGE, "1.8 V"),
    (3.2e-12, D.ENERGY, "3.2 pJ"),
    (0.99996, D.TIME, "1 s"),  # rounding moves it up a prefix
    (90.0, D.TIME, "1.5 min"),
    (7200.0, D.TIME, "2 h"),
    (86400.0 * 400, D.TIME, "400 d"),
    (480e6, D.BANDWIDTH, "480 MB/s"),
    (1.5e-3, D.CURRENT, "1.5 mA"),
    (792.0, D.CHARGE, "220 mAh"),
    (12345678, D.CYCLES, "12.35 Mcycles"),
    (2000, D.CYCLES, "2000 cycles"),
    (0.25, D.DIMENSIONLESS, "0.25"),
    (0.0, D.ENERGY, "0 J"),
    (-3e-3, D.POWER, "-3 mW"),
]


@pytest.mark.parametrize(("value", "dim", "expected"), FORMATTED)
def test_format(value, dim, expected):
    assert format_quantity(value, dim) == expected


def test_format_digits_and_format_si():
    assert format_quantity(0.123456, D.TIME, digits=2) == "120 ms"
    assert format_quantity(0.123456, D.TIME, digits=6) == "123.456 ms"
    assert format_si(3.2e-12, "J") == "3.2 pJ"
    assert format_si(2.5e-6, "F") == "2.5 µF"
    assert format_si(0, "J") == "0 J"
    assert format_si(1234.6, "Hz", largest="") == "1235 Hz"


@pytest.mark.parametrize("dim", list(Dimension))
@given(mantissa=st.floats(1.0, 9.999), exponent=st.integers(-14, 11))
def test_round_trip(dim, mantissa, exponent):
    from hypothesis import assume

    from tinysim.units.quantity import physical_range

    value = mantissa * 10.0**exponent
    low, high = physical_range(dim)
    assume(low * 1.01 <= value <= high * 0.99)  # beyond the physical range a value is refused (test below)
    text = format_quantity(value, dim)
    assert parse_quantity(text, dim, field="f") == pytest.approx(value, rel=1e-3), text


@pytest.mark.parametrize(("text", "dim", "detail"), [
    ("1e308 MHz", D.FREQUENCY, "expected at most 100 GHz"),
    ("5e-324 V", D.VOLTAGE, "too small to be physical"),
    (1e300, D.DIMENSIONLESS, "expected at most 1e15"),
    ("1e12 s", D.TIME, "expected at most 1e10 s"),
    ("1e308 MiB", D.SIZE, "1 PiB"),
])
def test_values_beyond_any_hardware_are_refused_in_one_line(text, dim, detail):
    with pytest.raises(UnitError) as err:
        parse_quantity(text, dim, field="f", file="x.yaml", line=4)
    assert detail in str(err.value) and str(err.value).startswith("x.yaml:4: f:") and "\n" not in str(err.value)


WRONG_DIMENSION = [
    ("120 MHz", D.ENERGY, 'expected an energy like "3.2 pJ", got "120 MHz" (a frequency)'),
    ("3.2 pJ", D.FREQUENCY, 'expected a frequency like "120 MHz", got "3.2 pJ" (an energy)'),
    ("40 uW", D.ENERGY, "(a power)"),
    ("640 KiB", D.BANDWIDTH, "(a size)"),
    ("480 MB/s", D.SIZE, "(a bandwidth)"),
    ("2 ms", D.FREQUENCY, "(a time)"),
    ("1 mA", D.CHARGE, "(a current)"),
    ("1 mAh", D.CURRENT, "(a charge)"),
    ("1.8 V", D.POWER, "(a voltage)"),
    ("50%", D.SIZE, "(a number)"),
    ("10 cycles", D.TIME, "(a cycle count)"),
    ("3 V", D.DIMENSIONLESS, "(a voltage)"),
]


@pytest.mark.parametrize(("text", "dim", "fragment"), WRONG_DIMENSION)
def test_wrong_dimension_names_field(text, dim, fragment):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, dim, field="memories.sram.read_energy", file="a.yaml", line=7)
    message = str(info.value)
    assert message.startswith("a.yaml:7: memories.sram.read_energy: expected ")
    assert fragment in message
    assert info.value.field == "memories.sram.read_energy"


GARBAGE = [
    (True, "got true (a boolean)"),
    (False, "got false (a boolean)"),
    (None, "got nothing (null)"),
    ("", 'got ""'),
    ("   ", 'got ""'),
    ("fast", "not a number with a unit"),
    ("MHz", "not a number with a unit"),
    ("1.2.3 MHz", "not a number with a unit"),
    ("inf MHz", "not a number with a unit"),
    (float("nan"), "not a finite number"),
    (float("inf"), "not a finite number"),
    ("1e999 Hz", "not a finite number"),
    (10**400, "got a number too large to use (not a finite number)"),
    ([1, 2], "got a list"),
    ({"value": 1}, "got a mapping"),
    ("120 Mhz", 'unknown unit "Mhz"; did you mean "MHz"?'),
    ("120 mHz", 'did you mean "MHz"?'),
    ("120 KHz", 'did you mean "kHz"?'),
    ("120 furlongs", 'unknown unit "furlongs"'),
]


@pytest.mark.parametrize(("value", "fragment"), GARBAGE)
def test_garbage_is_a_clear_error(value, fragment):
    with pytest.raises(UnitError, match="^f: expected a frequency like") as info:
        parse_quantity(value, D.FREQUENCY, field="f")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "dim", "fragment"),
    [
        ("3 MW", D.POWER, 'did you mean "mW"?'),
        ("3 MV", D.VOLTAGE, 'did you mean "mV"?'),
        ("3 pj", D.ENERGY, 'did you mean "pJ"?'),
        ("3 Ms", D.TIME, 'did you mean "ms"?'),
        ("3 b", D.SIZE, '"b" is ambiguous'),
        ("3 kb", D.SIZE, '"kb" is ambiguous'),
        ("3 Mb", D.SIZE, '"Mb" is ambiguous'),
        ("3 bps", D.BANDWIDTH, '"bps" is ambiguous'),
    ],
)
def test_ambiguous_or_wrong_case_prefixes_rejected(text, dim, fragment):
    with pytest.raises(UnitError) as info:
        parse_quantity(text, dim, field="f")
    assert fragment in str(info.value)


@given(st.text(max_size=20) | st.floats(allow_nan=True) | st.integers() | st.booleans() | st.none())
def test_fuzz_only_unit_errors(value):
    for dim in Dimension:
        try:
            result = parse_quantity(value, dim, field="f")
        except UnitError:
            continue
        assert math.isfinite(result)


def test_dimension_metadata():
    for dim in Dimension:
        assert dim.units[""] == 1.0
        assert dim.noun.startswith(("a ", "an "))
        assert parse_quantity(dim.example, dim, field="f") is not None
