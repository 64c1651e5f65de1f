"""The one assembly of a simulation: run the workload through the engine (or estimate its events from
shapes), plan the activation arena as TFLite Micro does, map and price it on an architecture — at one
operating point, or at the lowest-energy point that meets a deadline (DVFS).

    evaluation = evaluate("archs/stm32l4r5.yaml", "workloads/kws.yaml", rate="10 Hz")
    evaluation.latency_s, evaluation.energy_j, evaluation.average_power_w

The CLI, sweeps (explore), always-on (system), validation and compression all come through here, so
they share the defaults: seeded random input (seed 0), engine-counted events, planned arena.
`run_workload` + `price_run` split the same steps for callers that price one run many times.
"""

from __future__ import annotations

import tokenize
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.arch import Arch, load_arch
from tinysim.cost.dvfs import DeadlineChoice, select_for_deadline
from tinysim.cost.mcu import scratch_rule as mcu_scratch_rule
from tinysim.cost.result import SimResult
from tinysim.cost.simulate import simulate, simulate_points
from tinysim.dataframes import pandas
from tinysim.engine import random_input, run_graph, runnable_ops
from tinysim.engine.arena import arena_usage
from tinysim.errors import CostError, WorkloadError
from tinysim.events import Events
from tinysim.units import Dimension, parse_quantity
from tinysim.workload import load_workload
from tinysim.workload.graph import Graph
from tinysim.workload.stats import estimate_events

__all__ = ["EVENT_SOURCES", "Evaluation", "WorkloadRun", "evaluate", "load_array", "price_points", "price_run", "resolve_arch", "run_workload"]

EVENT_SOURCES = ("engine", "shapes")


@dataclass(frozen=True)
class WorkloadRun:
    """A workload run once: its graph, per-op events, TFLite Micro arena and (engine runs) outputs."""

    graph: Graph
    events: tuple[Events, ...]
    events_source: str  # "engine" (counted on a real run) or "shapes" (estimated)
    arena_bytes: int  # the whole TFLM arena, what must fit in SRAM: head + persistent
    outputs: tuple[np.ndarray, ...] = ()
    arena_head_bytes: int = 0  # planned activations (TFLM's head)
    arena_persistent_bytes: int = 0  # TFLM's persistent tail (engine.persistent)
    arena_scratch_bytes: int = 0  # what kernels' scratch buffers add to the head beyond the activations


@dataclass(frozen=True)
class Evaluation:
    """One inference of a workload on an architecture, priced; `result` holds the per-layer costs."""

    result: SimResult
    run: WorkloadRun
    rate_hz: float | None = None
    dvfs: DeadlineChoice | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def latency_s(self) -> float:
        return self.result.latency_s

    @property
    def energy_j(self) -> float:
        return self.result.energy_j

    @property
    def cycles(self) -> float:
        return self.result.cycles

    @property
    def macs(self) -> int:
        return self.result.macs

    @property
    def fits(self) -> bool:
        return self.result.fits

    @property
    def rate_sustainable(self) -> bool | None:
        """Whether an inference fits in the period of `rate_hz` (None without a rate)."""
        return None if self.rate_hz is None else self.result.rate_sustainable(self.rate_hz)

    @property
    def average_power_w(self) -> float | None:
        """Average power at `rate_hz`; None without a rate or where an inference outlasts the period (see
        `rate_sustainable` and `result.max_sustainable_rate_hz`: every other figure still holds)."""
        if self.rate_hz is None or not self.rate_sustainable:
            return None
        return self.result.average_power_w(self.rate_hz)

    @property
    def output(self) -> np.ndarray | None:
        """The network's first output (engine runs only)."""
        return self.run.outputs[0] if self.run.outputs else None

    def to_dict(self, *, per_layer: bool = True) -> dict[str, Any]:
        """Plain data (SI units in the key names): the identity fields, summary, per-layer rows, DVFS choice."""
        doc: dict[str, Any] = {**self.result.identity(), "summary": self.result.summary_dict(self.rate_hz)}
        if self.dvfs is not None:
            doc["dvfs"] = dvfs_dict(self.dvfs)
        doc.update(self.extra)
        if per_layer:
            doc["layers"] = self.result.layer_rows()
        return doc

    def to_dataframe(self, *, per_layer: bool = False):
        """A pandas DataFrame: one row of whole-inference figures, or one row per layer (needs pandas)."""
        pd = pandas()
        if per_layer:
            return pd.DataFrame(self.result.layer_rows())
        summary = self.result.summary_dict(self.rate_hz)
        breakdown = summary.pop("energy_breakdown_j")
        summary.update({f"energy_{cause}_j": e for cause, e in breakdown.items()})
        return pd.DataFrame([summary])


def dvfs_dict(choice: DeadlineChoice) -> dict[str, Any]:
    return {
        "deadline_s": choice.deadline_s,
        "reason": choice.reason(),
        "points": [
            {"operating_point": r.operating_point, "voltage_v": r.voltage_v, "freq_hz": r.freq_hz,
             "latency_s": r.latency_s, "energy_j": r.energy_j, "meets_deadline": r.latency_s <= choice.deadline_s}
            for r in choice.candidates
        ],
    }


