"""Architecture YAML (schema version 1) → `Arch`, with `FILE:LINE: field.path: message` errors.

Top level: `version: 1`, `name`, `description`, `sources` (key → citation), `operating_points`
(list), `compute` (name → unit with a `kind:`), `memories` (name → level), `power_states`
(`sleep` required; `idle`, `active` optional). Quantities are "3.2 pJ"-style strings, bare
numbers in SI base units, or `{value: ..., source: ...}` / `{value: ..., assumed: ...}`;
blocks with fixed keys may carry `source:` / `assumed:` too. See archs/stm32l4r5.yaml.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tinysim.arch.compute import ComputeContext, parse_compute_unit
from tinysim.arch.model import Arch, ComputeUnit, MemoryLevel, OperatingPoint, PowerState, PowerStateName
from tinysim.schema.fields import (
    Bound,
    Where,
    block,
    expect_list,
    expect_mapping,
    get_int,
    get_quantity,
    get_str,
)
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension
from tinysim.units.quantity import describe_value

__all__ = ["SCHEMA_VERSION", "load_arch", "parse_arch"]

SCHEMA_VERSION = 1
_TOP_KEYS = ("version", "name", "description", "sources", "operating_points", "compute", "memories", "power_states")
_TOP_REQUIRED = ("name", "operating_points", "compute", "memories", "power_states")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")  # usable in dotted paths (memories.sram.size)


def load_arch(path: str | Path) -> Arch:
    """Read and validate the architecture YAML at `path`."""
    return parse_arch(load_yaml(path), file=str(path))


def parse_arch(data: Any, *, file: str | None = None) -> Arch:
    """Validate already-loaded YAML data (ideally from `load_yaml`, for line numbers) into an `Arch`."""
    notes: dict[str, str] = {}
    where = Where(file=file, line=line_of(data), notes=notes)
    if data is None:
        raise where.fail("empty file: expected an architecture starting with `version: 1`")
    top = expect_mapping(data, where, "a mapping of architecture fields (version: 1, name: ..., ...)")
    _check_version(top, where)
    top = block(top, where, allowed=_TOP_KEYS, required=_TOP_REQUIRED)
    memories = _memories(top, where)
    ctx = ComputeContext(memory_names=tuple(m.name for m in memories))
    return Arch(
        name=get_str(top, "name", where),
        description=get_str(top, "description", where, default=""),
        sources=_sources(top, where),
        operating_points=_operating_points(top, where),
        compute=_compute(top, where, ctx),
        memories=memories,
        power_states=_power_states(top, where),
        path=file,
        notes=MappingProxyType(notes),
    )


def _check_version(top: Mapping[str, Any], where: Where) -> None:
    if "version" not in top:
        raise where.fail(f'missing required key "version" (write `version: {SCHEMA_VERSION}` at the top)')
    version = top["version"]
    if isinstance(version, bool) or version != SCHEMA_VERSION:
        raise where.key(top, "version").fail(
            f"expected version {SCHEMA_VERSION} (the only schema this tinysim reads), got {describe_value(version)}"
        )


def _named(top: Mapping[str, Any], key: str, where: Where, what: str) -> list[tuple[str, Any, Where]]:
    """Entries of a `name: {...}` mapping, each name checked, at least one entry."""
    here = where.key(top, key)
    mapping = expect_mapping(top[key], here, f"a mapping of {what} by name")
    if not mapping:
        raise here.fail(f"expected at least one {what}, got an empty mapping")
    entries = []
    for name, value in mapping.items():
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


def _operating_points(top: Mapping[str, Any], where: Where) -> tuple[OperatingPoint, ...]:
    here = where.key(top, "operating_points")
    items = expect_list(top["operating_points"], here, "a list of operating points")
    if not items:
        raise here.fail("expected at least one operating point, got an empty list")
    points: list[OperatingPoint] = []
    for index, item in enumerate(items):
        at = here.item(items, index)
        m = block(item, at, allowed=("name", "voltage", "frequency", "static_power"), required=("name",))
        name = get_str(m, "name", at)
        for earlier, point in enumerate(points):
            if point.name == name:
                raise at.key(m, "name").fail(
                    f'duplicate operating point name "{name}" (also operating_points[{earlier}])'
                )
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


_MEMORY_KEYS = (
    "size",
    "width",
    "read_energy",
    "read_energy_per_byte",
    "write_energy",
    "write_energy_per_byte",
    "leakage",
    "bandwidth",
)


def _memories(top: Mapping[str, Any], where: Where) -> tuple[MemoryLevel, ...]:
    levels = []
    for name, value, at in _named(top, "memories", where, "memory"):
        m = block(value, at, allowed=_MEMORY_KEYS)
        width = get_int(m, "width", at, Dimension.SIZE, bound=Bound.POSITIVE)
        levels.append(
            MemoryLevel(
                name=name,
                size_bytes=get_int(m, "size", at, Dimension.SIZE, bound=Bound.POSITIVE),
                width_bytes=width,
                read_energy_per_byte_j=_per_byte_energy(m, at, "read", width),
                write_energy_per_byte_j=_per_byte_energy(m, at, "write", width),
                leakage_w=get_quantity(m, "leakage", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
                bandwidth_bytes_per_s=get_quantity(
                    m, "bandwidth", at, Dimension.BANDWIDTH, bound=Bound.POSITIVE, default=None
                ),
            )
        )
    return tuple(levels)


def _compute(top: Mapping[str, Any], where: Where, ctx: ComputeContext) -> tuple[ComputeUnit, ...]:
    return tuple(
        parse_compute_unit(name, value, at, ctx) for name, value, at in _named(top, "compute", where, "compute unit")
    )


def _power_states(top: Mapping[str, Any], where: Where) -> Mapping[PowerStateName, PowerState]:
    here = where.key(top, "power_states")
    names = [s.value for s in PowerStateName]
    m = block(top["power_states"], here, allowed=names, required=("sleep",), what="a mapping of power states")
    states: dict[PowerStateName, PowerState] = {}
    for state in PowerStateName:
        if state.value not in m:
            continue
        at = here.key(m, state.value)
        if state is PowerStateName.ACTIVE:
            s = block(m[state.value], at, allowed=("power",))
            power = get_quantity(s, "power", at, Dimension.POWER, bound=Bound.NONNEGATIVE, default=None)
            states[state] = PowerState(state, power)
            continue
        keys = ("power", "wake_latency", "wake_energy")
        s = block(m[state.value], at, allowed=keys, required=keys)
        states[state] = PowerState(
            name=state,
            power_w=get_quantity(s, "power", at, Dimension.POWER, bound=Bound.NONNEGATIVE),
            wake_latency_s=get_quantity(s, "wake_latency", at, Dimension.TIME, bound=Bound.NONNEGATIVE),
            wake_energy_j=get_quantity(s, "wake_energy", at, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        )
    return MappingProxyType(states)
