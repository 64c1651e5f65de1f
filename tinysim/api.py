"""The public Python API, the same steps and defaults as the command line; `import tinysim` exposes it.

    import tinysim
    ev = tinysim.evaluate("archs/stm32l4r5.yaml", "workloads/kws.yaml", rate="5 Hz")    # like `tinysim run`
    st = tinysim.evaluate_frames("archs/ndp120.yaml", "lstm.tflite", 10)              # like `run --frames 10`
    cmp = tinysim.compare(["archs/stm32l4r5.yaml", "archs/ecm3532.yaml"], "workloads/kws.yaml")
    day = tinysim.always_on("workloads/scenarios/kws_always_on.yaml", duration="24 h")
    cmp.to_dataframe(), ev.to_dataframe(per_layer=True), day.to_dict()

Arguments take paths or objects already loaded (`Arch`, `Graph`, `Scenario`, `SweepSpec`); quantities take
SI floats or strings with units ("10 Hz", "50 ms", "24 h"). Every result has `to_dict()` and
`to_dataframe()` (pandas, optional). Errors a user can cause are `TinysimError`s naming the argument.
The subsystems behind `always_on`, `sweep` and `compress` are imported on first use.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from tinysim.arch import Arch, load_arch
from tinysim.dataframes import pandas
from tinysim.errors import CostError, TinysimError, WorkloadError
from tinysim.frames import StreamEvaluation, evaluate_frames
from tinysim.pipeline import Evaluation, WorkloadRun, evaluate, price_run, run_workload
from tinysim.report.compare_report import CompareRow
from tinysim.report.compare_report import to_dict as compare_dict
from tinysim.units import Dimension, parse_quantity
from tinysim.workload import load_workload
from tinysim.workload.graph import Graph

if TYPE_CHECKING:
    from tinysim.compression.fidelity import Fidelity
    from tinysim.compression.hardware import HardwareEffect
    from tinysim.compression.pipeline import Compressed
    from tinysim.compression.sensitivity import LayerSensitivity
    from tinysim.explore.store import SweepResults
    from tinysim.explore.sweep_spec import SweepSpec
    from tinysim.system.battery import Battery
    from tinysim.system.result import AlwaysOnResult
    from tinysim.system.scenario import Scenario

__all__ = [
    "Comparison",
    "ComparisonRow",
    "CompressionResult",
    "StreamEvaluation",
    "always_on",
    "compare",
    "compress",
    "evaluate",
    "evaluate_frames",
    "load_arch",
    "load_workload",
    "sweep",
]

log = logging.getLogger(__name__)

Quantity = float | str


# --- compare ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One architecture on one workload: its evaluation, or why there is none (`error`)."""

    arch: str  # the architecture's name, or its file's stem when it could not be loaded
    workload: str
    arena_bytes: int  # the priced TFLite Micro arena; without an evaluation, the workload's planned one
    evaluation: Evaluation | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.evaluation is not None

    def report_row(self) -> CompareRow:
        e = self.evaluation
        if e is None:
            return CompareRow(self.arch, self.workload, self.arena_bytes, reason=self.error)
        return CompareRow(self.arch, self.workload, self.arena_bytes, result=e.result, choice=e.dvfs)


