"""Batteries from data (tinysim/system/cells.yaml): every number cited or assumed; a named cell's lifetime departs
from the ideal reservoir in the direction and by the order its datasheet / the TI coin-cell report show;
self-discharge, temperature, harvesting (energy neutral, days of autonomy); scenario and CLI spellings."""

from __future__ import annotations

import math

import pytest
import yaml

from tinysim.errors import TinysimError
from tinysim.system.battery import CELLS_PATH, YEAR_S, cells, parse_battery
from tinysim.system.result import AlwaysOnResult
from tinysim.system.scenario import load_scenario

MAH = 3.6  # coulombs
HOUR = 3600.0
IDEAL = parse_battery("225mAh@3V")  # what always-on assumed for a CR2032 before cells were data


def test_every_number_in_cells_yaml_is_sourced_or_assumed():
    data = yaml.safe_load(CELLS_PATH.read_text())
    assert data["version"] == 1 and set(data["cells"]) >= {"CR2032", "CR2477", "2xAA", "LiPo150"}
    for name, cell in data["cells"].items():
        for key, value in cell.items():
            if key == "description":
                continue
            rows = value if isinstance(value, list) else [value]
            for row in rows:
                assert isinstance(row, dict) and ("source" in row or "assumed" in row), (name, key, row)
                assert str(row.get("source") or row.get("assumed")).strip(), (name, key)


def test_cell_table_loads_with_datasheet_ratings():
    cr2032 = cells()["CR2032"]
    assert cr2032.capacity_c == pytest.approx(235 * MAH)  # Energizer CR2032: 235 mAh to 2.0 V
    assert cr2032.voltage_v == 3.0 and cr2032.cutoff_v == 2.0
    assert cells()["2xAA"].cutoff_v == pytest.approx(1.6)  # 0.8 V per E91 cell, two in series


def pulsed(peak_a: float, average_a: float, volts: float = 3.0) -> AlwaysOnResult:
    """A run at `average_a` made of a sleep floor and pulses at `peak_a` (the ledger shape always-on reports)."""
    duration, sleep_a = 100.0, 2e-6
    duty = (average_a - sleep_a) / (peak_a - sleep_a)
    energy = {
        ("network", "active"): peak_a * volts * duty * duration,
        ("chip", "sleep"): sleep_a * volts * (1 - duty) * duration,
    }
    time = {("network", "active"): duty * duration, ("chip", "sleep"): (1 - duty) * duration}
    return AlwaysOnResult(
        scenario="s", arch="a", workload="w", dvfs_policy="fixed", between_work="auto", duration_s=duration,
        period_s=1.0, deadline_s=1.0, work=None, energy_j=energy, time_s=time, counts={}, fast_forwarded_s=0.0,
        battery=parse_battery("CR2032"),
    )  # fmt: skip


def life_ratio_to_ideal(peak_a: float, average_a: float) -> float:
    r = pulsed(peak_a, average_a)
    assert r.peak_power_w == pytest.approx(peak_a * 3.0)
    return r.battery_life_s / IDEAL.life_s(r.average_power_w)


def test_cr2032_pulsed_load_lasts_less_than_the_ideal_reservoir_by_the_datasheet_order():
    # At its rating drain (15 kOhm, ~0.19 mA, continuous) a CR2032 gives its 235 mAh: a little over the 225 mAh ideal
    assert 1.02 < life_ratio_to_ideal(0.19e-3, 0.19e-3) < 235 / 225
    # 15 mA radio-like pulses, 30 uA average: TI SWRA349 measured 50 % .. 100 % of the rating across vendors
    at_15 = life_ratio_to_ideal(15e-3, 30e-6)
    assert 0.5 * 235 / 225 < at_15 < 1.0
    # ... and 30 mA peaks ~9 % below 15 mA peaks on average (same report)
    assert life_ratio_to_ideal(30e-3, 30e-6) / at_15 == pytest.approx(0.91, abs=0.03)


