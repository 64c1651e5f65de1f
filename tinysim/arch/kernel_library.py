"""Kernel libraries as data (`kernel_libraries/<name>.yaml`): what each routine of a library costs, per
unit of work, as an instruction mix for each code path (scalar, DSP extension, Helium).

A library file:
    name, description, version: 1
    dispatch: op-kind | cmsis-nn   how an op picks its routine: by op kind, or by CMSIS-NN's own dispatch
                                   on the op's shape (tinysim/kernels/cmsis_nn.py)
    fallback: <library>            where ops the library has no routine for run (TFLM's reference kernels)
    latency_scale: {value, source}  one fitted factor on every cycle of the library (1 when not fitted)
    routines:
      default: {...}               the quantities every routine inherits
      <routine>:                   an op kind (dispatch: op-kind) or a C function name (dispatch: cmsis-nn)
        <quantity>:                call (once per op), mac, tap (innermost-loop start), im2col (element copied
                                   into the im2col buffer), element (non-MAC element work: requantizations,
                                   pool taps, softmax terms, additions)
          <path>: {class: count}   path = scalar | dsp | mve; classes from cores.yaml
A core takes the most capable path the routine lists (mve, then dsp, then scalar).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from tinysim.arch.core import INSTRUCTION_CLASSES, Core
from tinysim.schema.fields import Bound, Where, block, expect_mapping, get_choice, get_quantity, get_str, quantity
from tinysim.schema.yamlio import load_yaml_text
from tinysim.units import Dimension

__all__ = ["QUANTITIES", "KernelLibrary", "RoutineCost", "library_names", "load_library"]

QUANTITIES = ("call", "mac", "tap", "im2col", "element")
PATHS = ("scalar", "dsp", "mve")
DISPATCHES = ("op-kind", "cmsis-nn")
_FOLDER = "kernel_libraries"

Mix = Mapping[str, float]


@dataclass(frozen=True)
class RoutineCost:
    """One routine: {quantity: {path: instruction mix}}."""

    mixes: Mapping[str, Mapping[str, Mix]]

    def cycles_per(self, quantity_name: str, core: Core) -> float:
        """Cycles per unit of `quantity_name` on `core` (its most capable path the routine lists)."""
        paths = self.mixes.get(quantity_name)
        path = self.path_for(paths, core) if paths else None
        return core.cycles_of(paths[path]) if paths and path else 0.0

    @staticmethod
    def path_for(paths: Mapping[str, Mix], core: Core) -> str | None:
        """The most capable of `paths` that `core` runs (a Cortex-M55 runs DSP code too), if any."""
        order = {"mve": ("mve", "dsp", "scalar"), "dsp": ("dsp", "scalar"), "scalar": ("scalar",)}[core.features]
        return next((p for p in order if p in paths), None)


@dataclass(frozen=True)
class KernelLibrary:
    name: str
    description: str
    dispatch: str
    fallback: str | None
    latency_scale: float
    routines: Mapping[str, RoutineCost]  # "default" included, already merged into every routine

    def routine(self, name: str) -> RoutineCost | None:
        return self.routines.get(name)

    def missing_classes(self, core: Core) -> tuple[str, ...]:
        """Instruction classes of the paths `core` would take that it has no cycles for (sorted)."""
        missing: set[str] = set()
        for cost in self.routines.values():
            for paths in cost.mixes.values():
                path = cost.path_for(paths, core)
                if path is not None:
                    missing.update(cls for cls in paths[path] if cls not in core.cycles)
        return tuple(sorted(missing))


def library_names() -> tuple[str, ...]:
    folder = resources.files("tinysim.arch").joinpath(_FOLDER)
    return tuple(sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml")))


@cache
def load_library(name: str) -> KernelLibrary:
    """The shipped library `name` (one of `library_names()`), validated against cores.yaml's classes."""
    text = resources.files("tinysim.arch").joinpath(_FOLDER).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    where = Where(file=f"tinysim/arch/{_FOLDER}/{name}.yaml")
    top = block(
        load_yaml_text(text, file=where.file),
        where,
        allowed=("version", "name", "description", "sources", "dispatch", "fallback", "latency_scale", "routines"),
        required=("name", "dispatch", "routines"),
    )
    here = where.key(top, "routines")
    raw = expect_mapping(top["routines"], here, "routine blocks")
    default = _routine(raw["default"], here.key(raw, "default")) if "default" in raw else {}
    routines = {}
    for routine_name, value in raw.items():
        own = _routine(value, here.key(raw, routine_name))
        routines[routine_name] = RoutineCost(MappingProxyType({**default, **own}))
    fallback = get_str(top, "fallback", where, default=None)
    if fallback is not None:
        get_choice(top, "fallback", where, library_names(), "a kernel library")
    return KernelLibrary(
        name=get_str(top, "name", where),
        description=get_str(top, "description", where, default=""),
        dispatch=get_choice(top, "dispatch", where, DISPATCHES, "a dispatch rule"),
        fallback=fallback,
        latency_scale=get_quantity(top, "latency_scale", where, Dimension.DIMENSIONLESS, bound=Bound.POSITIVE, default=1.0),
        routines=MappingProxyType(routines),
    )


def _routine(value: object, where: Where) -> dict[str, Mapping[str, Mix]]:
    b = block(value, where, allowed=QUANTITIES)
    out: dict[str, Mapping[str, Mix]] = {}
    for q in QUANTITIES:
        if q not in b:
            continue
        spot = where.key(b, q)
        paths = block(b[q], spot, allowed=PATHS)
        out[q] = MappingProxyType({
            path: MappingProxyType(_mix(paths[path], spot.key(paths, path))) for path in PATHS if path in paths
        })
    return out


def _mix(value: object, where: Where) -> dict[str, float]:
    b = block(value, where, allowed=INSTRUCTION_CLASSES, what="an instruction mix like {load: 2, mul: 1}")
    return {
        cls: quantity(b[cls], where.key(b, cls), Dimension.DIMENSIONLESS, Bound.NONNEGATIVE)
        for cls in INSTRUCTION_CLASSES
        if cls in b
    }
