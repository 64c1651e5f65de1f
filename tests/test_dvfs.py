"""DVFS: the deadline picks the lowest-energy feasible operating point; V² scaling; impossible deadlines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_process import tinysim

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.cost.dvfs import select_for_deadline, simulate_points
from tinysim.cost.result import LayerCost, SimResult
from tinysim.errors import CostError
from tinysim.workload import load_workload
from tinysim.workload.stats import estimate_events

ROOT = Path(__file__).resolve().parents[1]
ECM = ROOT / "archs" / "ecm3532.yaml"
KWS = ROOT / "workloads" / "kws.yaml"


def _result(point: str, latency_s: float, energy_j: float) -> SimResult:
    layer = LayerCost(
        name="l", op_kind="CONV_2D", unit="u", macs=1, cycles=1.0, latency_s=latency_s, compute_energy_j=energy_j
    )
    return SimResult(
        arch="a", workload="w", operating_point=point, voltage_v=1.0, freq_hz=1e6, layers=(layer,), sleep_power_w=0.0
    )


def test_lowest_energy_feasible_point_wins():
    points = [_result("fast", 0.010, 5e-6), _result("mid", 0.030, 3e-6), _result("slow", 0.090, 2e-6)]
    assert select_for_deadline(points, 0.050).chosen.operating_point == "mid"  # slow misses
    assert select_for_deadline(points, 0.100).chosen.operating_point == "slow"
    assert select_for_deadline(points, 0.010).chosen.operating_point == "fast"  # exactly on the deadline
    choice = select_for_deadline(points, 0.050)
    assert [r.operating_point for r in choice.feasible] == ["fast", "mid"]
    assert "mid" in choice.reason() and "slow too slow" in choice.reason()


def test_leakage_dominated_minimum_is_not_the_slowest_point():
    # When static energy dominates, running slower costs more: the middle point is the minimum.
    points = [_result("fast", 0.010, 5e-6), _result("mid", 0.020, 4e-6), _result("slow", 0.080, 6e-6)]
    assert select_for_deadline(points, 1.0).chosen.operating_point == "mid"


def test_equal_energy_prefers_the_faster_point():
    points = [_result("slow", 0.020, 4e-6), _result("fast", 0.010, 4e-6)]
    assert select_for_deadline(points, 1.0).chosen.operating_point == "fast"


def test_impossible_deadline_names_the_fastest_latency():
    points = [_result("fast", 0.010, 5e-6), _result("slow", 0.090, 2e-6)]
    with pytest.raises(CostError, match=r"the fastest, fast .* takes 10 ms") as err:
        select_for_deadline(points, 0.005)
    assert err.value.field == "deadline"  # the CLI names its flag (tests/test_cli.py)


@pytest.fixture(scope="module")
def ecm_kws():
    arch, graph = load_arch(ECM), load_workload(KWS)
    return arch, graph, [estimate_events(graph, op) for op in graph.ops]


def test_voltage_squared_scaling_on_ecm3532(ecm_kws):
    arch, graph, events = ecm_kws
    hi = simulate(arch, graph, events, operating_point="cvfs100")
    lo = simulate(arch, graph, events, operating_point="cvfs20")
    assert (hi.voltage_v, lo.voltage_v) == (0.87, 0.63)
    assert lo.cycles == hi.cycles and lo.latency_s == pytest.approx(5 * hi.latency_s)
    for a, b in zip(hi.layers, lo.layers):
        assert b.compute_energy_j == pytest.approx(a.compute_energy_j * (0.63 / 0.87) ** 2)
        assert b.memory_energy_j == pytest.approx(a.memory_energy_j)  # memories on their own fixed buck


def test_ecm3532_points_trade_latency_for_energy(ecm_kws):
    arch, graph, events = ecm_kws
    points = simulate_points(arch, graph, events)
    assert [r.operating_point for r in points] == [p.name for p in arch.operating_points]
    latencies = [r.latency_s for r in points]
    energies = [r.energy_j for r in points]
    assert latencies == sorted(latencies) and energies == sorted(energies, reverse=True)
    # A deadline between two points' latencies picks the slower point that still meets it.
    deadline = (latencies[2] + latencies[3]) / 2
    assert select_for_deadline(points, deadline).chosen.operating_point == points[2].operating_point


def test_run_deadline_reports_the_choice():
    proc = tinysim("run", str(ECM), str(KWS), "--deadline", "50 ms", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    points = doc["dvfs"]["points"]
    feasible = [p for p in points if p["meets_deadline"]]
    assert feasible and all(p["latency_s"] <= 0.05 for p in feasible)
    best = min(feasible, key=lambda p: p["energy_j"])
    assert doc["summary"]["operating_point"] == best["operating_point"]
    assert "chosen for the 50 ms deadline" in doc["dvfs"]["reason"]


def test_run_impossible_deadline_is_one_line_exit_2():
    proc = tinysim("run", str(ECM), str(KWS), "--deadline", "1 ms")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--deadline" in lines[0] and "the fastest, cvfs100" in lines[0]


def test_deadline_and_operating_point_are_exclusive():
    proc = tinysim("run", str(ECM), str(KWS), "--deadline", "50 ms", "--operating-point", "cvfs20")
    assert proc.returncode == 2 and "not allowed with" in proc.stderr