def test_alkaline_capacity_falls_with_drain_as_the_e91_chart():
    aa = parse_battery("2xAA")
    delivered_mah = {ma: aa.life_s(ma * 1e-3 * 3.0) / HOUR * ma for ma in (25, 100, 500)}
    assert delivered_mah[25] == pytest.approx(3000, rel=0.01)  # E91 constant-current chart readings, to 0.8 V
    assert delivered_mah[100] == pytest.approx(2600, rel=0.01)
    assert delivered_mah[500] == pytest.approx(1600, rel=0.01)


def test_self_discharge_bounds_the_life_of_an_idle_cell():
    cr2032 = parse_battery("CR2032")
    assert cr2032.life_s(0.0) == pytest.approx(YEAR_S / cr2032.cell.self_discharge_per_year)  # 1/s years, unloaded
    assert math.isinf(IDEAL.life_s(0.0))  # the ideal reservoir never leaks
    i = 1e-6  # a 1 uA sleeper: charge / (load + leak current), shorter than charge / load
    assert cr2032.life_s(i * 3.0) == pytest.approx(235 * MAH / (i + 0.01 * 235 * MAH / YEAR_S))
    assert cr2032.life_s(i * 3.0) < 235 * MAH / i


def test_cold_derates_a_lithium_coin_cell_as_li_mno2_measurements():
    from dataclasses import replace

    warm = parse_battery("CR2032")
    cold = replace(warm, temperature_c=-20.0)
    assert 0.72 <= cold.life_s(1e-4) / warm.life_s(1e-4) <= 0.82  # 72-82 % at -20 C (Li/MnO2 coin measurements)


def test_harvest_energy_neutral_and_days_of_autonomy():
    from dataclasses import replace

    load_w = 1e-3
    day = [2 * load_w] * 12 + [0.0] * 12  # sun half the day at twice the load: a day's harvest = a day's use
    small = replace(parse_battery("1mAh@3V"), harvest_w=tuple(day))  # 10.8 J: cannot bridge a 12 h night (43.2 J)
    big = replace(IDEAL, harvest_w=tuple(day))  # 2430 J
    assert not small.harvest_balance(load_w).energy_neutral
    balance = big.harvest_balance(load_w)
    assert balance.energy_neutral and balance.largest_deficit_j == pytest.approx(load_w * 12 * HOUR)
    assert balance.harvested_j_per_day == pytest.approx(balance.consumed_j_per_day)
    assert not replace(IDEAL, harvest_w=tuple(0.9 * p for p in day)).harvest_balance(load_w).energy_neutral
    assert big.life_s(load_w) / 86400 == pytest.approx(2430 / load_w / 86400)  # autonomy in the dark


def test_scenario_battery_and_harvest_blocks(tmp_path):
    head = (
        "version: 1\nname: t\nworkload: w.yaml\nsensor: {sample_rate: 16 kHz, power: 1 mW, frame_hop: 10 ms}\n"
        "inference: {every_frames: 2, window_frames: 4}\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(
        head + "battery: {cell: CR2477, temperature_c: -5}\nharvest: {profile: [" + ", ".join(["50 uW"] * 24) + "]}\n"
    )
    b = load_scenario(path).battery
    assert b.cell.name == "CR2477" and b.temperature_c == -5 and b.harvest_w == pytest.approx((50e-6,) * 24)
    path.write_text(head + "harvest: {profile: [1 mW, 2 mW]}\n")
    with pytest.raises(TinysimError, match="expected 24 powers"):
        load_scenario(path)
    path.write_text(head + "battery: {cell: CR9999}\n")
    with pytest.raises(TinysimError) as info:
        load_scenario(path)
    assert "CR2032" in str(info.value) and "s.yaml:6" in str(info.value) and "battery.cell" in str(info.value)


def test_result_reports_the_cell():
    r = pulsed(15e-3, 30e-6)
    part = r.battery_dict()  # the `battery` entry of to_dict (which also needs a priced WorkCost)
    assert part["cell"] == "CR2032" and part["cutoff_v"] == 2.0 and part["energy_neutral"] is None
    assert part["usable_charge_c"] < 235 * MAH and part["pulse_voltage_v"] < 3.0
    assert part["autonomy_days"] == pytest.approx(r.battery_life_s / 86400)
