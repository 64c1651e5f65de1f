"""Architecture YAML (schema version 1) → `Arch`, with `FILE:LINE: field.path: message` errors.

Top level: `version: 1`, `name`, `description`, `sources` (key → citation), `operating_points`
(list), `compute` (name → unit with a `kind:`), `memories` (name → level), `power_states`
(`sleep` required; `idle`, `active` optional). Quantities are "3.2 pJ"-style strings, bare
numbers in SI base units, or `{value: ..., source: ...}` / `{value: ..., assumed: ...}`;
blocks with fixed keys may carry `source:` / `assumed:` too. See archs/stm32l4r5.yaml.

A variant says `extends: ndp100` (a shipped architecture) or `extends: ../my/base.yaml` (relative to
the file) and writes only what differs: mappings merge key by key with the variant's value winning,
lists and scalars are replaced whole (`schema/merge.py`); chains are allowed. See archs/ndp101.yaml.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tinysim.arch.compute import ComputeContext, compute_kinds, parse_compute_unit
from tinysim.arch.model import Arch, ComputeUnit, MemoryLevel, OperatingPoint, PowerState, PowerStateName, Technology
from tinysim.catalog import Shipped, is_name, names, resolve
from tinysim.ops import SCHEMES, OpKind
from tinysim.schema.collect import ErrorCollector
from tinysim.schema.fields import (
    Bound,
    Where,
    block,
    expect_list,
    expect_mapping,
    get_choice,
    get_int,
    get_quantity,
    get_str,
)
from tinysim.schema.files import is_regular_file
from tinysim.schema.jsonschema import (
    Block,
    Choice,
    Field,
    Integer,
    ListOf,
    MapOf,
    Number,
    OneOf,
    Quantity,
    Ref,
    Text,
    document,
)
from tinysim.schema.merge import merge_yaml
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension
from tinysim.units.quantity import describe_value

__all__ = ["SCHEMA_VERSION", "load_arch", "load_arch_yaml", "parse_arch", "resolve_arch_path"]

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # usable in dotted paths (memories.sram.size)
# The blocks this loader reads: their keys go to `block(...)`, and `json_schema()` is generated from them.
_OPERATING_POINT = Block(
    {
        "name": Text(),
        "voltage": Quantity(Dimension.VOLTAGE, Bound.POSITIVE),
        "frequency": Quantity(Dimension.FREQUENCY, Bound.POSITIVE),
        "static_power": Quantity(Dimension.POWER, Bound.NONNEGATIVE),
    },
    required=("name", "voltage", "frequency", "static_power"),
)
_MEMORY = Block(
    {
        "size": Integer(Dimension.SIZE, Bound.POSITIVE),
        "width": Integer(Dimension.SIZE, Bound.POSITIVE),
        "read_energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "read_energy_per_byte": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "write_energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "write_energy_per_byte": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "leakage": Quantity(Dimension.POWER, Bound.NONNEGATIVE),
        "bandwidth": Quantity(Dimension.BANDWIDTH, Bound.POSITIVE),
    },
    required=("size", "width", "leakage"),  # read by get_int / get_quantity without a default
    required_unless={"read_energy_per_byte": ("read_energy",), "write_energy_per_byte": ("write_energy",)},
)
_STATE = Block(
    {
        "power": Quantity(Dimension.POWER, Bound.NONNEGATIVE),
        "wake_latency": Quantity(Dimension.TIME, Bound.NONNEGATIVE),
        "wake_energy": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    },
    required=("power", "wake_latency", "wake_energy"),
)
_POWER_STATES = Block(
    {
        s.value: Block({"power": Quantity(Dimension.POWER, Bound.NONNEGATIVE)}) if s is PowerStateName.ACTIVE else _STATE
        for s in PowerStateName
    },
    required=("sleep",),
)


def _nodes() -> tuple[str, ...]:
    return tuple(load_yaml(_TECHNOLOGY_TABLE)["nodes"])


_NODE = Choice(_nodes)
_TECHNOLOGY = Block({"node": _NODE, "nvm": ListOf(Text())}, required=("node",))
_ARCH = Block(
    {
        "version": Number(minimum=SCHEMA_VERSION, maximum=SCHEMA_VERSION, integer=True),
        "name": Text(),
        "description": Text(),
        "sources": MapOf(Text()),
        "operating_points": ListOf(_OPERATING_POINT, min_items=1),
        "compute": MapOf(Ref("compute_unit"), key_pattern=_NAME.pattern, min_items=1),
        "memories": MapOf(_MEMORY, key_pattern=_NAME.pattern, min_items=1),
        "power_states": _POWER_STATES,
        "technology": OneOf((_NODE, _TECHNOLOGY)),
    },
    required=("name", "operating_points", "compute", "memories", "power_states"),
)
_TOP_KEYS, _TOP_REQUIRED = _ARCH.keys, _ARCH.required


def load_arch(path: str | Path, *, errors: ErrorCollector | None = None) -> Arch:
    """Read and validate the architecture YAML at `path`, or the shipped architecture of that name (a
    collecting `errors`: report every error)."""
    path = resolve(path, Shipped.ARCHS)
    return parse_arch(load_yaml(path), file=str(path), errors=errors)


def load_arch_yaml(path: str | Path) -> Any:
    """The architecture YAML at `path` (or shipped name) with its `extends:` chain merged in (unvalidated)."""
    path = resolve(path, Shipped.ARCHS)
    return _extended(load_yaml(path), str(path), ())


def resolve_arch_path(name_or_path: str, relative_to: Path | None) -> Path:
    """The file of `extends:`: a shipped architecture by name (`ndp100`), or a path (it has a `/` or ends in
    .yaml/.yml) relative to the folder `relative_to` (the current folder when None) unless absolute."""
    if is_name(name_or_path):
        return Shipped.ARCHS.folder / f"{name_or_path}.yaml"
    path = Path(name_or_path)
    return path if path.is_absolute() else (relative_to or Path(".")) / path


def _extended(data: Any, file: str | None, chain: tuple[Path, ...]) -> Any:
    """`data` merged over the architecture its `extends:` names (recursively); `chain`: the files extending it."""
    if not isinstance(data, Mapping) or "extends" not in data:
        return data
    where = Where(file=file, line=line_of(data)).key(data, "extends")
    name = get_str(data, "extends", where)
    here = Path(file).resolve() if file else None
    parent = resolve_arch_path(name, here.parent if here else None)
    if not is_regular_file(parent):
        shipped = ", ".join(names(Shipped.ARCHS))
        hint = f"shipped architectures: {shipped}" if is_name(name) else "paths are relative to this file"
        raise where.fail(f'no architecture "{name}" ({hint})')
    chain = (*chain, here) if here else chain
    if parent.resolve() in chain:
        files = " -> ".join(str(p) for p in (*chain, parent.resolve()))
        raise where.fail(f"extends cycle: {files}")
    base = _extended(load_yaml(parent), str(parent), chain)
    expect_mapping(base, Where(file=str(parent), line=line_of(base)), "an architecture mapping to extend")
    merged = merge_yaml(base, data, parent_file=str(parent), child_file=file)
    del merged["extends"]
    return merged


def parse_arch(data: Any, *, file: str | None = None, errors: ErrorCollector | None = None) -> Arch:
    """Validate already-loaded YAML data (ideally from `load_yaml`, for line numbers) into an `Arch`.

    `extends:` is resolved relative to `file`. Errors raise at the first; with a collecting `errors`, every
    independent part is read and all errors are raised together (`CollectedErrors`).
    """
    errors = errors or ErrorCollector()
    data = _extended(data, file, ())
    notes: dict[str, str] = {}
    where = Where(file=file, line=line_of(data), notes=notes)
    if data is None:  # an empty file: point at its first line, as editors do
        raise Where(file=file, line=1).fail("empty file: expected an architecture starting with `version: 1`")
    top = expect_mapping(data, where, "a mapping of architecture fields (version: 1, name: ..., ...)")
    _check_version(top, where)
    top = block(top, where, allowed=_TOP_KEYS, required=_TOP_REQUIRED, errors=errors)
    # the order in which the first error is found when not collecting (as before `check` collected)
    memories = errors.value(_memories, top, where, errors) if "memories" in top else ()
    name = errors.value(get_str, top, "name", where)
    description = errors.value(get_str, top, "description", where, "")
    sources = errors.value(_sources, top, where)
    points = errors.value(_operating_points, top, where, errors) if "operating_points" in top else ()
    names = _memory_names(top)
    ctx = ComputeContext(memory_names=names or ())
    compute = errors.value(_compute, top, where, ctx, errors) if "compute" in top and names is not None else ()
    states = errors.value(_power_states, top, where, errors) if "power_states" in top else MappingProxyType({})
    technology = errors.value(_technology, top, where, names or ()) if "technology" in top else None
    errors.check()
    return Arch(
        name=name,
        description=description,
        sources=sources,
        operating_points=points,
        compute=compute,
        memories=memories,
        power_states=states,
        path=file,
        notes=MappingProxyType(notes),
        technology=technology,
    )


_TECHNOLOGY_TABLE = Path(__file__).with_name("technology.yaml")


def _technology(top: Mapping[str, Any], where: Where, memory_names: tuple[str, ...]) -> Technology:
    """`technology: 40nm`, or `{node: 40nm, nvm: [flash], source: ...}` (nvm: the memories that are flash)."""
    here = where.key(top, "technology")
    value = top["technology"]
    m = {"node": value} if isinstance(value, str) else block(value, here, allowed=_TECHNOLOGY.keys, required=_TECHNOLOGY.required)
    nodes = tuple(load_yaml(_TECHNOLOGY_TABLE)["nodes"])
    node = get_choice(m, "node", here, nodes, f"a node of {_TECHNOLOGY_TABLE.name}")
    nvm = expect_list(m.get("nvm", []), here.key(m, "nvm"), "a list of memory names")
    for index, name in enumerate(nvm):
        if name not in memory_names:
            raise here.key(m, "nvm").item(nvm, index).fail(
                f"expected a memory name ({', '.join(memory_names)}), got {describe_value(name)}"
            )
    return Technology(node=node, nvm_memories=frozenset(nvm))


def _memory_names(top: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The memory names compute units may refer to, from the keys alone (a memory that fails to parse is still
    a name); None when `memories:` itself is unusable, so compute units are not checked against it."""
    memories = top.get("memories")
    if not isinstance(memories, Mapping) or not memories:
        return None
    return tuple(name for name in memories if isinstance(name, str) and _NAME.match(name))


