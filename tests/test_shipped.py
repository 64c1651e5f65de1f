"""Shipped files: every number in an architecture says where it comes from; every arch runs what it can hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tinysim.arch import load_arch
from tinysim.cost import simulate
from tinysim.engine import plan_arena, random_input, run_graph
from tinysim.errors import TinysimError
from tinysim.workload import load_workload

ROOT = Path(__file__).resolve().parents[1]
ARCHS = sorted((ROOT / "archs").glob("*.yaml"))
WORKLOADS = sorted((ROOT / "workloads").glob("*.yaml"))
NOTES = ("source", "assumed")
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*[A-Za-zµ/%]*\s*$")  # "1.8 V", "640 KiB"


def _unsourced_numbers(node, path: str, covered: bool) -> list[str]:
    """Paths of numeric leaves with no `source:`/`assumed:` on themselves or an enclosing block."""
    if isinstance(node, dict):
        covered = covered or any(k in node for k in NOTES)
        out = []
        for key, value in node.items():
            if key in NOTES or (path == "" and key == "version"):
                continue
            out += _unsourced_numbers(value, f"{path}.{key}" if path else str(key), covered)
        return out
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _unsourced_numbers(v, f"{path}[{i}]", covered)]
    is_number = (isinstance(node, (int, float)) and not isinstance(node, bool)) or (
        isinstance(node, str) and _NUMBER.match(node))
    return [path] if is_number and not covered else []


@pytest.mark.parametrize("path", ARCHS, ids=lambda p: p.name)
def test_every_number_in_an_arch_carries_source_or_assumed(path):
    missing = _unsourced_numbers(yaml.safe_load(path.read_text()), "", False)
    assert not missing, f"{path.name}: numbers without source:/assumed: {missing}"


@pytest.fixture(scope="module")
def runs():
    """One engine run per shipped workload (seed 0), shared by every arch."""
    out = {}
    for path in WORKLOADS:
        graph = load_workload(path)
        out[path.stem] = (graph, run_graph(graph, random_input(graph, 0)).events, plan_arena(graph).peak_bytes)
    return out


@pytest.mark.parametrize("arch_path", ARCHS, ids=lambda p: p.stem)
def test_every_arch_prices_every_workload_it_can_hold(arch_path, runs):
    """Each arch either prices a workload (positive latency and energy, a fit verdict) or refuses it with
    a one-line user error (e.g. a layer too large for the in-memory arrays) — never a crash; and every
    arch runs at least one shipped workload that fits."""
    arch = load_arch(arch_path)
    fitting = []
    for name, (graph, events, arena) in runs.items():
        try:
            result = simulate(arch, graph, events, arena_bytes=arena, events_source="engine")
        except TinysimError as err:
            assert "\n" not in str(err)
            continue
        assert result.latency_s > 0 and result.energy_j > 0
        if result.weights_fit and result.arena_fits:
            fitting.append(name)
    assert fitting, f"{arch_path.name} runs none of the shipped workloads"
