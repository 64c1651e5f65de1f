"""The area model (tinysim/cost/area.py): formulas over the technology table, None without a node, the
published-die check, and area in sweeps and `tinysim report --objectives energy area`."""

from __future__ import annotations

import dataclasses
import math
import textwrap
from pathlib import Path

import pytest

from tinysim.arch.loader import load_arch
from tinysim.arch.model import Technology
from tinysim.cost.area import TABLE_PATH, arch_area
from tinysim.errors import TinysimError
from tinysim.explore.executors import LocalExecutor
from tinysim.explore.runner import run_sweep
from tinysim.explore.store import read_sweep
from tinysim.explore.sweep_spec import load_sweep
from tinysim.report.run_report import area_text
from tinysim.schema.yamlio import load_yaml
from tinysim.units import Dimension, parse_quantity
from tinysim.validation.die_areas import compare_die_areas

ROOT = Path(__file__).resolve().parents[1]
RAW = load_yaml(TABLE_PATH)  # the table read as plain YAML: the tests redo the formulas from its numbers


def _raw(section: dict, key: str, dim: Dimension = Dimension.DIMENSIONLESS) -> float:
    value = section[key]
    return parse_quantity(value["value"] if isinstance(value, dict) else value, dim, field=key)


def _cell(node: str) -> float:
    return _raw(RAW["nodes"][node], "sram_bit_cell", Dimension.AREA)


def _with(arch, node: str, **memory_sizes: int):
    memories = tuple(dataclasses.replace(m, size_bytes=memory_sizes.get(m.name, m.size_bytes)) for m in arch.memories)
    return dataclasses.replace(arch, technology=Technology(node), memories=memories)


def test_sram_area_is_bits_times_cell_over_efficiency():
    arch = load_arch(ROOT / "archs" / "ndp100.yaml")
    efficiency = _raw(RAW["memory"], "sram_efficiency")
    area = arch_area(arch)
    assert area is not None and area.node == "40nm"
    act = arch.memory("act_sram")
    assert area.memories_m2["act_sram"] == pytest.approx(act.size_bytes * 8 * 0.242e-12 / efficiency)
    doubled = arch_area(_with(arch, "40nm", act_sram=2 * act.size_bytes))
    assert doubled.memories_m2["act_sram"] == pytest.approx(2 * area.memories_m2["act_sram"])
    assert doubled.units_m2 == pytest.approx(dict(area.units_m2))


@pytest.mark.parametrize("node", ["180nm", "65nm", "28nm", "16nm"])
def test_area_scales_with_node_as_the_table_says(node):
    arch = load_arch(ROOT / "archs" / "ndp100.yaml")
    at_40, there = arch_area(arch), arch_area(_with(arch, node))
    ratio = _cell(node) / _cell("40nm")
    assert there.memories_m2["weights"] / at_40.memories_m2["weights"] == pytest.approx(ratio)
    gate_ratio = _raw(RAW["nodes"][node], "gate", Dimension.AREA) / _raw(RAW["nodes"]["40nm"], "gate", Dimension.AREA)
    assert there.units_m2["cpu"] / at_40.units_m2["cpu"] == pytest.approx(gate_ratio)
    depth = _raw(RAW["die"], "io_ring_depth", Dimension.LENGTH)
    assert there.total_m2 == pytest.approx((math.sqrt(there.blocks_m2) + 2 * depth) ** 2)


def test_mcu_core_and_flash_from_the_table():
    arch = load_arch(ROOT / "archs" / "stm32l4r5.yaml")
    arch = dataclasses.replace(arch, technology=Technology("90nm", frozenset({"flash"})))
    area = arch_area(arch)
    gate = _raw(RAW["nodes"]["90nm"], "gate", Dimension.AREA)
    assert area.units_m2["cpu"] == pytest.approx(_raw(RAW["cores"], "cortex-m4") * gate)
    flash = arch.memory("flash").size_bytes * 8 * _cell("90nm") * _raw(RAW["memory"], "nvm_cell_ratio")
    assert area.memories_m2["flash"] == pytest.approx(flash / _raw(RAW["memory"], "nvm_efficiency"))


def test_no_technology_means_no_area(tmp_path):
    arch = load_arch(ROOT / "archs" / "stm32l4r5.yaml")
    assert arch.technology is None and arch_area(arch) is None
    assert area_text(None) == "—" and area_text(2.52e-6) == "2.52 mm²"


def test_bad_node_and_nvm_name_are_one_line_errors(tmp_path):
    text = (ROOT / "archs" / "ndp100.yaml").read_text()
    for bad, message in (("technology: 7nm", "7nm"), ("technology: {node: 40nm, nvm: [eflash]}", "eflash")):
        path = tmp_path / "x.yaml"
        path.write_text(text.replace("technology: {node: 40nm, source: linley-2019}", bad))
        with pytest.raises(TinysimError, match=message) as err:
            load_arch(path)
        assert "\n" not in str(err.value) and "technology" in str(err.value)


def test_published_die_rows_are_within_tolerance_or_truthfully_marked():
    rows = {r.arch: r for r in compare_die_areas()}
    ndp100 = rows["ndp100"]
    assert ndp100.published_m2 == pytest.approx(1.4e-3 * 1.8e-3)
    for row in rows.values():
        # a marked row must really miss (else the mark is stale); an unmarked one must be within tolerance
        assert row.within != bool(row.outside), (row.arch, row.error)


def test_sweep_stores_area_and_area_is_no_objective(tmp_path, capsys):
    """Every row carries its area estimate, but `area` is not offered as an objective: the model misses the
    NDP100's published die by more than the 30 % the issue asks (see die_areas.yaml), so it is a lower bound
    to read, not a quantity to optimise."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text(
        textwrap.dedent(f"""\
        version: 1
        name: ndp100_area
        base: {ROOT}/archs/ndp100.yaml
        axes:
          compute.core1.arrays: [144, 288]
          memories.act_sram.size: [8 KiB, 64 KiB]
        workloads: [{ROOT}/workloads/kws_fc.yaml]
        objectives: [energy, latency]
        """)
    )
    out = tmp_path / "r.sqlite"
    run_sweep(load_sweep(sweep), out, LocalExecutor(1))
    rows = [r for r in read_sweep(out).rows() if r["status"] == "ok"]
    assert len(rows) == 4 and all(r["area_m2"] is not None and r["area_m2"] > 0 for r in rows)
    small = {
        r["params"]["memories.act_sram.size"]: r["area_m2"] for r in rows if r["params"]["compute.core1.arrays"] == 144
    }
    efficiency = _raw(RAW["memory"], "sram_efficiency")
    blocks = [
        (math.sqrt(a) - 2 * _raw(RAW["die"], "io_ring_depth", Dimension.LENGTH)) ** 2 for a in sorted(small.values())
    ]
    assert blocks[1] - blocks[0] == pytest.approx((64 - 8) * 1024 * 8 * _cell("40nm") / efficiency)
    bad = sweep.read_text().replace("objectives: [energy, latency]", "objectives: [energy, area]")
    sweep.write_text(bad)
    with pytest.raises(TinysimError, match="not an objective"):
        load_sweep(sweep)
