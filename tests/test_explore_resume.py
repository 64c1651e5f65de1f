"""A sweep killed with SIGKILL mid-run and started again ends with every (point, workload) exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tinysim.explore.executors import LocalExecutor
from tinysim.explore.runner import run_sweep
from tinysim.explore.sweep_spec import load_sweep

ROOT = Path(__file__).resolve().parents[1]

# --exact prices every point with simulate() (~1 ms), so the sweep runs long enough to be killed
# part-way; chunks of 8 points commit often.
SWEEP = f"""\
version: 1
name: resume
base: {ROOT}/archs/ecm3532.yaml
axes:
  compute.dsp.macs_per_cycle: [1, 2, 4, 8]
  compute.dsp.energy_per_cycle: [5 pJ, 10 pJ, 15 pJ, 20 pJ, 25 pJ]
  compute.cpu.energy_per_cycle: [6 pJ, 9 pJ, 12 pJ, 15 pJ, 18 pJ]
  memories.sram.size: [16 KiB, 64 KiB, 256 KiB]
  operating_point: [cvfs20, cvfs100]
workloads: [{ROOT}/workloads/kws.yaml, {ROOT}/workloads/ad.yaml]
objectives: [latency, energy, average_power]
rate: 2 Hz
"""


def _sweep(sweep: Path, out: Path, *extra: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "tinysim.cli.main",
        "sweep",
        str(sweep),
        "-o",
        str(out),
        "--quiet",
        "--chunk",
        "8",
        "--exact",
    ]
    return subprocess.Popen([*cmd, *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _count(out: Path) -> int:
    if not out.exists():  # (connecting would create an empty file under the sweep's feet)
        return 0
    try:
        con = sqlite3.connect(f"file:{out}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:  # tables not created yet
        return 0


def _rows(out: Path) -> list[tuple]:
    with sqlite3.connect(out) as con:
        return sorted(con.execute("SELECT * FROM results"))


def test_sigkill_then_resume_gives_every_row_once(tmp_path):
    sweep = tmp_path / "resume.yaml"
    sweep.write_text(SWEEP)
    points = 4 * 5 * 5 * 3 * 2
    total = points * 2
    out = tmp_path / "killed.sqlite"
    # Twice: once after some rows, then again after more rows of the resumed run.
    counts = []
    for _ in range(2):
        proc = _sweep(sweep, out)
        before, deadline = _count(out), time.monotonic() + 120
        while _count(out) <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        counts.append(_count(out))
    assert 0 < counts[0] < counts[1] < total, f"the sweep was not killed part-way ({counts} of {total} rows)"

    resumed = _sweep(sweep, out, "--resume")
    _, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err
    whole = tmp_path / "whole.sqlite"
    run_sweep(load_sweep(sweep), whole, LocalExecutor(1), exact=True)  # uninterrupted, in this process

    rows = _rows(out)
    keys = [(r[0], r[1]) for r in rows]
    assert len(keys) == len(set(keys)) == total
    assert rows == _rows(whole)
    with sqlite3.connect(out) as con:
        assert con.execute("SELECT COUNT(*) FROM points").fetchone()[0] == points