def _check_version(top: Mapping[str, Any], where: Where) -> None:
    if "version" not in top:
        raise where.fail(f'missing required key "version" (write `version: {SCHEMA_VERSION}` at the top)')
    version = top["version"]
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise where.key(top, "version").fail(
            f"expected version {SCHEMA_VERSION} (the only schema this tinysim reads), got {describe_value(version)}"
        )


def _named(
    top: Mapping[str, Any], key: str, where: Where, what: str, errors: ErrorCollector
) -> list[tuple[str, Any, Where]]:
    """Entries of a `name: {...}` mapping, each name checked (a bad one is left out), at least one entry."""
    here = where.key(top, key)
    mapping = expect_mapping(top[key], here, f"a mapping of {what} by name")
    if not mapping:
        raise here.fail(f"expected at least one {what}, got an empty mapping")
    entries = []
    for name, value in mapping.items():
        with errors.part():
            if not isinstance(name, str) or not _NAME.match(name):
                raise here.key(mapping, name).fail(
                    f"expected a {what} name (letters, digits, _ or -), got {describe_value(name)}"
                )
            entries.append((name, value, here.key(mapping, name)))
    return entries


def _sources(top: Mapping[str, Any], where: Where) -> Mapping[str, str]:
    if "sources" not in top:
        return MappingProxyType({})
    here = where.key(top, "sources")
    mapping = expect_mapping(top["sources"], here, "a mapping of source keys to citations")
    sources = {}
    for key in mapping:
        if not isinstance(key, str):
            raise here.key(mapping, key).fail(f"expected a source key (text), got {describe_value(key)}")
        sources[key] = get_str(mapping, key, here)
    return MappingProxyType(sources)


