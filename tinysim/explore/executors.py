"""Where chunks of design points are evaluated: this process, local worker processes, or a Dask cluster.

A `Task` is one workload and a chunk of points; `evaluate_task` (importable, picklable) turns it
into result rows, keeping one `Evaluator` per (sweep, workload) per worker process so the engine
runs once per workload and worker. Every executor's `run(tasks)` yields each task's rows as
they complete, in whatever order.

    LocalExecutor(jobs=4)                 # concurrent.futures ProcessPoolExecutor (jobs=1: in process)
    DaskExecutor("tcp://10.0.0.5:8786")   # an existing cluster (pip install 'tinysim-hw[dask]')
    DaskExecutor("local:4")               # a LocalCluster of 4 single-thread workers on 127.0.0.1
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.errors import TinysimError
from tinysim.explore.design import DesignSpace
from tinysim.explore.evaluate import Evaluator
from tinysim.explore.store import ResultRow
from tinysim.explore.sweep_spec import parse_sweep
from tinysim.schema.yamlio import load_yaml_text

__all__ = ["DaskExecutor", "LocalExecutor", "Task", "evaluate_task", "make_executor"]


@dataclass(frozen=True)
class Task:
    """One workload and a chunk of (point_id, point) pairs of the sweep whose file text is `sweep_text`."""

    sweep_path: str
    sweep_text: str
    workload: str
    points: tuple[tuple[str, Mapping[str, Any]], ...]
    exact: bool = False  # every point through tinysim.pipeline on its own (the reference path), none vectorised


@functools.lru_cache(maxsize=2)
def _space(sweep_path: str, sweep_text: str) -> DesignSpace:
    """One design space per sweep in a worker process (its parsed blocks are shared by the workloads)."""
    spec = parse_sweep(load_yaml_text(sweep_text, file=sweep_path), file=sweep_path, text=sweep_text)
    return DesignSpace(spec)


@functools.lru_cache(maxsize=8)
def _evaluator(sweep_path: str, sweep_text: str, workload: str) -> Evaluator:
    return Evaluator(_space(sweep_path, sweep_text), workload)


def evaluate_task(task: Task) -> list[ResultRow]:
    """The rows of one task (runs in a worker)."""
    return _evaluator(task.sweep_path, task.sweep_text, task.workload).evaluate(task.points, exact=task.exact)


class LocalExecutor:
    """`jobs` worker processes (1: evaluate in this process, no pool)."""

    def __init__(self, jobs: int = 1) -> None:
        if jobs < 1:
            raise TinysimError(f"expected at least one job, got {jobs}", field="jobs")
        self.jobs = self.workers = jobs

    def run(self, tasks: Iterable[Task]) -> Iterator[list[ResultRow]]:
        if self.jobs == 1:
            for task in tasks:
                yield evaluate_task(task)
            return
        with concurrent.futures.ProcessPoolExecutor(max_workers=self.jobs) as pool:
            futures = [pool.submit(evaluate_task, task) for task in tasks]
            try:
                for future in concurrent.futures.as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()

    def close(self) -> None:
        pass


class DaskExecutor:
    """Tasks on a Dask distributed cluster: `tcp://HOST:PORT`, or `local:N` for a LocalCluster on 127.0.0.1."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise TinysimError(
                "Dask is not installed: pip install 'tinysim-hw[dask]' (dask and distributed)", field="dask"
            ) from None
        self.cluster = None
        if address.startswith("local:"):
            try:
                workers = int(address.split(":", 1)[1])
            except ValueError:
                workers = 0
            if workers < 1:
                raise TinysimError(f'expected "local:N" with N >= 1 workers, got "{address}"', field="dask")
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(address, timeout="20s")
            except OSError as exc:
                raise TinysimError(f"cannot reach the Dask scheduler at {address}: {exc}", field="dask") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, tasks: Iterable[Task]) -> Iterator[list[ResultRow]]:
        from distributed import as_completed

        futures = self.client.map(evaluate_task, list(tasks), pure=False)
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(jobs: int = 1, dask: str | None = None) -> LocalExecutor | DaskExecutor:
    return DaskExecutor(dask) if dask else LocalExecutor(jobs)
