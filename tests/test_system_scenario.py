"""Scenario YAML, event traces and batteries: shipped files load, bad input is one FILE:LINE: field error."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tinysim.errors import TinysimError
from tinysim.system.arrivals import event_times
from tinysim.system.battery import parse_battery
from tinysim.system.scenario import BetweenWork, DvfsPolicy, load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "workloads" / "scenarios").glob("*.yaml"))
GOOD = """version: 1
name: t
workload: ../kws_fc.yaml
sensor: {sample_rate: 16 kHz, power: 1 mW, frame_hop: 10 ms}
inference: {every_frames: 2, window_frames: 4}
"""


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert Path(sc.workload_path).is_file()
    assert sc.arch_path is None or Path(sc.arch_path).is_file()
    assert sc.period_s > 0 and sc.inference.deadline_s > 0


def test_kws_scenario_fields():
    sc = load_scenario(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")
    assert sc.sensor.frame_hop_s == pytest.approx(0.01)
    assert sc.sensor.frame_bytes == 320  # 160 samples x 2 bytes
    assert sc.period_s == pytest.approx(0.04)
    assert sc.dvfs.policy is DvfsPolicy.JUST_IN_TIME and sc.between_work is BetweenWork.AUTO
    assert sc.front_end.cost_for("ndp100").energy_j == 0
    assert sc.front_end.cost_for("some_other_chip").cycles == 30000


def test_minimal_scenario_defaults(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD)
    sc = load_scenario(path)
    assert sc.inference.deadline_s == pytest.approx(0.02)  # every_frames x hop
    assert sc.duration_s == 60 and sc.host.power_w == 0 and sc.events.probability_per_window == 0
    assert sc.workload_path == str(tmp_path / "../kws_fc.yaml")


@pytest.mark.parametrize(
    "extra, line, fragment",
    [
        ("bogus: 1\n", 6, "unknown key"),
        ("duration: 3 pJ\n", 6, "duration"),
        ("events: {probability_per_window: 2}\n", 6, "between 0 and 1"),
        ("events:\n  probability_per_window: 0.1\n  trace: x.csv\n", 8, "not both"),
        ("front_end:\n  default: {energy: 1 uJ}\n", 7, "exactly one of `time` or `cycles`"),
        ("host:\n  power: 1 mW\n", 6, 'missing required key "on_time"'),
        ("power: {between_work: hibernate}\n", 6, "power.between_work"),
        ("dvfs: {policy: race_to_idle, operating_point: a}\n", 6, "give one only with `policy: fixed`"),
    ],
)
def test_bad_scenarios_point_at_file_line_field(tmp_path, extra, line, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + extra)
    with pytest.raises(TinysimError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(f"{path}:{line}: "), text
    assert fragment in text and "\n" not in text


def test_trace_csv_and_its_errors(tmp_path):
    trace = tmp_path / "keywords.csv"
    trace.write_text("time_s,label\n12.5,yes\n# comment\n\n3 s,no\n1500 ms,yes\n")
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "events: {trace: keywords.csv}\n")
    sc = load_scenario(path)
    assert sc.events.trace_times_s == (1.5, 3.0, 12.5)
    assert list(event_times(sc, 10.0)) == [1.5, 3.0]
    trace.write_text("1.0\nsoon\n")
    with pytest.raises(TinysimError, match=r"keywords.csv:2: time: expected an event time"):
        load_scenario(path)
    path.write_text(GOOD + "events: {trace: missing.csv}\n")
    with pytest.raises(TinysimError, match=r"s.yaml:6: events.trace: cannot read the event trace"):
        load_scenario(path)


def test_drawn_events_are_seeded_one_per_window_at_most(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "events: {probability_per_window: 0.05, seed: 3}\n")
    sc = load_scenario(path)
    times = event_times(sc, 1000.0)
    assert np.array_equal(times, event_times(sc, 1000.0))  # seeded
    windows = (1000.0 - 0.04) / 0.02
    assert abs(len(times) - 0.05 * windows) < 5 * math.sqrt(0.05 * windows)
    assert np.all(np.diff(times) >= 0.02 - 1e-9) and times[0] >= 0 and times[-1] < 1000.0


@pytest.mark.parametrize("text, joules", [("225mAh@3V", 2430.0), ("225 mAh @ 3 V", 2430.0), ("1Ah@3.7V", 13320.0)])
def test_battery_parsing(text, joules):
    battery = parse_battery(text)
    assert battery.energy_j == pytest.approx(joules)
    assert battery.life_s(1e-3) == pytest.approx(joules / 1e-3)
    assert math.isinf(battery.life_s(0.0))


@pytest.mark.parametrize("text", ["225mAh", "225mAh@3mW", "3V@225mAh", "-1mAh@3V"])
def test_bad_battery_is_one_line(text):
    with pytest.raises(TinysimError) as info:
        parse_battery(text)
    assert "--battery" in str(info.value)
