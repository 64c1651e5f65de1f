"""Design points → architectures: the base YAML mapping with dotted paths replaced, then `parse_arch`.

`point_mapping(base, point)` is the definition (a deep copy with the values put in, parsed with
`parse_arch`). Parsing a whole architecture per point is too slow for thousands of points, so
`DesignSpace` parses each *block* once per distinct combination of its swept values: a block is
one compute unit (`compute.<name>`), one memory (`memories.<name>`) or the power states. Blocks
are parsed independently (every other block stays as in the base), so the architecture of a
point is the base `Arch` with its swept blocks replaced; a block that does not parse makes every
point using it invalid, with the parser's one-line error as the reason.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from typing import Any

from tinysim.arch import Arch, parse_arch
from tinysim.arch.loader import load_arch_yaml
from tinysim.errors import SpecError, TinysimError
from tinysim.explore.sweep_spec import OPERATING_POINT, SweepSpec

__all__ = ["DesignSpace", "block_of", "point_mapping"]

_BLOCK_TOPS = ("compute", "memories", "power_states")


def block_of(path: str) -> tuple[str, ...]:
    """The block a dotted path belongs to: ("compute", "npu"), ("memories", "sram") or ("power_states",)."""
    parts = path.split(".")
    return (parts[0],) if parts[0] == "power_states" else tuple(parts[:2])


def _put(data: Any, path: str, value: Any) -> Any:
    """`data` with `path` set to `value`: the mappings along the path are copied (with their line
    numbers), the rest is shared; a `{value: ..., source: ...}` leaf keeps its note."""
    head, _, rest = path.partition(".")
    node = copy.copy(data)
    if rest:
        node[head] = _put(data[head], rest, value)
    elif isinstance(data.get(head), Mapping) and "value" in data[head]:
        node[head] = _put(data[head], "value", value)
    else:
        node[head] = value
    return node


def point_mapping(base: Any, point: Mapping[str, Any]) -> Any:
    """The base architecture mapping with the point's dotted paths replaced (`base` is not modified)."""
    data = base
    for path, value in point.items():
        if path != OPERATING_POINT:
            data = _put(data, path, value)
    return data


class DesignSpace:
    """The base architecture and the parsed variants of each swept block (cached)."""

    def __init__(self, spec: SweepSpec, base_data: Any = None) -> None:
        """`base_data`: the base architecture mapping, `extends:` merged (a worker gets it from the client);
        None: loaded from `spec.base_arch`."""
        self.spec = spec
        self.base_file = str(spec.base_arch)
        self.base_data = load_arch_yaml(spec.base_arch) if base_data is None else base_data
        self.base = parse_arch(self.base_data, file=self.base_file)
        self.blocks: dict[tuple[str, ...], tuple[str, ...]] = {}
        for axis in spec.axes:
            if axis.path == OPERATING_POINT:
                self._check_operating_points(axis)
                continue
            self._check_path(axis)
            self.blocks.setdefault(block_of(axis.path), ())
            self.blocks[block_of(axis.path)] += (axis.path,)
        self._variants: dict[tuple[tuple[str, ...], tuple[Any, ...]], Any] = {}

    def _check_path(self, axis) -> None:
        def fail(message: str) -> SpecError:
            return SpecError(message, file=self.spec.path, line=axis.line, field=f"axes.{axis.path}")

        parts = axis.path.split(".")
        if parts[0] not in _BLOCK_TOPS or (parts[0] != "power_states" and len(parts) < 3):
            raise fail(
                "expected a path into a compute unit, a memory or the power states "
                '("compute.<unit>.<field>", "memories.<memory>.<field>", "power_states.<state>.<field>")'
            )
        node: Any = self.base_data
        for depth, key in enumerate(parts[:-1]):
            if not isinstance(node, Mapping) or key not in node:
                raise fail(f'{self.base_file} has no "{".".join(parts[: depth + 1])}"')
            node = node[key]
        if not isinstance(node, Mapping):
            raise fail(f'"{".".join(parts[:-1])}" in {self.base_file} is not a mapping')

    def _check_operating_points(self, axis) -> None:
        names = [p.name for p in self.base.operating_points]
        for value in axis.values:
            if value not in names:
                raise SpecError(
                    f"no operating point named {value!r} in {self.base_file}; defined: {', '.join(names)}",
                    file=self.spec.path,
                    line=axis.line,
                    field=f"axes.{OPERATING_POINT}",
                )

    def variant(self, block: tuple[str, ...], point: Mapping[str, Any]) -> Any:
        """The parsed block (a compute unit, a memory level, the power states) for the point's values,
        or the `TinysimError` parsing it raised."""
        paths = self.blocks[block]
        key = (block, tuple(point[p] for p in paths))
        if key not in self._variants:
            self._variants[key] = self._parse_block(block, {p: point[p] for p in paths})
        return self._variants[key]

    def _parse_block(self, block: tuple[str, ...], values: Mapping[str, Any]) -> Any:
        try:
            arch = parse_arch(point_mapping(self.base_data, values), file=self.base_file)
        except TinysimError as exc:
            return exc
        if block[0] == "compute":
            return arch.compute_unit(block[1])
        if block[0] == "memories":
            return arch.memory(block[1])
        return arch.power_states

    def arch(self, point: Mapping[str, Any]) -> Arch:
        """The point's architecture (raises the first invalid block's error)."""
        parts = {}
        for block in self.blocks:
            part = self.variant(block, point)
            if isinstance(part, TinysimError):
                raise part
            parts[block] = part
        return self.compose(parts)

    def compose(self, parts: Mapping[tuple[str, ...], Any]) -> Arch:
        """The base `Arch` with the given blocks replaced."""
        changes: dict[str, Any] = {}
        units = {b[1]: p for b, p in parts.items() if b[0] == "compute"}
        if units:
            changes["compute"] = tuple(units.get(u.name, u) for u in self.base.compute)
        memories = {b[1]: p for b, p in parts.items() if b[0] == "memories"}
        if memories:
            changes["memories"] = tuple(memories.get(m.name, m) for m in self.base.memories)
        if ("power_states",) in parts:
            changes["power_states"] = parts[("power_states",)]
        return dataclasses.replace(self.base, **changes) if changes else self.base

    def operating_point_name(self, point: Mapping[str, Any]) -> str:
        return point.get(OPERATING_POINT) or self.base.operating_points[0].name
