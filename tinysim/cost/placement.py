"""Place each op of a graph on a compute unit of an architecture.

An architecture lists its compute units in order; an op runs on the first unit that declares it can run
that op kind (a unit without a `runs:` list runs every kind) in the op's quantization scheme (a unit
without `schemes:` computes in every scheme). So an accelerator lists what it accelerates and the host
core after it takes the rest, as on real chips (NPU/IMC/systolic -> host MCU); `cost.shape` prices the
activations moved between the units' memories.
"""

from __future__ import annotations

from tinysim.arch import Arch, ComputeUnit
from tinysim.errors import SpecError
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph
from tinysim.workload.schemes import op_scheme
from tinysim.workload.validate import short_name


def place(graph: Graph, arch: Arch) -> list[ComputeUnit]:
    """Return the compute unit for each op of `graph`, in `graph.ops` order."""
    units = []
    for index, op in enumerate(graph.ops):
        scheme = op_scheme(graph, op)
        unit = unit_for(arch, op.kind, scheme)
        if unit is None:
            raise SpecError(
                f"no compute unit runs {op.kind.value} in {scheme} (op {index} '{short_name(op.name)}'); "
                f"units: {', '.join(_describe(u) for u in arch.compute)}",
                file=str(arch.path) if getattr(arch, "path", None) else None,
                field="compute",
            )
        units.append(unit)
    return units


def unit_for(arch: Arch, kind: OpKind, scheme: str = "int8") -> ComputeUnit | None:
    """The compute unit of `arch` that runs ops of `kind` in `scheme`: the first that declares both; None
    if none does."""
    return next((u for u in arch.compute if runs(u, kind, scheme)), None)


def runs(unit: ComputeUnit, kind: OpKind, scheme: str) -> bool:
    """Whether `unit` executes op kind `kind` in quantization scheme `scheme`."""
    kinds, schemes = getattr(unit, "runs", None), getattr(unit, "schemes", None)
    return (not kinds or kind in kinds) and (not schemes or scheme in schemes)


def _describe(unit: ComputeUnit) -> str:
    """`npu (runs 8 op kinds, int8 only)`: what a unit takes, for the refusal."""
    kinds, schemes = getattr(unit, "runs", None), getattr(unit, "schemes", None)
    parts = [f"runs {len(kinds)} op kinds" if kinds else "", f"{'/'.join(sorted(schemes))} only" if schemes else ""]
    detail = ", ".join(p for p in parts if p)
    return f"{unit.name} ({detail})" if detail else unit.name
