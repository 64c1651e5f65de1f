"""`kind: mvp` — a matrix-vector co-processor in the style of Silicon Labs' MVP (EFR32xG24), driven by
kernels that build small MVP programs (array controllers + a short instruction loop) per op.

Cost per op (tinysim/cost/mvp.py) = overhead + programs x cycles_per_program
+ instructions x cycles_per_instruction, where instructions =
    MAC steps x instructions_per_step          (a step is one packed pair of MACs when the op's
                                                reduction dimension is even, else one MAC)
  + input elements x instructions_per_input    (e.g. a pre-scaling pass over the input)
  + element work x instructions_per_element    (per-output epilogue, clamp pass, pooling taps, adds)
then stretched to the weight/activation memories' bandwidth (roofline). Programs per op: one per
distinct edge sub-filter region of a padded convolution, one per output of a fully-connected layer
whose reduction exceeds the array controllers' dimension limit, else one.
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

KIND = "mvp"

FIELDS = Block(
    {
        "kind": Text(),
        **COMMON_FIELDS,
        "macs_per_step": Integer(bound=Bound.POSITIVE),
        "max_dimension": Integer(bound=Bound.POSITIVE),
        "cycles_per_instruction": Quantity(Dimension.CYCLES, Bound.POSITIVE),
        "instructions_per_step": Ref("op_table"),
        "instructions_per_input": Ref("op_table"),
        "instructions_per_element": Ref("op_table"),
        "cycles_per_program": Quantity(Dimension.CYCLES, Bound.NONNEGATIVE),
        "overhead_cycles": Ref("op_table"),
        "energy_per_cycle": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    },
    required=(
        "kind",
        "cycles_per_instruction",
        "instructions_per_step",
        "instructions_per_element",
        "cycles_per_program",
        "overhead_cycles",
        "energy_per_cycle",
        "nominal_voltage",
        "weights_in",
        "activations_in",
    ),
)
_KEYS, _REQUIRED = FIELDS.keys, FIELDS.required


@dataclass(frozen=True)
class MvpUnit:
    """A packed-pair matrix-vector unit run by per-op programs; see the module docstring."""

    name: str
    kind: str
    macs_per_step: int
    max_dimension: int
    cycles_per_instruction: float
    instructions_per_step: OpTable
    instructions_per_input: OpTable
    instructions_per_element: OpTable
    cycles_per_program: float
    overhead_cycles: OpTable
    energy_per_cycle_j: float
    nominal_voltage_v: float
    weights_in: str
    activations_in: str
    description: str = ""
    runs: frozenset[OpKind] = frozenset()
    schemes: frozenset[str] = frozenset()  # quantization schemes it computes in; empty means all


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> MvpUnit:
    """Build an MvpUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)
    return MvpUnit(
        name=name,
        kind=KIND,
        macs_per_step=get_int(m, "macs_per_step", where, bound=Bound.POSITIVE, default=2),
        max_dimension=get_int(m, "max_dimension", where, bound=Bound.POSITIVE, default=1024),
        cycles_per_instruction=get_quantity(
            m, "cycles_per_instruction", where, Dimension.CYCLES, bound=Bound.POSITIVE),
        instructions_per_step=get_op_table(m, "instructions_per_step", where),
        instructions_per_input=get_op_table(m, "instructions_per_input", where)
        if "instructions_per_input" in m else OpTable(default=0.0),
        instructions_per_element=get_op_table(m, "instructions_per_element", where),
        cycles_per_program=get_quantity(m, "cycles_per_program", where, Dimension.CYCLES, bound=Bound.NONNEGATIVE),
        overhead_cycles=get_op_table(m, "overhead_cycles", where),
        energy_per_cycle_j=get_quantity(m, "energy_per_cycle", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        **common_unit_fields(m, where, ctx),
        runs=get_runs(m, "runs", where),
    )