def resolve_arch(arch: str | Path | Arch) -> Arch:
    """An Arch as given, or loaded from a YAML path."""
    return arch if isinstance(arch, Arch) else load_arch(arch)


def run_workload(workload: str | Path | Graph, *, input: np.ndarray | str | Path | None = None, seed: int = 0,
                 events: str = "engine", work_limit: float = 1.0) -> WorkloadRun:
    """Load the workload, count its events (an engine run on `input`, default a seeded random input; or
    `events="shapes"`: estimated from shapes, no run) and plan its activation arena. An engine run estimated
    beyond MAX_ENGINE_MACS or MAX_ENGINE_BYTES (times `work_limit`) is refused before it starts."""
    if events not in EVENT_SOURCES:
        raise ValueError(f"events: expected one of {', '.join(EVENT_SOURCES)}, got {events!r}")
    graph = workload if isinstance(workload, Graph) else load_workload(workload, runnable=runnable_ops())
    usage = arena_usage(graph)
    if events == "engine":
        check_engine_work(graph, usage.head_bytes, work_limit, None if isinstance(workload, Graph) else str(workload))
    if events == "shapes":
        run = WorkloadRun(graph, tuple(estimate_events(graph, op) for op in graph.ops), "shapes", usage.total_bytes)
    else:
        inputs = random_input(graph, seed) if input is None else [_input_array(input, graph)]
        result = run_graph(graph, inputs)
        run = WorkloadRun(graph, tuple(result.events), "engine", usage.total_bytes, tuple(result.outputs))
    return replace(run, arena_head_bytes=usage.head_bytes, arena_persistent_bytes=usage.persistent_bytes,
                   arena_scratch_bytes=usage.scratch_bytes)


MAX_ENGINE_MACS = 1e11  # ~100 s of the engine; DeepLab v3 (the corpus's largest) is 2.7e9
MAX_ENGINE_BYTES = 4 * 2**30  # activations held at once (TFLite Micro's head)


def check_engine_work(graph: Graph, head_bytes: int, work_limit: float = 1.0, file: str | None = None) -> None:
    """Refuse in one line, with the estimate, a run too large to be meant (a batch of 100,000, a 100,000 x
    100,000 input): before any allocation or computation."""
    macs = sum(estimate_events(graph, op).macs for op in graph.ops)
    for amount, limit, what, unit in ((macs, MAX_ENGINE_MACS, "MACs", 1.0),
                                      (head_bytes, MAX_ENGINE_BYTES, "GiB of activations", 2**30)):
        if amount > limit * work_limit:
            raise WorkloadError(
                f"running it needs ~{amount / unit:.3g} {what}, beyond the {limit * work_limit / unit:.3g} {what} "
                "accepted "
                "(tinysim run: raise the limit with --work-limit FACTOR, or price shape estimates with --events shapes)",
                file=file or graph.name)


def price_run(arch: str | Path | Arch, run: WorkloadRun, *, operating_point: str | None = None,
              deadline: float | str | None = None, rate: float | str | None = None) -> Evaluation:
    """Price a run on `arch`: at `operating_point` (default the arch's first), or — with `deadline`
    (seconds, or a quantity like "50 ms") — at the lowest-energy point that meets it."""
    arch = resolve_arch(arch)
    if operating_point is not None and deadline is not None:
        raise CostError("give an operating point or a deadline, not both", field="operating point")
    rate_hz = _quantity(rate, Dimension.FREQUENCY, "rate")
    if rate_hz is not None and rate_hz <= 0:
        raise CostError(f"expected a positive inference rate, got {rate_hz:g} Hz", field="rate")
    deadline_s = _quantity(deadline, Dimension.TIME, "deadline")
    run = with_library_scratch(arch, run)
    if deadline_s is None:
        result = simulate(arch, run.graph, run.events, operating_point=operating_point, arena_bytes=run.arena_bytes,
                          events_source=run.events_source)
        return Evaluation(_with_arena_split(result, run), run, rate_hz)
    choice = select_for_deadline(price_points(arch, run), deadline_s)
    return Evaluation(choice.chosen, run, rate_hz, choice)


def price_points(arch: str | Path | Arch, run: WorkloadRun) -> tuple[SimResult, ...]:
    """The run priced at every operating point of `arch`, in the architecture's order."""
    arch = resolve_arch(arch)
    run = with_library_scratch(arch, run)
    results = simulate_points(arch, run.graph, run.events, arena_bytes=run.arena_bytes, events_source=run.events_source)
    return tuple(_with_arena_split(r, run) for r in results)


