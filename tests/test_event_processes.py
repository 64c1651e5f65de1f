"""Event processes of a scenario's `events:` block, checked against the statistics of the processes themselves:
a Poisson count within a few standard deviations of rate x time, an hourly profile's counts per hour, the
long-run rate and over-dispersion of a Markov-modulated (bursty) process; seeded; bounded; one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinysim.errors import TinysimError
from tinysim.system.arrivals import Process, event_times
from tinysim.system.scenario import load_scenario

HEAD = """version: 1
name: t
workload: ../kws_fc.yaml
sensor: {sample_rate: 16 kHz, power: 1 mW, frame_hop: 10 ms}
inference: {every_frames: 2, window_frames: 4}
"""
DAY_S = 86400.0


def scenario(tmp_path, events: str, extra: str = ""):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + f"events: {events}\n" + extra)
    return load_scenario(path)


def fano(times: np.ndarray, duration_s: float, bins: int) -> float:
    """Variance / mean of the counts in equal bins: 1 for a Poisson process, more for a clustered one."""
    counts, _ = np.histogram(times, bins=bins, range=(0.0, duration_s))
    return float(counts.var() / counts.mean())


@pytest.mark.parametrize("seed", range(5))
def test_poisson_count_matches_rate_within_statistical_bound(tmp_path, seed):
    rate, duration = 0.5, 2e5
    times = event_times(scenario(tmp_path, f"{{process: poisson, rate: {rate} Hz, seed: {seed}}}"), duration)
    expected = rate * duration  # Poisson: mean = variance = rate x time
    assert abs(len(times) - expected) < 4 * math.sqrt(expected)
    gaps = np.diff(times)
    assert gaps.mean() == pytest.approx(1 / rate, rel=4 / math.sqrt(len(gaps)))
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.03)  # exponential gaps: coefficient of variation 1
    assert abs(fano(times, duration, 1000) - 1) < 4 * math.sqrt(2 / 999)  # sample-variance spread of 1000 bins


def test_processes_are_seeded_sorted_and_within_the_run(tmp_path):
    forms = [
        "{probability_per_window: 0.01, seed: 3}",
        "{process: poisson, rate: 0.2 Hz, seed: 3}",
        "{process: daily, events_per_hour: [" + ", ".join(["1"] * 12 + ["30"] * 12) + "], seed: 3}",
        "{process: bursty, burst_rate: 2 Hz, quiet_rate: 0.01 Hz, mean_burst: 5 s, mean_quiet: 300 s, seed: 3}",
    ]
    for form in forms:
        a = event_times(scenario(tmp_path, form), 2 * DAY_S)
        b = event_times(scenario(tmp_path, form), 2 * DAY_S)
        other = event_times(scenario(tmp_path, form.replace("seed: 3", "seed: 4")), 2 * DAY_S)
        assert len(a) > 10 and np.array_equal(a, b) and not np.array_equal(a, other), form
        assert np.all(np.diff(a) >= 0) and a[0] >= 0 and a[-1] < 2 * DAY_S, form


def test_bernoulli_spelling_unchanged(tmp_path):
    old = event_times(scenario(tmp_path, "{probability_per_window: 0.003, seed: 9}"), 3600.0)
    new = event_times(scenario(tmp_path, "{process: bernoulli, probability_per_window: 0.003, seed: 9}"), 3600.0)
    assert np.array_equal(old, new)
    windows = 3600.0 / 0.02  # one inference every 2 frames of 10 ms
    assert abs(len(old) - 0.003 * windows) < 4 * math.sqrt(0.003 * windows)


def test_daily_profile_counts_per_hour(tmp_path):
    profile = [0.0] * 6 + [4.0] * 6 + [20.0] * 6 + [2.0] * 6  # events per hour; nothing from midnight to 6 h
    days = 200
    sc = scenario(tmp_path, "{process: daily, seed: 1, events_per_hour: [" + ", ".join(map(str, profile)) + "]}")
    assert sc.events.process is Process.DAILY
    times = event_times(sc, days * DAY_S + 5 * 3600.0)  # a partial last day, inside the silent hours
    hours = ((times % DAY_S) // 3600).astype(int)
    counts = np.bincount(hours, minlength=24)
    expected = np.asarray(profile) * days
    assert counts[:6].sum() == 0
    assert np.all(np.abs(counts - expected) <= 4 * np.sqrt(np.maximum(expected, 1)))


def test_daily_profile_from_csv(tmp_path):
    (tmp_path / "hourly.csv").write_text("events_per_hour\n" + "\n".join(str(h % 3) for h in range(24)) + "\n")
    sc = scenario(tmp_path, "{process: daily, events_per_hour: hourly.csv}")
    assert sc.events.events_per_hour == tuple(float(h % 3) for h in range(24))


def test_bursty_long_run_rate_and_clustering(tmp_path):
    burst, quiet, on, off = 1.0, 0.002, 20.0, 600.0
    events = (
        f"{{process: bursty, burst_rate: {burst} Hz, quiet_rate: {quiet} Hz, mean_burst: {on} s, mean_quiet: {off} s}}"
    )
    sc = scenario(tmp_path, events)
    duration = 3e6  # ~4800 burst/quiet cycles
    times = event_times(sc, duration)
    expected = (burst * on + quiet * off) / (on + off) * duration  # the stationary mix of the two rates
    assert len(times) == pytest.approx(expected, rel=0.08)
    assert fano(times, duration, 5000) > 3  # clustered: far more variable than a Poisson count (Fano 1)


def test_year_at_a_modest_rate_is_cheap_and_absurd_rates_are_refused(tmp_path):
    times = event_times(scenario(tmp_path, "{process: poisson, rate: 0.01 Hz}"), 365 * DAY_S)
    assert abs(len(times) - 315360) < 4 * math.sqrt(315360)
    with pytest.raises(TinysimError, match="expected over"):
        event_times(scenario(tmp_path, "{process: poisson, rate: 1 kHz}"), 365 * DAY_S)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("{process: poisson}", 'missing required key "rate"'),
        ("{process: poisson, rate: 1 Hz, probability_per_window: 0.1}", "not read by the poisson process"),
        ("{process: daily, events_per_hour: [1, 2, 3]}", "expected 24 events-per-hour numbers"),
        ("{process: daily, events_per_hour: missing.csv}", "cannot read the hourly profile"),
        ("{process: bursty, burst_rate: 1 Hz, quiet_rate: 0 Hz, mean_burst: 1 s}", 'missing required key "mean_quiet"'),
        ("{process: sometimes}", "events.process"),
        ("{process: poisson, rate: 1 Hz, trace: t.csv}", "not both"),
    ],
)
def test_bad_events_are_one_line_errors(tmp_path, events, message):
    with pytest.raises(TinysimError) as info:
        scenario(tmp_path, events)
    text = str(info.value)
    assert message in text and "\n" not in text and "s.yaml:6" in text
