"""Streaming: N invocations of a model in a row, its state (LSTM / SVDF variable tensors) carried from
one to the next as on the device, each invocation priced.

    stream = evaluate_frames("archs/ndp120.yaml", "lstm.tflite", frames=10, rate="50 Hz")
    stream.latency_s, stream.energy_j, [f.latency_s for f in stream.frames]

Frame i reads `input[i]` of a `(frames, *input_shape)` array or .npy file, or, without one, the seeded
random input of seed `seed + i`. A stateless model gives independent inferences the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.arch import Arch
from tinysim.cost.vocabulary import whole_cycles
from tinysim.dataframes import pandas
from tinysim.engine import random_input, run_graph, runnable_ops
from tinysim.engine.arena import arena_usage
from tinysim.errors import WorkloadError
from tinysim.pipeline import Evaluation, WorkloadRun, load_array, price_run, resolve_arch
from tinysim.workload import load_workload
from tinysim.workload.graph import Graph

__all__ = ["MAX_FRAMES", "StreamEvaluation", "evaluate_frames", "run_frames"]

MAX_FRAMES = 1_000_000  # a bound on what one call may allocate and run; far above any streaming test


@dataclass(frozen=True)
class StreamEvaluation:
    """`frames` invocations in a row, each priced; totals are sums over the frames."""

    frames: tuple[Evaluation, ...]

    @property
    def latency_s(self) -> float:
        return sum(f.latency_s for f in self.frames)

    @property
    def energy_j(self) -> float:
        return sum(f.energy_j for f in self.frames)

    @property
    def cycles(self) -> float:
        return sum(f.cycles for f in self.frames)

    @property
    def macs(self) -> int:
        return sum(f.macs for f in self.frames)

    @property
    def average_power_w(self) -> float | None:
        """Average power with one frame per period of the rate (None without a rate): the frames' mean."""
        powers = [f.average_power_w for f in self.frames]
        return None if None in powers else sum(p for p in powers if p is not None) / len(powers)

    def to_dict(self, *, per_layer: bool = False) -> dict[str, Any]:
        """The identity fields, totals and one summary per frame (SI units in the key names)."""
        first = self.frames[0].result
        return {
            **first.identity(),
            "frames": len(self.frames),
            "total": {"latency_s": self.latency_s, "energy_j": self.energy_j, "cycles": whole_cycles(self.cycles),
                      "macs": self.macs,
                      "average_power_w": self.average_power_w},
            "per_frame": [{"frame": i, **f.to_dict(per_layer=per_layer)} for i, f in enumerate(self.frames)],
        }

    def to_dataframe(self):
        """One row per frame: latency, energy, cycles, MACs (needs pandas)."""
        rows = [{"frame": i, "latency_s": f.latency_s, "energy_j": f.energy_j, "cycles": f.cycles, "macs": f.macs}
                for i, f in enumerate(self.frames)]  # fmt: skip
        return pandas().DataFrame(rows)


def run_frames(workload: str | Path | Graph, frames: int, *, input: np.ndarray | str | Path | None = None,
               seed: int = 0) -> tuple[WorkloadRun, ...]:  # fmt: skip
    """Run `frames` invocations in a row, the state of each starting where the previous one left it."""
    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise WorkloadError(f"expected a number of frames from 1 to {MAX_FRAMES:,}, got {frames!r}", field="frames")
    graph = workload if isinstance(workload, Graph) else load_workload(workload, runnable=runnable_ops())
    stream = None if input is None else _frames_array(input, graph, frames)
    usage = arena_usage(graph)
    state = None
    runs = []
    for i in range(frames):
        inputs = random_input(graph, seed + i) if stream is None else [np.ascontiguousarray(stream[i])]
        result = run_graph(graph, inputs, state=state)
        state = result.state
        runs.append(WorkloadRun(graph, tuple(result.events), "engine", usage.total_bytes, tuple(result.outputs),
                                usage.head_bytes, usage.persistent_bytes))  # fmt: skip
    return tuple(runs)


def evaluate_frames(arch: str | Path | Arch, workload: str | Path | Graph, frames: int, *,
                    input: np.ndarray | str | Path | None = None, seed: int = 0, operating_point: str | None = None,
                    rate: float | str | None = "1 Hz") -> StreamEvaluation:  # fmt: skip
    """`run_frames`, each frame priced on `arch` at `operating_point` (default the arch's first)."""
    arch = resolve_arch(arch)
    runs = run_frames(workload, frames, input=input, seed=seed)
    evaluations = [price_run(arch, run, operating_point=operating_point, rate=rate) for run in runs]
    return StreamEvaluation(tuple(evaluations))


def _frames_array(source: np.ndarray | str | Path, graph: Graph, frames: int) -> np.ndarray:
    """The stream from an array or a .npy file: `frames` inputs of the graph's first input, in its dtype."""
    array, where = load_array(source, graph, mmap=True)  # a .npy stays mapped: frames are read one at a time
    want = graph.tensor(graph.inputs[0])
    if array.ndim < 1 or array.shape[0] != frames or array[0].size != want.size:
        raise WorkloadError(
            f"expected {frames} frames of shape {list(want.shape)}: an array of shape [{frames}, "
            f"{', '.join(map(str, want.shape))}], got {list(array.shape)}",
            file=where,
            field="input",
        )
    return array.reshape((frames, *want.shape))
