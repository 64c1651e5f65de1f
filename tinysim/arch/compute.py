"""Compute-unit kinds are plug-ins: a module `tinysim/arch/compute_<kind>.py` adds one.

Each such module defines `KIND = "<kind>"` and
`parse(name: str, block: Mapping, where: Where, ctx: ComputeContext) -> ComputeUnit`, and it is found
by its file name the first time a spec is parsed; nothing else needs editing. The
helpers below read the fields most kinds share (op tables, `runs:`, memory names).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

import tinysim.arch
from tinysim.arch.model import ComputeUnit, OpTable
from tinysim.ops import SCHEMES, OpKind
from tinysim.schema.fields import (
    NOTE_KEYS,
    Bound,
    Where,
    block,
    closest,
    expect_list,
    expect_mapping,
    get_choice,
    get_quantity,
    get_str,
    quantity,
)
from tinysim.schema.jsonschema import Field, Quantity, Ref, Text
from tinysim.units import Dimension
from tinysim.units.quantity import describe_value

__all__ = ["ComputeContext", "common_unit_fields", "compute_kinds", "get_memory", "get_op_table", "get_runs", "get_schemes", "parse_compute_unit"]

ParseFn = Callable[[str, Mapping[str, Any], Where, "ComputeContext"], ComputeUnit]


@dataclass(frozen=True)
class ComputeContext:
    """What a compute-unit parser may refer to besides its own block."""

    memory_names: tuple[str, ...]


@cache
def compute_kinds() -> Mapping[str, ParseFn]:
    """`{kind: parse}` for every `compute_<kind>.py` module of this package."""
    kinds: dict[str, ParseFn] = {}
    for info in pkgutil.iter_modules(tinysim.arch.__path__):
        if info.name.startswith("compute_"):
            module = importlib.import_module(f"tinysim.arch.{info.name}")
            kinds[module.KIND] = module.parse
    return MappingProxyType(kinds)


def parse_compute_unit(name: str, value: Any, where: Where, ctx: ComputeContext) -> ComputeUnit:
    """The block `compute.<name>`, dispatched on its `kind:`."""
    mapping = expect_mapping(value, where, 'a compute unit mapping with a "kind:"')
    kinds = compute_kinds()
    kind = get_str(mapping, "kind", where)
    if kind not in kinds:
        raise where.key(mapping, "kind").fail(
            f"expected a compute kind ({', '.join(sorted(kinds))}), got {describe_value(kind)}{closest(kind, kinds)}"
        )
    return kinds[kind](name, mapping, where, ctx)


def get_op_table(mapping: Mapping[str, Any], key: str, where: Where, *, bound: Bound = Bound.NONNEGATIVE) -> OpTable:
    """`{CONV_2D: 8, ..., default: 10}` (op kind names + a required default), or a bare number = default."""
    here = where.key(mapping, key)
    if key not in mapping:
        raise here.fail(f'missing required key "{key}" (a mapping like {{CONV_2D: 8, default: 10}})')
    value = mapping[key]
    if not isinstance(value, Mapping) or "value" in value:
        return OpTable(default=quantity(value, here, Dimension.CYCLES, bound))
    names = [k.value for k in OpKind] + ["default"]
    table = block(value, here, allowed=names, required=())  # also records source:/assumed: notes
    per_op: dict[OpKind, float] = {}
    for name, number in table.items():
        if name in NOTE_KEYS:
            continue
        if name not in names:
            raise here.key(table, name).fail(
                f'expected an op kind or "default", got {describe_value(name)}{closest(name, names)}; '
                f"op kinds: {', '.join(names)}"
            )
        if name != "default":
            per_op[OpKind(name)] = quantity(number, here.key(table, name), Dimension.CYCLES, bound)
    if "default" not in table:
        raise here.fail('missing "default" (used for op kinds not listed)')
    default = quantity(table["default"], here.key(table, "default"), Dimension.CYCLES, bound)
    return OpTable(default=default, per_op=MappingProxyType(per_op))


def get_runs(mapping: Mapping[str, Any], key: str, where: Where) -> frozenset[OpKind]:
    """Optional list of op kinds the unit executes; absent means every kind."""
    if key not in mapping:
        return frozenset()
    here = where.key(mapping, key)
    items = expect_list(mapping[key], here, "a list of op kinds like [CONV_2D, FULLY_CONNECTED]")
    names = [k.value for k in OpKind]
    kinds = set()
    for index, name in enumerate(items):
        if name not in names:
            raise here.item(items, index).fail(f"expected an op kind, got {describe_value(name)}{closest(name, names)}")
        kinds.add(OpKind(name))
    return frozenset(kinds)


def get_memory(mapping: Mapping[str, Any], key: str, where: Where, ctx: ComputeContext) -> str:
    """The name of a memory defined under `memories:`."""
    return get_choice(mapping, key, where, ctx.memory_names, "a memory name")


# The fields every compute kind has (read by `common_unit_fields`), declared once for each kind's FIELDS block.
COMMON_FIELDS: dict[str, Field] = {
    "description": Text(),
    "nominal_voltage": Quantity(Dimension.VOLTAGE, Bound.POSITIVE),
    "weights_in": Ref("memory"),
    "activations_in": Ref("memory"),
    "runs": Ref("op_kinds"),
    "schemes": Ref("schemes"),
}


def common_unit_fields(mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> dict[str, Any]:
    """Fields every compute kind has: the voltage its energies are quoted at, where its weights and
    activations live, and a description (keyword arguments for the kind's dataclass)."""
    return {
        "nominal_voltage_v": get_quantity(mapping, "nominal_voltage", where, Dimension.VOLTAGE, bound=Bound.POSITIVE),
        "weights_in": get_memory(mapping, "weights_in", where, ctx),
        "activations_in": get_memory(mapping, "activations_in", where, ctx),
        "description": get_str(mapping, "description", where, default=""),
        "schemes": get_schemes(mapping, "schemes", where),
    }


def get_schemes(mapping: Mapping[str, Any], key: str, where: Where) -> frozenset[str]:
    """Optional list of the quantization schemes the unit computes in (tinysim.ops.SCHEMES); absent
    means every scheme. An op in another scheme falls back to the next unit that runs it."""
    if key not in mapping:
        return frozenset()
    here = where.key(mapping, key)
    items = expect_list(mapping[key], here, f"a list of quantization schemes like [int8, uint8] ({', '.join(SCHEMES)})")
    for index, name in enumerate(items):
        if name not in SCHEMES:
            raise here.item(items, index).fail(
                f"expected a quantization scheme ({', '.join(SCHEMES)}), got {describe_value(name)}{closest(name, SCHEMES)}"
            )
    return frozenset(items)
