"""Cortex-M cores as data (`cores.yaml`): the features kernel libraries dispatch on and the cycles each
class of instruction takes, from Arm's technical reference manuals.

An mcu unit names its core (`core: cortex-m4`); a kernel library (`kernel_library.py`) gives, per routine
and unit of work, an instruction mix; cycles = sum(count x cycles[class]) / ipc on the named core.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

from tinysim.schema.fields import Bound, Where, block, expect_mapping, get_quantity, get_str
from tinysim.schema.yamlio import load_yaml_text
from tinysim.units import Dimension

__all__ = ["INSTRUCTION_CLASSES", "Core", "core_names", "load_core"]

INSTRUCTION_CLASSES = ("alu", "load", "store", "mul", "simd_mac", "widen", "branch", "vec_mac", "vec_load", "vec_alu")
CORES_FILE = "cores.yaml"


@dataclass(frozen=True)
class Core:
    """One Cortex-M core: its SIMD features and cycles per instruction class in NN kernel loops."""

    name: str
    description: str
    dsp: bool  # DSP extension: SMLAD, SXTB16 (CMSIS-NN's ARM_MATH_DSP code)
    mve: bool  # Helium vector extension (CMSIS-NN's ARM_MATH_MVEI code)
    ipc: float  # instructions per cycle on NN loops (1 on single-issue cores)
    cycles: Mapping[str, float]  # instruction class -> cycles

    @property
    def features(self) -> str:
        """The code path a library compiles for this core: "mve", "dsp" or "scalar"."""
        return "mve" if self.mve else "dsp" if self.dsp else "scalar"

    def cycles_of(self, mix: Mapping[str, float]) -> float:
        """Cycles of an instruction mix {class: count} on this core."""
        return sum(count * self.cycles[cls] for cls, count in mix.items()) / self.ipc


@cache
def _cores() -> Mapping[str, Core]:
    text = resources.files("tinysim.arch").joinpath(CORES_FILE).read_text(encoding="utf-8")
    where = Where(file=f"tinysim/arch/{CORES_FILE}")
    top = block(load_yaml_text(text, file=where.file), where, allowed=("version", "sources", "cores"), required=("cores",))
    here = where.key(top, "cores")
    cores = {}
    for name, value in expect_mapping(top["cores"], here, "core blocks").items():
        spot = here.key(top["cores"], name)
        b = block(value, spot, allowed=("description", "dsp", "mve", "ipc", "cycles"), required=("dsp", "mve", "cycles"))
        table = block(b["cycles"], spot.key(b, "cycles"), allowed=INSTRUCTION_CLASSES, required=("alu", "load", "store", "mul", "branch"))
        cycles = {
            cls: get_quantity(table, cls, spot.key(b, "cycles"), Dimension.CYCLES, bound=Bound.POSITIVE)
            for cls in INSTRUCTION_CLASSES
            if cls in table
        }
        cores[name] = Core(
            name=name,
            description=get_str(b, "description", spot, default=""),
            dsp=_flag(b, "dsp", spot),
            mve=_flag(b, "mve", spot),
            ipc=get_quantity(b, "ipc", spot, Dimension.DIMENSIONLESS, bound=Bound.POSITIVE, default=1.0),
            cycles=MappingProxyType(cycles),
        )
    return MappingProxyType(cores)


def _flag(b: Mapping, key: str, where: Where) -> bool:
    value = b[key]
    if isinstance(value, Mapping):
        value = value.get("value")
    if not isinstance(value, bool):
        raise where.key(b, key).fail(f"expected true or false, got {value!r}")
    return value


def core_names() -> tuple[str, ...]:
    return tuple(_cores())


def load_core(name: str) -> Core | None:
    """The core called `name`, or None when there is no such core (the caller names the field)."""
    return _cores().get(name)
