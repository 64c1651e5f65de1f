"""Priced results: per-layer costs and the whole-inference figures built from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinysim.errors import CostError


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
    arena_bytes: int = 0
    arena_memory: str = ""
    arena_capacity_bytes: int = 0
    events_source: str = "shapes"  # "shapes" (estimated) or "engine" (counted on a real run)
    weights_encoding: str = ""  # compressed workloads: encodings kept in flash ("huffman"), or "decoded"

    @property
    def cycles(self) -> float:
        return sum(layer.cycles for layer in self.layers)

    @property
    def latency_s(self) -> float:
        return sum(layer.latency_s for layer in self.layers)

    @property
    def energy_j(self) -> float:
        return sum(layer.energy_j for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def energy_breakdown_j(self) -> dict[str, float]:
        """Energy by cause: compute, each memory level, static."""
        out: dict[str, float] = {"compute": sum(layer.compute_energy_j for layer in self.layers)}
        for layer in self.layers:
            for mem, e in layer.memory_energy_j.items():
                out[mem] = out.get(mem, 0.0) + e
        out["static"] = sum(layer.static_energy_j for layer in self.layers)
        return out

    def average_power_w(self, rate_hz: float) -> float:
        """(E_inference + P_sleep * (1/R - t_inference)) * R; the chip sleeps between inferences."""
        if rate_hz <= 0:
            raise CostError(f"expected a positive inference rate, got {rate_hz} Hz", field="--rate")
        period_s = 1.0 / rate_hz
        if self.latency_s > period_s:
            raise CostError(
                f"an inference takes {self.latency_s * 1e3:.4g} ms, longer than the period "
                f"{period_s * 1e3:.4g} ms at {rate_hz:g} Hz; the highest sustainable rate is "
                f"{1.0 / self.latency_s:.4g} Hz",
                field="--rate",
            )
        return (self.energy_j + self.sleep_power_w * (period_s - self.latency_s)) * rate_hz

    @property
    def weights_fit(self) -> bool:
        return self.weights_bytes <= self.weights_capacity_bytes

    @property
    def arena_fits(self) -> bool:
        return self.arena_bytes <= self.arena_capacity_bytes
