"""Silicon Labs EFR32MG24 (Cortex-M33 + MVP): the arch checks, places ops as the MVP kernels do, and its
predictions against the MLPerf Tiny v1.0 figures (shared/calibration/figures.md table B)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tinysim.spec import load_arch
from tinysim.validation import compare, load_references

ROOT = Path(__file__).resolve().parents[1]
ARCH = "archs/efr32mg24.yaml"

# Predictions that miss the bound. Measured errors (tinysim validate, reports/validation.md); NOT tuned
# onto the figures: the arch is calibrated on KWS only (one cycle scale + static power).
_IC_SLOW = "IC predicted +24.7 % slow: the board gets ~1.33 MAC/cycle from ResNet-8's deep 3x3 convs vs KWS's 0.94; one per-MAC cost calibrated on KWS cannot see that (not tuned)"
_IC_ENERGY = "IC energy +35.4 %: follows the +24.7 % latency miss (static power x time dominates) (not tuned)"
_AD_FAST = "AD predicted -30.5 % fast: the board spends ~0.6 MAC/cycle on ten small FC layers; the assumed per-op and per-output costs are too small for it (not tuned)"

LATENCY = {
    "kws": [],
    "vww": [],
    "ic": [pytest.mark.xfail(strict=True, reason=_IC_SLOW)],
    "ad": [pytest.mark.xfail(strict=True, reason=_AD_FAST)],
}
ENERGY = {
    "kws": [],
    "vww": [],
    "ic": [pytest.mark.xfail(strict=True, reason=_IC_ENERGY)],
    "ad": [],
}


@pytest.fixture(scope="module")
def comparisons():
    return {Path(c.reference.workload).stem: c for c in compare(ROOT) if c.reference.arch == ARCH}


def test_arch_checks():
    proc = subprocess.run(
        [sys.executable, "-m", "tinysim.cli.main", "check", ARCH],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout


def test_mvp_is_listed_first_and_runs_the_accelerated_kernels():
    arch = load_arch(ROOT / ARCH)
    mvp, cpu = arch.compute
    assert (mvp.name, cpu.name) == ("mvp", "cpu")
    assert {k.value for k in mvp.runs} == {
        "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD"}
    assert not cpu.runs  # host runs everything else (RESHAPE, SOFTMAX)
    assert mvp.simd_macs_per_cycle == 2  # two FMACs on a packed int8 pair


def test_calibrated_on_kws_only():
    refs = [r for r in load_references() if r.arch == ARCH]
    assert sorted(Path(r.workload).stem for r in refs) == ["ad", "ic", "kws", "vww"]
    assert [Path(r.workload).stem for r in refs if r.calibration] == ["kws"]


@pytest.mark.parametrize("workload", [pytest.param(w, marks=m) for w, m in LATENCY.items()])
def test_latency_within_20_percent(comparisons, workload):
    c = comparisons[workload]
    assert abs(c.latency_error) <= 0.20, c


@pytest.mark.parametrize("workload", [pytest.param(w, marks=m) for w, m in ENERGY.items()])
def test_energy_within_30_percent(comparisons, workload):
    c = comparisons[workload]
    assert abs(c.energy_error) <= 0.30, c


def test_kws_calibration_lands(comparisons):
    c = comparisons["kws"]
    assert abs(c.latency_error) <= 0.01 and abs(c.energy_error) <= 0.01, c


def test_report_lists_the_four_rows():
    text = (ROOT / "reports" / "validation.md").read_text()
    assert text.count("| efr32mg24 |") == 4
