"""The output vocabulary: one name per quantity across `run`, `compare`, `always-on`, sweeps and the API.

Every JSON document and every CSV row starts with the identity fields, so outputs of different archs,
workloads, operating points and tinysim versions concatenate and join (`pandas.concat`, SQL JOIN).
Names carry their SI unit (`latency_s`, `energy_j`, `area_m2`); counts are integers (`cycles`, `macs`).
"""

from __future__ import annotations

from typing import Any

from tinysim.version import __version__

__all__ = ["FIELDS", "IDENTITY_FIELDS", "OUTPUT_SCHEMA_VERSION", "identity", "whole_cycles"]

# The layout of JSON/CSV outputs (not the SQLite store's, see explore.store.SCHEMA_VERSION). 1: the outputs
# before identity fields; 2: identity fields everywhere, `arena_bytes` for compare's `peak_sram_bytes`,
# integer `cycles`, always-on `latency_s`/`energy_j` for `inference_latency_s`/`inference_energy_j`.
OUTPUT_SCHEMA_VERSION = "2"

IDENTITY_FIELDS = ("tinysim_version", "schema_version", "arch", "workload", "operating_point")

# The shared quantities: the same name means the same thing in every output that has it.
FIELDS: dict[str, str] = {
    "tinysim_version": "version of tinysim that computed the figures",
    "schema_version": "version of the output layout (OUTPUT_SCHEMA_VERSION)",
    "arch": "architecture name",
    "workload": "workload (network) name",
    "operating_point": "operating point name (None where the arch could not be priced)",
    "voltage_v": "supply voltage of the operating point, V",
    "freq_hz": "clock frequency of the operating point, Hz",
    "macs": "multiply-accumulates of one inference (integer)",
    "cycles": "clock cycles of one inference, rounded to a whole cycle (integer)",
    "latency_s": "time of one inference, s",
    "energy_j": "energy of one inference, J",
    "rate_hz": "inference rate, Hz",
    "average_power_w": "average power at rate_hz (sleeping between inferences), W; None if unsustainable",
    "weights_bytes": "stored weight bytes",
    "weights_fit": "whether the weights fit in their memory",
    "arena_bytes": "TFLite Micro activation arena (head + persistent), bytes",
    "arena_fits": "whether the arena fits in its memory",
    "fits": "weights_fit and arena_fits",
    "area_m2": "die area, m²; None for an arch without a technology node",
    "deadline_s": "latency deadline, s",
}


def identity(arch: str | None, workload: str | None, operating_point: str | None) -> dict[str, Any]:
    """The five fields that lead every JSON document and CSV row."""
    return {
        "tinysim_version": __version__,
        "schema_version": OUTPUT_SCHEMA_VERSION,
        "arch": arch,
        "workload": workload,
        "operating_point": operating_point,
    }


def whole_cycles(cycles: float) -> int:
    """A cycle count as an integer: fitted cycles-per-MAC models give fractions, a clock counts whole cycles."""
    return round(float(cycles))