def with_library_scratch(arch: Arch, run: WorkloadRun) -> WorkloadRun:
    """The run with its arena re-planned for the scratch buffers of the kernel library each op runs with on
    `arch` (CMSIS-NN's im2col and kernel-sum buffers); unchanged where every op runs TFLM's reference kernels."""
    rule = mcu_scratch_rule(run.graph, arch)
    if rule is None or run.arena_head_bytes + run.arena_persistent_bytes != run.arena_bytes:
        return run
    usage = arena_usage(run.graph, scratch_rule=rule)
    return replace(run, arena_bytes=usage.total_bytes, arena_head_bytes=usage.head_bytes,
                   arena_persistent_bytes=usage.persistent_bytes, arena_scratch_bytes=usage.scratch_bytes)


def _with_arena_split(result: SimResult, run: WorkloadRun) -> SimResult:
    """The result with the run's head / persistent split, where that split adds up to its arena."""
    if run.arena_head_bytes + run.arena_persistent_bytes != run.arena_bytes:
        return result
    return replace(result, arena_head_bytes=run.arena_head_bytes, arena_persistent_bytes=run.arena_persistent_bytes,
                   arena_scratch_bytes=run.arena_scratch_bytes)


def evaluate(arch: str | Path | Arch, workload: str | Path | Graph | WorkloadRun, *, input: np.ndarray | str | Path | None = None,
             seed: int = 0, events: str = "engine", operating_point: str | None = None,
             deadline: float | str | None = None, rate: float | str | None = "1 Hz",
             work_limit: float = 1.0) -> Evaluation:
    """Run `workload` and price it on `arch`: the same steps and defaults as `tinysim run`. A `WorkloadRun`
    (from `run_workload`) is priced as it is, without running again."""
    arch = resolve_arch(arch)
    if not isinstance(workload, WorkloadRun):
        workload = run_workload(workload, input=input, seed=seed, events=events, work_limit=work_limit)
    return price_run(arch, workload, operating_point=operating_point, deadline=deadline, rate=rate)


def _quantity(value: float | str | None, dim: Dimension, name: str) -> float | None:
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if value is None else float(value)
    return parse_quantity(str(value), dim, field=name)


def check_npy(where: str) -> None:
    """Refuse in one line unless `where` is a regular file (a FIFO would block, a device never end) starting
    with the .npy magic (an .npz archive or a pickle is not an input)."""
    if not Path(where).exists():
        raise WorkloadError("file not found", file=where, field="input")
    if not Path(where).is_file():
        raise WorkloadError("not a regular file; expected a .npy array", file=where, field="input")
    try:
        with open(where, "rb") as handle:
            magic = handle.read(6)
    except OSError as err:
        raise WorkloadError(f"cannot read file: {err.strerror or err}", file=where, field="input") from None
    if magic != b"\x93NUMPY":
        kind = "a .npz archive" if magic.startswith(b"PK") else "not a .npy array"
        raise WorkloadError(f"{kind}; expected one .npy array (numpy.save)", file=where, field="input")


def load_array(source: np.ndarray | str | Path, graph: Graph, *, mmap: bool = False) -> tuple[np.ndarray, str | None]:
    """An array given in memory or as a .npy file (memory-mapped with `mmap`), checked to have the dtype of
    the graph's first input; returns it and the file name (None for an array) for error messages."""
    where = str(source) if not isinstance(source, np.ndarray) else None
    if where is not None:
        check_npy(where)  # a regular .npy file, not an .npz archive or a pickle
        try:
            # memory-mapped first: only the header is read, so a header claiming 146 TiB allocates nothing
            with np.errstate(all="raise"):
                mapped = np.load(where, mmap_mode="r", allow_pickle=False)
            source = mapped if mmap else np.array(mapped)
        except (OSError, ValueError, ArithmeticError, SyntaxError, RecursionError, tokenize.TokenError) as err:
            raise WorkloadError(f"cannot read a .npy array: {err}", file=where, field="input") from None
    if not isinstance(source, np.ndarray):
        raise WorkloadError(f"expected one .npy array, got {type(source).__name__}", file=where, field="input")
    array = np.asarray(source)
    want = graph.tensor(graph.inputs[0])
    if array.dtype != want.dtype.numpy:
        raise WorkloadError(f"expected dtype {want.dtype.value}, got {array.dtype}", file=where, field="input")
    return array, where


def _input_array(source: np.ndarray | str | Path, graph: Graph) -> np.ndarray:
    """The network input from an array or a .npy file: its dtype and element count must match."""
    array, where = load_array(source, graph)
    want = graph.tensor(graph.inputs[0])
    batchless = want.shape[1:] if len(want.shape) > 1 and want.shape[0] == 1 else None
    if tuple(array.shape) != tuple(want.shape) and (batchless is None or tuple(array.shape) != tuple(batchless)):
        also = f" or {list(batchless)} (without the batch dimension)" if batchless is not None else ""
        raise WorkloadError(f"expected shape {list(want.shape)}{also}, got {list(array.shape)}", file=where,
                            field="input")
    return np.ascontiguousarray(array.reshape(want.shape))