def _operating_points(top: Mapping[str, Any], where: Where, errors: ErrorCollector) -> tuple[OperatingPoint, ...]:
    here = where.key(top, "operating_points")
    items = expect_list(top["operating_points"], here, "a list of operating points")
    if not items:
        raise here.fail("expected at least one operating point, got an empty list")
    points: list[OperatingPoint] = []
    names: dict[str, int] = {}
    for index, item in enumerate(items):
        with errors.part():
            at = here.item(items, index)
            m = block(item, at, allowed=_OPERATING_POINT.keys, required=("name",))
            name = get_str(m, "name", at)
            if name in names:
                raise at.key(m, "name").fail(
                    f'duplicate operating point name "{name}" (also operating_points[{names[name]}])'
                )
            names[name] = index
            points.append(
                OperatingPoint(
                    name=name,
                    voltage_v=get_quantity(m, "voltage", at, Dimension.VOLTAGE, bound=Bound.POSITIVE),
                    freq_hz=get_quantity(m, "frequency", at, Dimension.FREQUENCY, bound=Bound.POSITIVE),
                    static_power_w=get_quantity(m, "static_power", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
                )
            )
    return tuple(points)


def _per_byte_energy(m: Mapping[str, Any], at: Where, action: str, width_bytes: int) -> float:
    """`<action>_energy` (per access of `width`) or `<action>_energy_per_byte`: exactly one."""
    per_access, per_byte = f"{action}_energy", f"{action}_energy_per_byte"
    if per_access in m and per_byte in m:
        raise at.key(m, per_byte).fail(f'give "{per_access}" (per access of `width`) or "{per_byte}", not both')
    if per_byte in m:
        return get_quantity(m, per_byte, at, Dimension.ENERGY, bound=Bound.NONNEGATIVE)
    if per_access not in m:
        raise at.key(m, per_access).fail(
            f'missing required key "{per_access}" (energy per access of `width`, like "10 pJ") or "{per_byte}"'
        )
    return get_quantity(m, per_access, at, Dimension.ENERGY, bound=Bound.NONNEGATIVE) / width_bytes


_MEMORY_KEYS = _MEMORY.keys


def _memories(top: Mapping[str, Any], where: Where, errors: ErrorCollector) -> tuple[MemoryLevel, ...]:
    return tuple(
        level
        for name, value, at in _named(top, "memories", where, "memory", errors)
        if (level := errors.value(_memory, name, value, at)) is not None
    )


def _memory(name: str, value: Any, at: Where) -> MemoryLevel:
    m = block(value, at, allowed=_MEMORY_KEYS)
    width = get_int(m, "width", at, Dimension.SIZE, bound=Bound.POSITIVE)
    return MemoryLevel(
        name=name,
        size_bytes=get_int(m, "size", at, Dimension.SIZE, bound=Bound.POSITIVE),
        width_bytes=width,
        read_energy_per_byte_j=_per_byte_energy(m, at, "read", width),
        write_energy_per_byte_j=_per_byte_energy(m, at, "write", width),
        leakage_w=get_quantity(m, "leakage", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
        bandwidth_bytes_per_s=get_quantity(m, "bandwidth", at, Dimension.BANDWIDTH, bound=Bound.POSITIVE, default=None),
    )


def _compute(
    top: Mapping[str, Any], where: Where, ctx: ComputeContext, errors: ErrorCollector
) -> tuple[ComputeUnit, ...]:
    return tuple(
        unit
        for name, value, at in _named(top, "compute", where, "compute unit", errors)
        if (unit := errors.value(parse_compute_unit, name, value, at, ctx)) is not None
    )


def _power_states(top: Mapping[str, Any], where: Where, errors: ErrorCollector) -> Mapping[PowerStateName, PowerState]:
    here = where.key(top, "power_states")
    names = [s.value for s in PowerStateName]
    m = block(
        top["power_states"], here, allowed=names, required=("sleep",), what="a mapping of power states", errors=errors
    )
    states: dict[PowerStateName, PowerState] = {}
    for state in PowerStateName:
        if state.value in m:
            with errors.part():
                states[state] = _power_state(state, m[state.value], here.key(m, state.value))
    return MappingProxyType(states)


def _power_state(state: PowerStateName, value: Any, at: Where) -> PowerState:
    if state is PowerStateName.ACTIVE:
        s = block(value, at, allowed=("power",))
        return PowerState(state, get_quantity(s, "power", at, Dimension.POWER, bound=Bound.NONNEGATIVE, default=None))
    s = block(value, at, allowed=_STATE.keys, required=_STATE.required)
    return PowerState(
        name=state,
        power_w=get_quantity(s, "power", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
        wake_latency_s=get_quantity(s, "wake_latency", at, Dimension.TIME, bound=Bound.NONNEGATIVE),
        wake_energy_j=get_quantity(s, "wake_energy", at, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of architecture YAML, from the declarations above and each compute kind's `FIELDS`;
    a file with `extends:` only overrides, so nothing is required in it."""
    units = {kind: importlib.import_module(parse.__module__).FIELDS for kind, parse in compute_kinds().items()}
    ops = [k.value for k in OpKind]
    cycles = Quantity(Dimension.CYCLES, Bound.NONNEGATIVE)
    defs: dict[str, Field] = {
        "compute_unit": Block({"kind": Choice(tuple(units))}, required=("kind",), select="kind", variants=units),
        "memory": Text(),
        "op_table": OneOf((cycles, Block({**{op: cycles for op in ops}, "default": cycles}, required=("default",)))),
        "op_kinds": ListOf(Choice(tuple(ops))),
        "schemes": ListOf(Choice(tuple(SCHEMES))),
    }
    root = Block({**_ARCH.fields, "extends": Text()}, required=("version", *_ARCH.required))
    return document("architecture", root, defs=defs, description=__doc__.splitlines()[0], partial_unless="extends")