@dataclass(frozen=True)
class Comparison:
    """Every architecture on every workload (rows workload-major), as `tinysim compare` prints it."""

    rows: tuple[ComparisonRow, ...]
    rate_hz: float
    archs: tuple[str, ...]  # every architecture given, in order (loaded or not)
    workloads: tuple[str, ...]  # the workloads' names, in order
    deadline_s: float | None = None

    def __iter__(self) -> Iterator[ComparisonRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def report_rows(self) -> list[CompareRow]:
        """The rows as `tinysim.report.compare_report` renders them (text, JSON, CSV, bar chart)."""
        return [row.report_row() for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """Plain data, SI units in the key names: what `tinysim compare --format json` prints."""
        return compare_dict(self.report_rows(), self.rate_hz)

    def to_dataframe(self, *, per_layer: bool = False):
        """One row per (architecture, workload); or, `per_layer`, one row per layer of every row that ran,
        led by the identity fields (needs pandas)."""
        pd = pandas()
        if not per_layer:
            return pd.DataFrame(self.to_dict()["rows"])
        return pd.DataFrame(
            [
                layer
                for r in self.rows
                if r.evaluation is not None
                for layer in r.evaluation.result.layer_rows()
            ]
        )


def compare(
    archs: str | Path | Arch | Iterable[str | Path | Arch],
    workloads: str | Path | Graph | WorkloadRun | Iterable[str | Path | Graph | WorkloadRun],
    *,
    seed: int = 0,
    rate: Quantity = "1 Hz",
    deadline: Quantity | None = None,
) -> Comparison:
    """Run each workload once (seeded random input) and price it on every architecture, as `tinysim compare`.

    An architecture that cannot be loaded or cannot run a workload gets a row with the reason; with a
    `deadline` each architecture runs at its lowest-energy operating point that meets it.
    """
    rate_hz = _positive(rate, Dimension.FREQUENCY, "rate", "inference rate")
    if rate_hz is None:
        raise CostError("expected an inference rate, got None", field="rate")
    deadline_s = _positive(deadline, Dimension.TIME, "deadline", "deadline")
    loaded = [_load_arch(a) for a in _many(archs, (str, Path, Arch))]
    runs = [
        w if isinstance(w, WorkloadRun) else run_workload(w, seed=seed)
        for w in _many(workloads, (str, Path, Graph, WorkloadRun))
    ]
    if not loaded or not runs:
        raise TinysimError(
            "expected at least one architecture and one workload", field="archs" if runs else "workloads"
        )
    rows = tuple(_compare_row(label, arch, run, rate_hz, deadline_s) for run in runs for label, arch in loaded)
    return Comparison(rows, rate_hz, tuple(label for label, _ in loaded), tuple(r.graph.name for r in runs), deadline_s)


def _load_arch(arch: str | Path | Arch) -> tuple[str, Arch | str]:
    """(label, Arch) or (the file's stem, the error as text): a broken file is a row, not the end."""
    if isinstance(arch, Arch):
        return arch.name, arch
    try:
        loaded = load_arch(arch)
    except TinysimError as err:
        return Path(arch).stem, str(err)
    return loaded.name, loaded


def _compare_row(
    label: str, arch: Arch | str, run: WorkloadRun, rate_hz: float, deadline_s: float | None
) -> ComparisonRow:
    name, peak = run.graph.name, run.arena_bytes
    if isinstance(arch, str):
        return ComparisonRow(label, name, peak, error=arch)
    try:
        evaluation = price_run(arch, run, deadline=deadline_s, rate=rate_hz)
        return ComparisonRow(label, name, evaluation.result.arena_bytes, evaluation)
    except TinysimError as err:  # without its file prefix: the row names the architecture
        return ComparisonRow(label, name, peak, error=err.message)
    except Exception as err:  # another kind's cost model failing must not hide the other rows
        log.debug("pricing %s on %s failed", name, label, exc_info=True)
        return ComparisonRow(label, name, peak, error=f"internal error: {type(err).__name__}: {err}")


# --- always-on -------------------------------------------------------------------------------------------------


def always_on(
    scenario: str | Path | Scenario,
    *,
    arch: str | Path | Arch | None = None,
    duration: Quantity | None = None,
    battery: str | Battery | None = None,
    seed: int = 0,
    fast_forward: bool = True,
    timeline: tuple[Quantity, Quantity] | None = None,
) -> AlwaysOnResult:
    """Simulate an always-on scenario, as `tinysim always-on`: average power with its breakdown, counts,
    battery life. `arch`: a path, a name under archs/ ("ecm3532") or an Arch (default: the scenario's);
    `duration` default the scenario's; `timeline=(start, end)` records the power intervals in that window."""
    from tinysim.system.battery import Battery, parse_battery
    from tinysim.system.run import resolve_arch, run_always_on
    from tinysim.system.scenario import Scenario, load_scenario

    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    arch = arch if isinstance(arch, Arch) else resolve_arch(scenario, arch)
    if battery is None:  # the scenario's `battery:` block, else the CLI's default cell
        battery = scenario.battery or parse_battery("225mAh@3V", field="battery")
    elif not isinstance(battery, Battery):
        battery = parse_battery(battery, field="battery")
    window = None
    if timeline is not None:
        start, end = timeline
        window = (_quantity(start, Dimension.TIME, "timeline"), _quantity(end, Dimension.TIME, "timeline"))
    return run_always_on(
        scenario,
        arch,
        duration_s=_quantity(duration, Dimension.TIME, "duration"),
        battery=battery,
        fast_forward=fast_forward,
        timeline_s=window,
        prepared=run_workload(scenario.workload_path, seed=seed),
    )


# --- sweep -----------------------------------------------------------------------------------------------------


def sweep(
    spec: str | Path | SweepSpec,
    *,
    output: str | Path | None = None,
    jobs: int = 1,
    dask: str | None = None,
    chunk: int | None = None,
    exact: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResults:
    """Evaluate a design-space sweep, as `tinysim sweep`, and return everything in its results store.

    `output`: the SQLite results file (resumed when it holds the same sweep); None keeps it in a temporary
    folder, deleted once read. `jobs` local processes or `dask` ("local:N", "tcp://HOST:PORT");
    `progress(rows_done, rows_total)` is called as results arrive.
    """
    from tinysim.explore.executors import make_executor
    from tinysim.explore.runner import run_sweep
    from tinysim.explore.store import read_sweep
    from tinysim.explore.sweep_spec import SweepSpec, load_sweep

    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    if chunk is not None and chunk < 1:
        raise TinysimError(f"expected a positive chunk size, got {chunk}", field="chunk")
    with tempfile.TemporaryDirectory(prefix="tinysim-sweep-") as scratch:
        path = Path(output) if output is not None else Path(scratch) / "results.sqlite"
        executor = make_executor(jobs, dask)
        try:
            run_sweep(spec, path, executor, progress=progress, chunk_size=chunk, exact=exact)
        finally:
            executor.close()
        return read_sweep(path)


# --- compress --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CompressionResult:
    """A compressed workload: per-layer sizes measured from the encoded streams, fidelity against the
    original, and (when asked) per-layer pruning sensitivity and the effect on an architecture."""

    original: Graph
    compressed: Compressed  # .graph runs on the engine; .sizes per layer; .total
    fidelity: tuple[Fidelity, ...]
    sensitivity: tuple[LayerSensitivity, ...] | None = None  # None: not asked for
    hardware: HardwareEffect | None = None
    files: tuple[Path, ...] = ()  # the workload written (YAML, .npz) when `out` was given

    @property
    def graph(self) -> Graph:
        return self.compressed.graph

    def to_dict(self) -> dict[str, Any]:
        """Plain data (bytes, bits, dB in the key names): what `tinysim compress --format json` prints."""
        from tinysim.report.compress_report import as_data, hardware_record, sensitivity_record

        data = as_data(self.compressed, list(self.fidelity))
        if self.sensitivity is not None:
            data["sensitivity"] = [sensitivity_record(r) for r in self.sensitivity]
        if self.hardware is not None:
            data["hardware"] = hardware_record(self.hardware)
        return data

    def to_dataframe(self, *, per_layer: bool = False):
        """One row per weighted layer (`per_layer`), or one row: the workload, the options and the totals
        (needs pandas)."""
        pd = pandas()
        data = self.to_dict()
        if per_layer:
            return pd.DataFrame(data["layers"])
        total = {k: v for k, v in data["total"].items() if k not in ("layer", "kind")}
        return pd.DataFrame([{"workload": data["workload"], **data["options"], **total}])


def compress(
    workload: str | Path | Graph,
    *,
    prune: float = 0.0,
    granularity: str = "weight",
    scope: str = "layer",
    bits: int | None = None,
    share: bool = False,
    huffman: bool = False,
    bias_correction: bool = False,
    calibrate: str | Path | Sequence[np.ndarray] | None = None,
    inputs: int = 16,
    seed: int = 0,
    sample: str | Path | Sequence[np.ndarray] | None = None,
    sensitivity: bool = False,
    arch: str | Path | Arch | None = None,
    operating_point: str | None = None,
    out: str | Path | None = None,
) -> CompressionResult:
    """Deep Compression of a workload's weights, as `tinysim compress`: prune (`prune` sparsity, per weight or
    channel, per layer or global), re-quantize to `bits` or `share` 2^bits values, Huffman-code; fidelity on
    `inputs` seeded random inputs and on `sample` (an AD clip file, or int8 arrays); `arch`: price original and
    compressed; `out`: write the compressed workload (YAML + .npz) that `evaluate` and `tinysim run` accept."""
    from tinysim.compression.fidelity import compare as fidelity_of
    from tinysim.compression.fidelity import random_inputs
    from tinysim.compression.pipeline import compress as compress_graph

    options = _compress_options(prune, granularity, scope, bits, share, huffman, bias_correction, calibrate)
    if sensitivity and not prune:
        raise TinysimError("a sensitivity analysis needs a sparsity to prune each layer to", field="prune")
    graph = workload if isinstance(workload, Graph) else load_workload(workload)
    calibration = None if calibrate is None else _samples(calibrate, graph, "calibrate")[1]
    compressed = compress_graph(graph, options, calibration)
    fidelity = []
    if inputs > 0:
        fidelity.append(
            fidelity_of(graph, compressed.graph, random_inputs(graph, inputs, seed), f"{inputs} seeded random")
        )
    if sample is not None:
        label, windows = _samples(sample, graph, "sample")
        fidelity.append(fidelity_of(graph, compressed.graph, windows, label))
    rows = None
    if sensitivity:
        from tinysim.compression.sensitivity import prune_sensitivity

        label, probe = (
            (label, windows)
            if sample is not None
            else (f"{max(inputs, 1)} seeded random", random_inputs(graph, max(inputs, 1), seed))
        )
        rows = tuple(prune_sensitivity(graph, prune, probe, label, granularity=granularity))
    hardware = None
    if arch is not None:
        from tinysim.compression.hardware import hardware_effect
        from tinysim.engine import random_input

        arch = arch if isinstance(arch, Arch) else load_arch(arch)
        hardware = hardware_effect(arch, graph, compressed, random_input(graph, seed), operating_point)
    result = CompressionResult(graph, compressed, tuple(fidelity), rows, hardware)
    if out is None:
        return result
    from tinysim.workload.npz_graph import save_graph_npz

    try:
        files = save_graph_npz(compressed.graph, out, extra={"compression": result.to_dict()})
    except OSError as err:
        raise TinysimError(f"cannot write: {err.strerror}", file=str(out), field="out") from err
    return CompressionResult(graph, compressed, tuple(fidelity), rows, hardware, tuple(files))


def _compress_options(prune, granularity, scope, bits, share, huffman, bias_correction, calibrate):
    from tinysim.compression.pipeline import CompressOptions

    if not 0.0 <= prune < 1.0:
        raise TinysimError(f"expected a sparsity in [0, 1), got {prune}", field="prune")
    if bits is not None and not 2 <= bits <= 8:
        raise TinysimError(f"expected 2..8 bits, got {bits}", field="bits")
    if share and bits is None:
        raise TinysimError("weight sharing needs a number of bits N (2^N shared values per layer)", field="share")
    if calibrate is not None and not bias_correction:
        raise TinysimError("a calibration sample is only used with bias correction", field="calibrate")
    for name, value, allowed in (
        ("granularity", granularity, ("weight", "channel")),
        ("scope", scope, ("layer", "global")),
    ):
        if value not in allowed:
            raise TinysimError(f"expected one of {', '.join(allowed)}, got {value!r}", field=name)
    return CompressOptions(prune, granularity, scope, bits, share, huffman, bias_correction)


def _samples(source: str | Path | Sequence[np.ndarray], graph: Graph, name: str) -> tuple[str, list[np.ndarray]]:
    """(label, int8 inputs): an AD-style sample clip file cut into windows, or the arrays as given."""
    from tinysim.compression.fidelity import ad_windows

    if not isinstance(source, (str, Path)):
        return f"{len(source)} given inputs", [np.asarray(x) for x in source]
    try:
        return f"{Path(source).name} windows", ad_windows(source, graph)
    except (OSError, ValueError) as err:
        raise WorkloadError(str(err), file=str(source), field=name) from err


# --- helpers ---------------------------------------------------------------------------------------------------


@overload
def _quantity(value: Quantity, dim: Dimension, name: str) -> float: ...
@overload
def _quantity(value: Quantity | None, dim: Dimension, name: str) -> float | None: ...
def _quantity(value: Quantity | None, dim: Dimension, name: str) -> float | None:
    """None, an SI number as it is, or a string with a unit parsed ("10 Hz", "50 ms")."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return parse_quantity(str(value), dim, field=name)


def _positive(value: Quantity | None, dim: Dimension, name: str, what: str) -> float | None:
    """`_quantity`, and a CostError unless positive (None stays None)."""
    number = _quantity(value, dim, name)
    if number is not None and number <= 0:
        raise CostError(f"expected a positive {what}, got {value}", field=name)
    return number


def _many(items: Any, single: tuple[type, ...]) -> list:
    """One item or an iterable of them, as a list."""
    return [items] if isinstance(items, single) else list(items)
