"""`kind: mcu` — a microcontroller core running a kernel library (e.g. TFLite Micro on a Cortex-M).

Cost per op = overhead + MACs × cycles_per_mac / simd_macs_per_cycle + taps × cycles_per_tap
+ elements × cycles_per_element cycles, where a tap is one start of the innermost MAC loop (one
filter position of one output: bounds checks and address setup in TFLM-style kernels); energy per cycle is given at `nominal_voltage` and scaled by (V / V_nominal)² by the
cost model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.spec.compute import ComputeContext, get_memory, get_op_table, get_runs
from tinysim.spec.fields import Bound, Where, block, get_int, get_quantity, get_str
from tinysim.spec.model import OpTable
from tinysim.units import Dimension
from tinysim.workload.graph import OpKind

KIND = "mcu"

_KEYS = (
    "kind",
    "description",
    "simd_macs_per_cycle",
    "cycles_per_mac",
    "overhead_cycles",
    "cycles_per_element",
    "energy_per_cycle",
    "cycles_per_tap",
    "nominal_voltage",
    "weights_in",
    "activations_in",
    "runs",
)
_REQUIRED = (
    "cycles_per_mac",
    "overhead_cycles",
    "cycles_per_element",
    "energy_per_cycle",
    "nominal_voltage",
    "weights_in",
    "activations_in",
)


@dataclass(frozen=True)
class McuUnit:
    """A scalar/SIMD core; op tables give cycles per MAC, fixed cycles per op, cycles per element."""

    name: str
    kind: str
    simd_macs_per_cycle: int
    cycles_per_mac: OpTable
    overhead_cycles: OpTable
    cycles_per_element: OpTable
    energy_per_cycle_j: float
    nominal_voltage_v: float
    weights_in: str
    activations_in: str
    description: str = ""
    runs: frozenset[OpKind] = frozenset()
    cycles_per_tap: OpTable = OpTable(default=0.0)

    def cycles_per_mac_for(self, kind: OpKind) -> float:
        return self.cycles_per_mac.for_op(kind)

    def overhead_cycles_for(self, kind: OpKind) -> float:
        return self.overhead_cycles.for_op(kind)

    def cycles_per_element_for(self, kind: OpKind) -> float:
        return self.cycles_per_element.for_op(kind)

    def cycles_per_tap_for(self, kind: OpKind) -> float:
        return self.cycles_per_tap.for_op(kind)


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> McuUnit:
    """Build an McuUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)
    return McuUnit(
        name=name,
        kind=KIND,
        simd_macs_per_cycle=get_int(m, "simd_macs_per_cycle", where, bound=Bound.POSITIVE, default=1),
        cycles_per_mac=get_op_table(m, "cycles_per_mac", where),
        overhead_cycles=get_op_table(m, "overhead_cycles", where),
        cycles_per_element=get_op_table(m, "cycles_per_element", where),
        energy_per_cycle_j=get_quantity(m, "energy_per_cycle", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        nominal_voltage_v=get_quantity(m, "nominal_voltage", where, Dimension.VOLTAGE, bound=Bound.POSITIVE),
        weights_in=get_memory(m, "weights_in", where, ctx),
        activations_in=get_memory(m, "activations_in", where, ctx),
        description=get_str(m, "description", where, default=""),
        runs=get_runs(m, "runs", where),
        cycles_per_tap=get_op_table(m, "cycles_per_tap", where) if "cycles_per_tap" in m else OpTable(default=0.0),
    )
