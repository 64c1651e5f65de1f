"""The architecture model and its YAML front end.

    arch = load_arch("archs/stm32l4r5.yaml")
    arch.operating_point().freq_hz, arch.memory("sram").size_bytes

The line-keeping YAML loader and field readers it uses live in `tinysim.schema`.
"""

from __future__ import annotations

from tinysim.arch.compute import compute_kinds
from tinysim.arch.compute_mcu import McuUnit
from tinysim.arch.loader import SCHEMA_VERSION, load_arch, parse_arch
from tinysim.arch.model import (
    Arch,
    ComputeUnit,
    MemoryLevel,
    OperatingPoint,
    OpTable,
    PowerState,
    PowerStateName,
)

__all__ = [
    "SCHEMA_VERSION",
    "Arch",
    "ComputeUnit",
    "McuUnit",
    "MemoryLevel",
    "OpTable",
    "OperatingPoint",
    "PowerState",
    "PowerStateName",
    "compute_kinds",
    "load_arch",
    "parse_arch",
]
