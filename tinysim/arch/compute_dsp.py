"""`kind: dsp` — a fixed-point DSP with N parallel MACs and zero-overhead loops (e.g. NXP CoolFlux).

A DSP kernel keeps one reduction loop innermost (a filter row — kernel width × input channels — of
a convolution, the input features of a fully-connected layer, the channels of a depthwise tap) and
issues `macs_per_cycle` MACs at a
time from it; MACs of different inner loops are never paired. Per op:

    cycles = overhead + loops × (ceil(L / macs_per_cycle) × cycles_per_issue + cycles_per_loop)
           + elements × cycles_per_element

where L is the inner-loop length and `loops` = MACs / L (padding taps skipped). int8 operands sit
in 16-bit lanes, so a 16-bit dual-MAC DSP does 2 int8 MACs per cycle — no 4×8-bit packing.

Clock and voltage: the unit runs at the architecture's operating point (same V and f as the host
core). Chips like the ECM3532 give the DSP its own buck, but set both from one CVFS table, so one
operating point per chip is the simplest honest model. Energy per cycle is given at
`nominal_voltage` and scaled by (V / V_nominal)² by the cost model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.arch.compute import COMMON_FIELDS, ComputeContext, common_unit_fields, get_op_table, get_runs
from tinysim.arch.model import OpTable
from tinysim.ops import OpKind
from tinysim.schema.fields import Bound, Where, block, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Integer, Quantity, Ref, Text
from tinysim.units import Dimension

KIND = "dsp"

FIELDS = Block(
    {
        "kind": Text(),
        **COMMON_FIELDS,
        "macs_per_cycle": Integer(bound=Bound.POSITIVE),
        "cycles_per_issue": Ref("op_table"),
        "cycles_per_loop": Ref("op_table"),
        "overhead_cycles": Ref("op_table"),
        "cycles_per_element": Ref("op_table"),
        "energy_per_cycle": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    },
    required=(
        "kind",
        "macs_per_cycle",
        "overhead_cycles",
        "cycles_per_loop",
        "cycles_per_element",
        "energy_per_cycle",
        "nominal_voltage",
        "weights_in",
        "activations_in",
    ),
)
_KEYS, _REQUIRED = FIELDS.keys, FIELDS.required


_ONE_CYCLE = OpTable(default=1.0)  # an ideal pipeline: one issue of `macs_per_cycle` MACs per cycle


@dataclass(frozen=True)
class DspUnit:
    """A DSP core: MACs issued per cycle, cycles per issue / loop start / element / op, energy per cycle."""

    name: str
    kind: str
    macs_per_cycle: int
    overhead_cycles: OpTable
    cycles_per_loop: OpTable
    cycles_per_element: OpTable
    energy_per_cycle_j: float
    nominal_voltage_v: float
    weights_in: str
    activations_in: str
    description: str = ""
    runs: frozenset[OpKind] = frozenset()
    schemes: frozenset[str] = frozenset()  # quantization schemes it computes in; empty means all
    cycles_per_issue: OpTable = _ONE_CYCLE


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> DspUnit:
    """Build a DspUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)
    return DspUnit(
        name=name,
        kind=KIND,
        macs_per_cycle=get_int(m, "macs_per_cycle", where, bound=Bound.POSITIVE),
        overhead_cycles=get_op_table(m, "overhead_cycles", where),
        cycles_per_loop=get_op_table(m, "cycles_per_loop", where),
        cycles_per_element=get_op_table(m, "cycles_per_element", where),
        energy_per_cycle_j=get_quantity(m, "energy_per_cycle", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        **common_unit_fields(m, where, ctx),
        runs=get_runs(m, "runs", where),
        cycles_per_issue=get_op_table(m, "cycles_per_issue", where) if "cycles_per_issue" in m else _ONE_CYCLE,
    )
