"""Predicted vs published: run each (arch, workload) pair of published.yaml and compare."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tinysim.pipeline import evaluate, run_workload
from tinysim.units import Dimension, parse_quantity

PUBLISHED = Path(__file__).with_name("published.yaml")


@dataclass(frozen=True)
class Reference:
    """A published measurement, or (latency and energy None) a pair predicted with no published figure
    to compare: a held-out result not looked at, or an architecture nobody has published this model on."""

    arch: str
    workload: str
    latency_s: float | None
    energy_j: float | None
    calibration: bool
    source: str

    @property
    def role(self) -> str:
        return "calibration" if self.calibration else "prediction" if self.latency_s is not None else "prediction only"


@dataclass(frozen=True)
class Comparison:
    reference: Reference
    latency_s: float
    energy_j: float

    @property
    def latency_error(self) -> float | None:
        published = self.reference.latency_s
        return None if published is None else self.latency_s / published - 1.0

    @property
    def energy_error(self) -> float | None:
        published = self.reference.energy_j
        return None if published is None else self.energy_j / published - 1.0


def load_references(path: Path = PUBLISHED) -> list[Reference]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    refs = []
    for i, row in enumerate(doc["results"]):
        where = f"results[{i}]"
        refs.append(Reference(
            arch=row["arch"],
            workload=row["workload"],
            latency_s=parse_quantity(row["latency"], Dimension.TIME, field=f"{where}.latency", file=str(path)),
            energy_j=parse_quantity(row["energy"], Dimension.ENERGY, field=f"{where}.energy", file=str(path)),
            calibration=bool(row["calibration"]),
            source=row["source"],
        ))
    for i, row in enumerate(doc.get("predictions", [])):  # pairs printed with no published figure
        refs += [Reference(row["arch"], w, None, None, False, row["source"]) for w in row["workloads"]]
    return refs


def compare(root: Path, references: list[Reference] | None = None) -> list[Comparison]:
    """Simulate every reference row; paths in the table are relative to the project root `root`."""
    out, runs = [], {}
    for ref in references if references is not None else load_references():
        # A real run (seed 0 input, once per workload), priced as `tinysim run` prices it by default.
        if ref.workload not in runs:
            runs[ref.workload] = run_workload(root / ref.workload)
        result = evaluate(root / ref.arch, runs[ref.workload])
        out.append(Comparison(ref, result.latency_s, result.energy_j))
    return out
