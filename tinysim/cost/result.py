"""Priced results: per-layer costs and the whole-inference figures built from them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinysim.cost.vocabulary import identity, whole_cycles
from tinysim.errors import CostError


def average_power_w(energy_j, latency_s, sleep_power_w, rate_hz):
    """(E_inference + P_sleep x (1/R - t_inference)) x R: the chip sleeps between inferences (arrays too).
    Only meaningful where t_inference <= 1/R; the caller decides what an unsustainable rate means."""
    return (energy_j + sleep_power_w * (1.0 / rate_hz - latency_s)) * rate_hz


def breakdown_totals(compute_j: np.ndarray, memory_j: np.ndarray, static_j: np.ndarray,
                     touched: np.ndarray) -> dict[int | str, np.ndarray]:
    """Energy by cause per point: 'compute', each memory index some op of the point touches (NaN at points
    where none does), 'static' — summed over ops in one place so every path adds in the same order."""
    out: dict[int | str, np.ndarray] = {"compute": compute_j.sum(axis=1)}
    used = np.asarray(touched.any(axis=1))  # [P, M]
    for m in range(memory_j.shape[2]):
        if used[:, m].any():
            out[m] = np.where(used[:, m], memory_j[:, :, m].sum(axis=1), np.nan)
    out["static"] = static_j.sum(axis=1)
    return out


@dataclass(frozen=True)
class LayerCost:
    """What one op costs on the unit it was placed on. Energies in joules, by cause."""

    name: str
    op_kind: str
    unit: str
    macs: int
    cycles: float
    latency_s: float
    compute_energy_j: float  # datapath / core dynamic energy
    memory_energy_j: dict[str, float] = field(default_factory=dict)  # by memory level, dynamic accesses
    static_energy_j: float = 0.0  # static power and memory leakage during this op
    weight_bytes: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    bound: str = "compute"  # "compute" or the name of the memory whose bandwidth limits the op

    @property
    def energy_j(self) -> float:
        return self.compute_energy_j + sum(self.memory_energy_j.values()) + self.static_energy_j


@dataclass(frozen=True)
class SimResult:
    """One inference of a workload on an architecture at an operating point."""

    arch: str
    workload: str
    operating_point: str
    voltage_v: float
    freq_hz: float
    layers: tuple[LayerCost, ...]
    sleep_power_w: float
    weights_bytes: int = 0
    weights_memory: str = ""
    weights_capacity_bytes: int = 0
    arena_bytes: int = 0  # the whole TFLite Micro arena: head + persistent (what must fit)
    arena_memory: str = ""
    arena_capacity_bytes: int = 0
    arena_head_bytes: int = 0  # planned activations (TFLM's head); 0 with arena_persistent_bytes: no breakdown
    arena_persistent_bytes: int = 0  # TFLM's persistent tail: tensor structs, nodes, kernels' OpData
    arena_scratch_bytes: int = 0  # of the head: what kernels' scratch buffers add beyond the activations
    events_source: str = "shapes"  # "shapes" (estimated) or "engine" (counted on a real run)
    weights_encoding: str = ""  # compressed workloads: encodings kept in flash ("huffman"), or "decoded"

    memory_order: tuple[str, ...] = ()  # the arch's memory levels, the energy breakdown's order
    area_m2: float | None = None  # die area from the arch's technology node (cost/area.py); None without one

    def _column(self, attr: str) -> np.ndarray:
        return np.array([[getattr(layer, attr) for layer in self.layers]], dtype=float).reshape(1, -1)

    @property
    def cycles(self) -> float:
        return float(self._column("cycles").sum(axis=1)[0])

    @property
    def latency_s(self) -> float:
        return float(self._column("latency_s").sum(axis=1)[0])

    @property
    def energy_j(self) -> float:
        return float(sum(self.energy_breakdown_j().values()))

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def energy_breakdown_j(self) -> dict[str, float]:
        """Energy by cause: compute, each memory level an op accesses (arch order), static — summed as
        `cost.price.breakdown_totals` sums a sweep's points, so both give the same figures."""
        names = list(self.memory_order) or list(dict.fromkeys(m for layer in self.layers for m in layer.memory_energy_j))
        memory = np.array([[[layer.memory_energy_j.get(m, 0.0) for m in names] for layer in self.layers]],
                          dtype=float).reshape(1, len(self.layers), len(names))
        touched = np.array([[[m in layer.memory_energy_j for m in names] for layer in self.layers]],
                           dtype=bool).reshape(memory.shape)
        totals = breakdown_totals(self._column("compute_energy_j"), memory, self._column("static_energy_j"), touched)
        return {(names[k] if isinstance(k, int) else k): float(v[0]) for k, v in totals.items()}

    @property
    def max_sustainable_rate_hz(self) -> float | None:
        """1 / t_inference: the highest rate at which each inference ends before the next is due (None for a
        zero latency, which any rate sustains)."""
        return 1.0 / self.latency_s if self.latency_s > 0 else None

    def rate_sustainable(self, rate_hz: float) -> bool:
        """Whether an inference fits in the period 1/R (the average power exists only then)."""
        if rate_hz <= 0:
            raise CostError(f"expected a positive inference rate, got {rate_hz} Hz", field="rate")
        return self.latency_s <= 1.0 / rate_hz

    def average_power_w(self, rate_hz: float) -> float:
        """(E_inference + P_sleep * (1/R - t_inference)) * R; the chip sleeps between inferences.
        CostError at an unsustainable rate (see `rate_sustainable`)."""
        if not self.rate_sustainable(rate_hz):
            raise CostError(
                f"an inference takes {self.latency_s * 1e3:.4g} ms, longer than the period "
                f"{1e3 / rate_hz:.4g} ms at {rate_hz:g} Hz; the highest sustainable rate is "
                f"{1.0 / self.latency_s:.4g} Hz",
                field="rate",
            )
        return average_power_w(self.energy_j, self.latency_s, self.sleep_power_w, rate_hz)

    def summary_dict(self, rate_hz: float | None = None) -> dict:
        """Whole-inference figures, led by the identity fields (cost.vocabulary), SI units in the key names
        (average power only with a rate)."""
        out = {
            **self.identity(),
            "voltage_v": self.voltage_v,
            "freq_hz": self.freq_hz,
            "events_source": self.events_source,
            "macs": self.macs,
            "cycles": whole_cycles(self.cycles),
            "latency_s": self.latency_s,
            "energy_j": self.energy_j,
            "energy_breakdown_j": self.energy_breakdown_j(),
            "macs_per_cycle": self.macs / self.cycles if self.cycles else 0.0,
            "weights_bytes": self.weights_bytes,
            "weights_encoding": self.weights_encoding or None,
            "weights_memory": self.weights_memory,
            "weights_capacity_bytes": self.weights_capacity_bytes,
            "weights_fit": self.weights_fit,
            "arena_bytes": self.arena_bytes,
            "arena_memory": self.arena_memory,
            "arena_capacity_bytes": self.arena_capacity_bytes,
            "arena_head_bytes": self.arena_head_bytes,
            "arena_persistent_bytes": self.arena_persistent_bytes,
            "arena_scratch_bytes": self.arena_scratch_bytes,
            "arena_fits": self.arena_fits,
            "fits": self.fits,
            "area_m2": self.area_m2,
        }
        if rate_hz is not None:
            # An unsustainable rate keeps every other figure: the power is None, flagged, with the rate that works.
            sustainable = self.rate_sustainable(rate_hz)
            out["rate_hz"] = rate_hz
            out["average_power_w"] = self.average_power_w(rate_hz) if sustainable else None
            out["rate_sustainable"] = sustainable
            out["max_sustainable_rate_hz"] = self.max_sustainable_rate_hz
        return out

    def layer_rows(self) -> list[dict]:
        """One dict per layer, led by the identity fields (so layer tables of several archs concatenate), SI
        units in the key names."""
        rows = []
        for i, layer in enumerate(self.layers):
            rows.append({
                **self.identity(),
                "index": i,
                "layer": layer.name,
                "op": layer.op_kind,
                "unit": layer.unit,
                "macs": layer.macs,
                "cycles": whole_cycles(layer.cycles),
                "latency_s": layer.latency_s,
                "energy_j": layer.energy_j,
                "compute_energy_j": layer.compute_energy_j,
                "memory_energy_j": sum(layer.memory_energy_j.values()),
                "static_energy_j": layer.static_energy_j,
                "bytes_read": layer.bytes_read,
                "bytes_written": layer.bytes_written,
                "bound": layer.bound,
            })
        return rows

    def identity(self) -> dict:
        return identity(self.arch, self.workload, self.operating_point)

    @property
    def fits(self) -> bool:
        """Weights and arena both fit."""
        return self.weights_fit and self.arena_fits

    @property
    def weights_fit(self) -> bool:
        return self.weights_bytes <= self.weights_capacity_bytes

    @property
    def arena_fits(self) -> bool:
        return self.arena_bytes <= self.arena_capacity_bytes
