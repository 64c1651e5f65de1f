"""Silicon area of an architecture, from the technology table (tinysim/arch/technology.yaml).

    memory    bits x cell / efficiency      (SRAM: the node's 6T bit cell; flash: `nvm_cell_ratio` of it)
    mcu       the core's gate equivalents x the node's NAND2 gate area
    dsp       control gates + MACs;  npu: control gates + MACs;  mvp: control gates + MACs per step
    systolic  rows x cols x MAC x PE overhead
    imc       array cells not already counted as the weights memory, + ADCs (analog: one per
              `imc_columns_per_adc` columns, 8-bit area x 2^(bits - 8)) or column adders (digital: one
              per column of the arrays firing together)
    die       (sqrt(blocks) + 2 x I/O ring depth)²

A MAC is an 8-bit multiplier and a 32-bit accumulator adder; datapath areas are given at the table's
reference node and scaled by the ratio of gate areas. An architecture without `technology:` has no area:
`arch_area` returns None (reported as "—", never 0).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tinysim.arch import Arch, ComputeUnit, MemoryLevel
from tinysim.errors import SpecError
from tinysim.schema.fields import Bound, Where, block, expect_mapping, get_quantity, get_str
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension

__all__ = ["TABLE_PATH", "AreaBreakdown", "NodeArea", "TechnologyTable", "arch_area", "arch_area_m2", "load_table"]

TABLE_PATH = Path(__file__).resolve().parents[1] / "arch" / "technology.yaml"


@dataclass(frozen=True)
class NodeArea:
    name: str
    sram_bit_cell_m2: float
    gate_m2: float  # one NAND2 gate equivalent, placed and routed


@dataclass(frozen=True)
class TechnologyTable:
    """technology.yaml, parsed: per-node cells and gates, and the node-independent factors."""

    nodes: Mapping[str, NodeArea]
    factors: Mapping[str, float]  # memory:, units: and die: entries by key (SI units)
    reference_node: str
    datapath_m2: Mapping[str, float]  # adder_8b, adder_32b, multiplier_8b at the reference node
    core_gates: Mapping[str, float]

    def datapath(self, name: str, node: str) -> float:
        """A datapath block's area at `node`, scaled from the reference node by gate area."""
        return self.datapath_m2[name] * self.nodes[node].gate_m2 / self.nodes[self.reference_node].gate_m2

    def mac(self, node: str) -> float:
        return self.datapath("multiplier_8b", node) + self.datapath("adder_32b", node)


@dataclass(frozen=True)
class AreaBreakdown:
    """Area by block (SI m²): each memory, each compute unit, and the I/O ring that makes them a die."""

    node: str
    memories_m2: Mapping[str, float]
    units_m2: Mapping[str, float]
    io_ring_m2: float

    @property
    def blocks_m2(self) -> float:
        return sum(self.memories_m2.values()) + sum(self.units_m2.values())

    @property
    def total_m2(self) -> float:
        return self.blocks_m2 + self.io_ring_m2


def _entries(data: Mapping[str, Any], key: str, where: Where, dims: Mapping[str, Dimension]) -> dict[str, float]:
    here = where.key(data, key)
    m = block(data[key], here, allowed=tuple(dims))
    return {k: get_quantity(m, k, here, dims[k], bound=Bound.POSITIVE) for k in dims if k in m}


@functools.lru_cache(maxsize=4)
def load_table(path: Path = TABLE_PATH) -> TechnologyTable:
    """Read and check the technology table (a SpecError with file, line and field when it is wrong)."""
    data = load_yaml(path)
    where = Where(file=str(path), line=line_of(data), notes={})
    top = block(
        data,
        where,
        allowed=("version", "sources", "nodes", "memory", "datapath", "cores", "units", "die"),
        required=("nodes", "memory", "datapath", "cores", "units", "die"),
    )
    area, length, number = Dimension.AREA, Dimension.LENGTH, Dimension.DIMENSIONLESS
    here = where.key(top, "nodes")
    nodes = {}
    for name in expect_mapping(top["nodes"], here, "a mapping of nodes by name (40nm: ...)"):
        values = _entries(top["nodes"], name, here, {"sram_bit_cell": area, "gate": area})
        nodes[name] = NodeArea(name, values["sram_bit_cell"], values["gate"])
    factors = {
        **_entries(
            top, "memory", where, {"sram_efficiency": number, "nvm_cell_ratio": number, "nvm_efficiency": number}
        ),
        **_entries(top, "units", where, {k: number for k in _UNIT_FACTORS} | {"adc_8b": area}),
        **_entries(top, "die", where, {"io_ring_depth": length}),
    }
    missing = [
        k
        for k in (*_UNIT_FACTORS, "adc_8b", "sram_efficiency", "nvm_cell_ratio", "nvm_efficiency", "io_ring_depth")
        if k not in factors
    ]
    if missing:
        raise SpecError(f"missing required keys: {', '.join(missing)}", file=str(path))
    dp = where.key(top, "datapath")
    datapath_block = block(top["datapath"], dp, allowed=("reference_node", *_DATAPATH), required=_DATAPATH)
    reference = get_str(datapath_block, "reference_node", dp)
    if reference not in nodes:
        raise dp.key(datapath_block, "reference_node").fail(f'expected one of the nodes, got "{reference}"')
    datapath = {k: get_quantity(datapath_block, k, dp, area, bound=Bound.POSITIVE) for k in _DATAPATH}
    cores = _entries(top, "cores", where, {k: number for k in top["cores"]})
    return TechnologyTable(
        MappingProxyType(nodes),
        MappingProxyType(factors),
        reference,
        MappingProxyType(datapath),
        MappingProxyType(cores),
    )


