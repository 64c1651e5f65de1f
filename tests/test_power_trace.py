"""The per-component power trace over a window (`tinysim always-on --trace FILE.csv`)."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict

import pytest


def test_each_track_tiles_the_window_and_energy_is_power_times_time(tmp_path):
    out = tmp_path / "trace.csv"
    proc = subprocess.run([sys.executable, "-m", "tinysim.cli.main", "always-on", "kws_always_on", "--arch", "ndp100",
                           "--duration", "5 s", "--window", "0.5 s", "--window-start", "1 s", "--trace", str(out)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["arch"] for r in rows} == {"ndp100"} and rows[0]["tinysim_version"]
    covered = defaultdict(float)
    for r in rows:
        start, end, power, energy = (float(r[k]) for k in ("start_s", "end_s", "power_w", "energy_j"))
        assert 1.0 - 1e-12 <= start < end <= 1.5 + 1e-12
        assert energy == pytest.approx(power * (end - start), rel=1e-12)
        covered[r["track"]] += end - start
    # every component is in exactly one state at every instant: its intervals add up to the window
    assert covered and all(length == pytest.approx(0.5, rel=1e-9) for length in covered.values()), covered
