"""The architecture model: frozen dataclasses built once from YAML, SI units throughout.

Downstream code (mapping, cost, system) sees only these types, never the YAML dicts.
Compute units are one dataclass per kind (`McuUnit` in compute_mcu.py, ...), all
satisfying the small `ComputeUnit` protocol.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, runtime_checkable

from tinysim.errors import SpecError
from tinysim.ops import OpKind

__all__ = [
    "Arch",
    "ComputeUnit",
    "MemoryLevel",
    "OpTable",
    "OperatingPoint",
    "PowerState",
    "PowerStateName",
    "Technology",
]


def _empty() -> Mapping:
    return MappingProxyType({})


@dataclass(frozen=True)
class OperatingPoint:
    """A (voltage, frequency) pair the chip can run at, and the power it draws regardless of work."""

    name: str
    voltage_v: float
    freq_hz: float
    static_power_w: float


@dataclass(frozen=True)
class MemoryLevel:
    """One memory: capacity, access width, energy per byte moved, leakage, optional bandwidth cap."""

    name: str
    size_bytes: int
    width_bytes: int
    read_energy_per_byte_j: float
    write_energy_per_byte_j: float
    leakage_w: float
    bandwidth_bytes_per_s: float | None = None

    @property
    def read_energy_per_access_j(self) -> float:
        return self.read_energy_per_byte_j * self.width_bytes

    @property
    def write_energy_per_access_j(self) -> float:
        return self.write_energy_per_byte_j * self.width_bytes


class PowerStateName(enum.Enum):
    ACTIVE = "active"
    IDLE = "idle"
    SLEEP = "sleep"


@dataclass(frozen=True)
class PowerState:
    """A low-power state: power drawn while in it, and the cost of waking from it.

    `power_w` is None only for `active` when the YAML leaves it out (the cost model then
    derives active power from the operating point and the work done).
    """

    name: PowerStateName
    power_w: float | None
    wake_latency_s: float = 0.0
    wake_energy_j: float = 0.0


@dataclass(frozen=True)
class OpTable:
    """A per-op-kind number with a default for kinds not listed (cycles per MAC, overhead...)."""

    default: float
    per_op: Mapping[OpKind, float] = field(default_factory=_empty)

    def for_op(self, kind: OpKind) -> float:
        return self.per_op.get(kind, self.default)


@runtime_checkable
class ComputeUnit(Protocol):
    """What every compute unit has; kinds add their own fields (see compute_mcu.McuUnit)."""

    name: str
    kind: str
    description: str
    weights_in: str
    activations_in: str
    runs: frozenset[OpKind]  # op kinds it executes; empty means all
    schemes: frozenset[str]  # quantization schemes it computes in (tinysim.ops.SCHEMES); empty means all


@dataclass(frozen=True)
class Technology:
    """The process node the chip is built in (a node of tinysim/arch/technology.yaml, e.g. "40nm") and the
    memories that are non-volatile (flash): what the area model (tinysim.cost.area) prices."""

    node: str
    nvm_memories: frozenset[str] = frozenset()


# Dotted/indexed field path → its parent: "memories.sram.size" → "memories.sram", "a[0]" → "a".
_PARENT = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


@dataclass(frozen=True)
class Arch:
    """A whole architecture. `notes` maps field paths to "source: ..." / "assumed: ..." text."""

    name: str
    description: str
    sources: Mapping[str, str]
    operating_points: tuple[OperatingPoint, ...]
    compute: tuple[ComputeUnit, ...]
    memories: tuple[MemoryLevel, ...]
    power_states: Mapping[PowerStateName, PowerState]
    path: str | None = None
    notes: Mapping[str, str] = field(default_factory=_empty)
    technology: Technology | None = None  # None: no area model

    def _unknown(self, what: str, name: object, known: list[str], field_name: str) -> SpecError:
        listed = ", ".join(known) or "none"
        return SpecError(f'no {what} named "{name}"; defined: {listed}', file=self.path, field=field_name)

    def memory(self, name: str) -> MemoryLevel:
        for memory in self.memories:
            if memory.name == name:
                return memory
        raise self._unknown("memory", name, [m.name for m in self.memories], "memories")

    def operating_point(self, name: str | None = None) -> OperatingPoint:
        """The named operating point; the first one listed when `name` is None."""
        if name is None:
            return self.operating_points[0]
        for point in self.operating_points:
            if point.name == name:
                return point
        raise self._unknown("operating point", name, [p.name for p in self.operating_points], "operating_points")

    def compute_unit(self, name: str | None = None) -> ComputeUnit:
        """The named compute unit; the first one listed when `name` is None."""
        if name is None:
            return self.compute[0]
        for unit in self.compute:
            if unit.name == name:
                return unit
        raise self._unknown("compute unit", name, [u.name for u in self.compute], "compute")

    def power_state(self, name: PowerStateName | str) -> PowerState:
        """A power state by enum or by its YAML name ("sleep")."""
        try:
            key = PowerStateName(name)
            return self.power_states[key]
        except (ValueError, KeyError):
            raise self._unknown("power state", name, [s.value for s in self.power_states], "power_states") from None

    @property
    def sleep_power_w(self) -> float:
        return self.power_states[PowerStateName.SLEEP].power_w or 0.0

    def provenance(self, path: str) -> str | None:
        """The note that covers `path` (its own, else the nearest enclosing block's), sources resolved.

        provenance("memories.sram.size") → "source: st-ds12023 (STM32L4R5xx datasheet DS12023)".
        """
        while True:
            note = self.notes.get(path)
            if note is not None:
                return _resolve_sources(note, self.sources)
            parent = _PARENT.sub("", path)
            if parent == path:
                return self.notes.get("") and _resolve_sources(self.notes[""], self.sources)
            path = parent


def _resolve_sources(note: str, sources: Mapping[str, str]) -> str:
    parts = []
    for part in note.split("; "):
        kind, _, text = part.partition(": ")
        parts.append(f"{part} ({sources[text]})" if kind == "source" and text in sources else part)
    return "; ".join(parts)