_DATAPATH = ("adder_8b", "adder_32b", "multiplier_8b")
_UNIT_FACTORS = (
    "mcu_default_gates",
    "dsp_gates",
    "npu_control_gates",
    "mvp_control_gates",
    "systolic_pe_overhead",
    "imc_columns_per_adc",
)


def memory_area_m2(memory: MemoryLevel, node: str, table: TechnologyTable, *, nvm: bool = False) -> float:
    """bits x cell area / array efficiency (flash: the node's SRAM cell x `nvm_cell_ratio`)."""
    f, cell = table.factors, table.nodes[node].sram_bit_cell_m2
    if nvm:
        return memory.size_bytes * 8 * cell * f["nvm_cell_ratio"] / f["nvm_efficiency"]
    return memory.size_bytes * 8 * cell / f["sram_efficiency"]


def unit_area_m2(unit: ComputeUnit, arch: Arch, node: str, table: TechnologyTable) -> float:
    """The area of one compute unit by its kind (see the module docstring)."""
    f, gate, mac = table.factors, table.nodes[node].gate_m2, table.mac(node)
    kind = unit.kind
    if kind == "mcu":
        core = getattr(unit, "core", None)
        gates = table.core_gates.get(core.name, f["mcu_default_gates"]) if core else f["mcu_default_gates"]
        return gates * gate
    if kind == "dsp":
        return f["dsp_gates"] * gate + unit.macs_per_cycle * mac  # type: ignore[attr-defined]
    if kind == "npu":
        return f["npu_control_gates"] * gate + unit.macs_per_cycle * mac  # type: ignore[attr-defined]
    if kind == "mvp":
        return f["mvp_control_gates"] * gate + unit.macs_per_step * mac  # type: ignore[attr-defined]
    if kind == "systolic":
        return unit.rows * unit.cols * mac * f["systolic_pe_overhead"]  # type: ignore[attr-defined]
    if kind == "imc":
        return _imc_area_m2(unit, arch, node, table)
    raise SpecError(f'no area model for compute kind "{kind}"', file=arch.path, field=f"compute.{unit.name}")


def _imc_area_m2(unit: Any, arch: Arch, node: str, table: TechnologyTable) -> float:
    """Cells beyond the weights memory (the arrays usually are that memory), plus converters or adders."""
    f = table.factors
    cells = unit.arrays * unit.rows * unit.columns
    counted = arch.memory(unit.weights_in).size_bytes * 8
    extra_cells_m2 = max(cells - counted, 0) * table.nodes[node].sram_bit_cell_m2 / f["sram_efficiency"]
    if unit.mode.value == "analog":
        adcs = math.ceil(unit.arrays * unit.columns / f["imc_columns_per_adc"])
        return extra_cells_m2 + adcs * f["adc_8b"] * 2.0 ** (unit.adc_bits - 8)
    return extra_cells_m2 + unit.active_arrays * unit.columns * table.datapath("adder_8b", node)


def arch_area(arch: Arch, table: TechnologyTable | None = None) -> AreaBreakdown | None:
    """Area by block of `arch` at its technology node; None when the architecture names no node."""
    if arch.technology is None:
        return None
    table = table or load_table()
    node = arch.technology.node
    if node not in table.nodes:
        raise SpecError(
            f'node "{node}" is not in {TABLE_PATH.name} ({", ".join(table.nodes)})', file=arch.path, field="technology"
        )
    memories = {
        m.name: memory_area_m2(m, node, table, nvm=m.name in arch.technology.nvm_memories) for m in arch.memories
    }
    units = {u.name: unit_area_m2(u, arch, node, table) for u in arch.compute}
    blocks = sum(memories.values()) + sum(units.values())
    depth = table.factors["io_ring_depth"]
    ring = (math.sqrt(blocks) + 2 * depth) ** 2 - blocks
    return AreaBreakdown(node, MappingProxyType(memories), MappingProxyType(units), ring)


def arch_area_m2(arch: Arch) -> float | None:
    """The die area of `arch` (m²), or None without `technology:`."""
    area = arch_area(arch)
    return None if area is None else area.total_m2
