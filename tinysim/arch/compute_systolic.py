"""`kind: systolic` — an R x C array of multiply-accumulate PEs fed from three SRAM buffers.

The array runs the MAC ops (conv, depthwise, fully connected) as GEMMs in one of three dataflows
(output, weight or input stationary), the way SCALE-Sim's compute unit does; the cost model
(tinysim/cost/systolic.py) does the fold / fill / drain arithmetic. Operands stream from
`ifmap_buffer` and `filter_buffer`, results go to `ofmap_buffer`; the buffers are filled from
`activations_in` / `weights_in`. Energies are given at `nominal_voltage` and scaled by
(V / V_nominal)^2 by the cost model.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.arch.compute import COMMON_FIELDS, ComputeContext, common_unit_fields, get_memory, get_runs
from tinysim.ops import MAC_OPS, OpKind
from tinysim.schema.fields import Bound, Where, block, get_enum, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Choice, Integer, Quantity, Ref, Text
from tinysim.units import Dimension

KIND = "systolic"


class Dataflow(enum.Enum):
    """Which operand stays in the PEs while the other two stream through."""

    OUTPUT_STATIONARY = "output_stationary"
    WEIGHT_STATIONARY = "weight_stationary"
    INPUT_STATIONARY = "input_stationary"


FIELDS = Block(
    {
        "kind": Text(),
        **COMMON_FIELDS,
        "rows": Integer(bound=Bound.POSITIVE),
        "cols": Integer(bound=Bound.POSITIVE),
        "dataflow": Choice(tuple(d.value for d in Dataflow)),
        "mac_energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "pe_cycle_energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "accumulator_width": Integer(Dimension.SIZE, Bound.POSITIVE),
        "ifmap_buffer": Ref("memory"),
        "filter_buffer": Ref("memory"),
        "ofmap_buffer": Ref("memory"),
    },
    required=(
        "kind",
        "rows",
        "cols",
        "dataflow",
        "mac_energy",
        "nominal_voltage",
        "ifmap_buffer",
        "filter_buffer",
        "ofmap_buffer",
        "weights_in",
        "activations_in",
    ),
)
_KEYS, _REQUIRED = FIELDS.keys, FIELDS.required


@dataclass(frozen=True)
class SystolicUnit:
    """A rows x cols MAC array; `runs` is a subset of the MAC op kinds (all three when not given)."""

    name: str
    kind: str
    rows: int
    cols: int
    dataflow: Dataflow
    mac_energy_j: float  # one int8 multiply + accumulator add
    nominal_voltage_v: float
    ifmap_buffer: str
    filter_buffer: str
    ofmap_buffer: str
    weights_in: str
    activations_in: str
    pe_cycle_energy_j: float = 0.0  # clock and pipeline registers of one PE for one cycle, busy or idle
    accumulator_bytes: int = 4  # partial sums written back between folds of the reduction
    description: str = ""
    runs: frozenset[OpKind] = MAC_OPS
    schemes: frozenset[str] = frozenset()  # quantization schemes it computes in; empty means all


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> SystolicUnit:
    """Build a SystolicUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)
    runs = get_runs(m, "runs", where) or MAC_OPS
    other = sorted(k.value for k in runs - MAC_OPS)
    if other:
        allowed = ", ".join(sorted(k.value for k in MAC_OPS))
        raise where.key(m, "runs").fail(f"a systolic array runs only {allowed}; got {', '.join(other)}")
    return SystolicUnit(
        name=name,
        kind=KIND,
        rows=get_int(m, "rows", where, bound=Bound.POSITIVE),
        cols=get_int(m, "cols", where, bound=Bound.POSITIVE),
        dataflow=get_enum(m, "dataflow", where, Dataflow),
        mac_energy_j=get_quantity(m, "mac_energy", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        pe_cycle_energy_j=get_quantity(
            m, "pe_cycle_energy", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE, default=0.0
        ),        accumulator_bytes=get_int(m, "accumulator_width", where, Dimension.SIZE, bound=Bound.POSITIVE, default=4),
        ifmap_buffer=get_memory(m, "ifmap_buffer", where, ctx),
        filter_buffer=get_memory(m, "filter_buffer", where, ctx),
        ofmap_buffer=get_memory(m, "ofmap_buffer", where, ctx),

        **common_unit_fields(m, where, ctx),
        runs=runs,
    )
