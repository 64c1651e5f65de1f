"""Place each op of a graph on a compute unit of an architecture.

An architecture lists its compute units in order; an op runs on the first unit that
declares it can run that op kind (a unit without a `runs:` list runs everything).
"""

from __future__ import annotations

from tinysim.arch import Arch, ComputeUnit
from tinysim.errors import SpecError
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph


def place(graph: Graph, arch: Arch) -> list[ComputeUnit]:
    """Return the compute unit for each op of `graph`, in `graph.ops` order."""
    units = []
    for index, op in enumerate(graph.ops):
        unit = unit_for(arch, op.kind)
        if unit is None:
            raise SpecError(
                f"no compute unit runs {op.kind.value} (op {index} '{op.name}'); "
                f"units: {', '.join(u.name for u in arch.compute)}",
                file=str(arch.path) if getattr(arch, "path", None) else None,
                field="compute",
            )
        units.append(unit)
    return units


def unit_for(arch: Arch, kind: OpKind) -> ComputeUnit | None:
    """The compute unit of `arch` that runs ops of `kind`: the first that declares it; None if none does."""
    return next((u for u in arch.compute if _runs(u, kind)), None)


def _runs(unit: ComputeUnit, kind: OpKind) -> bool:
    runs = getattr(unit, "runs", None)
    return not runs or kind in runs
