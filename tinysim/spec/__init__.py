"""The architecture model and its YAML front end.

    arch = load_arch("archs/stm32l4r5.yaml")
    arch.operating_point().freq_hz, arch.memory("sram").size_bytes

`yamlio` (line-keeping YAML) and `fields` (validated field readers) are reusable by
other YAML parsers (layer lists, scenarios).
"""

from __future__ import annotations

from tinysim.spec.compute import compute_kinds
from tinysim.spec.compute_mcu import McuUnit
from tinysim.spec.loader import SCHEMA_VERSION, load_arch, parse_arch
from tinysim.spec.model import (
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
