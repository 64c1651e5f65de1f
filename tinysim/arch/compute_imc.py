"""`kind: imc` — in-memory (or near-memory) compute arrays holding the weights stationary.

An array is `rows` x `columns` one-bit weight cells; a weight of `weight_bits` bits takes that many
adjacent columns (bit-sliced), so an array holds `rows` x `columns // weight_bits` weights. Inputs are
applied bit-serially: one array activation drives up to `rows` input bits of one bit-plane, and an
8-bit input takes 8 activations (`input_bits`). `arrays` is how many arrays the chip has (the weight
capacity); `active_arrays` how many may fire in the same activation slot (shared periphery or power
limits; default all).

Modes:
  digital  near-memory, exact: each read cell column is summed by an adder tree and shift-added into
           its output accumulator (one digital accumulate per read column per activation); no ADC.
  analog   the column sums are read by an ADC: one conversion per read column per activation; an
           ADC of `adc_bits` resolves at most 2**adc_bits - 1 one-bit products exactly, so at most
           that many rows are activated together (ADC-limited row parallelism).

Energy of one array activation (all at `nominal_voltage`, scaled by (V / V_nominal)^2 by the cost model):
  energy_per_activation   fixed periphery: address decode, control and timing of the macro, paid once
                          per activation however few cells it uses;
  energy_per_cell         per cell read: each crossing of a driven row (wordline) and a read cell column
                          (bitline) -- the bitline evaluation, the one-bit product and its adder-tree input;
                          rows and columns an activation does not use are assumed gated (not driven, not
                          precharged), so an activation pays for the driven rows x read columns its
                          weights span (blocks on an array's diagonal: the zero cells between them too);
  energy_per_accumulate   per read cell column: the digital shift-add of its sum into the accumulator;
  energy_per_conversion   per read cell column, analog mode only: one ADC conversion.
No zero skipping is assumed: every cell is charged at every input bit-plane whatever the input bits or
weights are. `energy_per_element` prices non-MAC work (pooling, add) per element. tinysim/cost/imc.py
documents the mapping that counts activations, cells and columns.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.arch.compute import COMMON_FIELDS, ComputeContext, common_unit_fields, get_op_table, get_runs
from tinysim.arch.model import OpTable
from tinysim.ops import OpKind
from tinysim.schema.fields import Bound, Where, block, get_enum, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Choice, Integer, Quantity, Ref, Text
from tinysim.units import Dimension

KIND = "imc"


class ImcMode(enum.Enum):
    DIGITAL = "digital"
    ANALOG = "analog"


FIELDS = Block(
    {
        "kind": Text(),
        **COMMON_FIELDS,
        "mode": Choice(tuple(m.value for m in ImcMode)),
        "rows": Integer(bound=Bound.POSITIVE),
        "columns": Integer(bound=Bound.POSITIVE),
        "arrays": Integer(bound=Bound.POSITIVE),
        "active_arrays": Integer(bound=Bound.POSITIVE),
        "weight_bits": Integer(bound=Bound.POSITIVE),
        "input_bits": Integer(bound=Bound.POSITIVE),
        "adc_bits": Integer(bound=Bound.POSITIVE),
        "cycles_per_activation": Quantity(Dimension.CYCLES, Bound.POSITIVE),
        "overhead_cycles": Ref("op_table"),
        "cycles_per_element": Ref("op_table"),
        "energy_per_activation": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "energy_per_cell": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "energy_per_conversion": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "energy_per_accumulate": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "energy_per_element": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    },
    required=(
        "kind",
        "mode",
        "rows",
        "columns",
        "arrays",
        "weight_bits",
        "input_bits",
        "cycles_per_activation",
        "energy_per_activation",
        "energy_per_cell",
        "energy_per_accumulate",
        "nominal_voltage",
        "weights_in",
        "activations_in",
    ),
)
_KEYS, _REQUIRED = FIELDS.keys, FIELDS.required


@dataclass(frozen=True)
class ImcUnit:
    """Weight-stationary compute arrays; see the module docstring for what each number means."""

    name: str
    kind: str
    mode: ImcMode
    rows: int
    columns: int
    arrays: int
    active_arrays: int
    weight_bits: int
    input_bits: int
    adc_bits: int
    cycles_per_activation: float
    overhead_cycles: OpTable
    cycles_per_element: OpTable
    energy_per_activation_j: float
    energy_per_cell_j: float
    energy_per_conversion_j: float
    energy_per_accumulate_j: float
    energy_per_element_j: float
    nominal_voltage_v: float
    weights_in: str
    activations_in: str
    description: str = ""
    runs: frozenset[OpKind] = frozenset()
    schemes: frozenset[str] = frozenset()  # quantization schemes it computes in; empty means all

    @property
    def weights_per_row(self) -> int:
        """Weights side by side in one row of an array (each takes `weight_bits` cell columns)."""
        return self.columns // self.weight_bits

    @property
    def rows_per_activation(self) -> int:
        """Rows driven together: all of them, or what the ADC resolves exactly in analog mode."""
        if self.mode is ImcMode.ANALOG:
            return min(self.rows, 2**self.adc_bits - 1)
        return self.rows

    @property
    def capacity_weights(self) -> int:
        return self.arrays * self.rows * self.weights_per_row


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> ImcUnit:
    """Build an ImcUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)
    mode = get_enum(m, "mode", where, ImcMode)
    arrays = get_int(m, "arrays", where, bound=Bound.POSITIVE)
    columns = get_int(m, "columns", where, bound=Bound.POSITIVE)
    weight_bits = get_int(m, "weight_bits", where, bound=Bound.POSITIVE)
    if not 1 <= weight_bits <= 8:
        raise where.key(m, "weight_bits").fail(f"expected 1 to 8 bits per weight, got {weight_bits}")
    if weight_bits > columns:
        raise where.key(m, "weight_bits").fail(
            f"a {weight_bits}-bit weight needs {weight_bits} cell columns; the array has only {columns}"
        )
    input_bits = get_int(m, "input_bits", where, bound=Bound.POSITIVE)
    if not 1 <= input_bits <= 16:
        raise where.key(m, "input_bits").fail(f"expected 1 to 16 input bits, got {input_bits}")
    active = get_int(m, "active_arrays", where, bound=Bound.POSITIVE, default=arrays)
    if active > arrays:
        raise where.key(m, "active_arrays").fail(f"expected at most arrays ({arrays}), got {active}")
    analog = mode is ImcMode.ANALOG
    for key in ("adc_bits", "energy_per_conversion"):
        if analog and key not in m:
            raise where.key(m, key).fail(f'missing required key "{key}" (mode analog reads columns with an ADC)')
    adc_bits = get_int(m, "adc_bits", where, bound=Bound.POSITIVE, default=0)
    if analog and not 1 <= adc_bits <= 16:
        raise where.key(m, "adc_bits").fail(f"expected 1 to 16 ADC bits, got {adc_bits}")
    energy = Dimension.ENERGY
    return ImcUnit(
        name=name,
        kind=KIND,
        mode=mode,
        rows=get_int(m, "rows", where, bound=Bound.POSITIVE),
        columns=columns,
        arrays=arrays,
        active_arrays=active,
        weight_bits=weight_bits,
        input_bits=input_bits,
        adc_bits=adc_bits,
        cycles_per_activation=get_quantity(m, "cycles_per_activation", where, Dimension.CYCLES, bound=Bound.POSITIVE),
        overhead_cycles=get_op_table(m, "overhead_cycles", where) if "overhead_cycles" in m else OpTable(0.0),
        cycles_per_element=get_op_table(m, "cycles_per_element", where) if "cycles_per_element" in m else OpTable(0.0),
        energy_per_activation_j=get_quantity(m, "energy_per_activation", where, energy, bound=Bound.NONNEGATIVE),
        energy_per_cell_j=get_quantity(m, "energy_per_cell", where, energy, bound=Bound.NONNEGATIVE),
        energy_per_conversion_j=get_quantity(
            m, "energy_per_conversion", where, energy, bound=Bound.NONNEGATIVE, default=0.0
        ),
        energy_per_accumulate_j=get_quantity(m, "energy_per_accumulate", where, energy, bound=Bound.NONNEGATIVE),
        energy_per_element_j=get_quantity(m, "energy_per_element", where, energy, bound=Bound.NONNEGATIVE, default=0.0),
        **common_unit_fields(m, where, ctx),
        runs=get_runs(m, "runs", where),
    )
