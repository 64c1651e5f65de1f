"""Where chunks of design points are evaluated: this process, local worker processes, or a Dask cluster.

A `Task` is a chunk of points of one `WorkloadJob`: everything a worker needs to price them (the
parsed sweep, the base architecture mapping with its `extends:` chain merged, and the workload run
once on the client: graph, events, arena), so a worker reads no file and needs no working directory
of the client's. Each executor sends a job to a worker once, not once per chunk, and `evaluate_task`
keeps one `Evaluator` per job per worker process. Every executor's `run(tasks)` yields each task's
rows as they complete, in whatever order.

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
from tinysim.explore.sweep_spec import SweepSpec
from tinysim.pipeline import WorkloadRun

__all__ = ["DaskExecutor", "LocalExecutor", "SweepJob", "Task", "WorkloadJob", "evaluate_task", "make_executor"]

Points = tuple[tuple[str, Mapping[str, Any]], ...]  # (point_id, point) pairs


@dataclass(frozen=True, eq=False)
class SweepJob:
    """A sweep as a worker needs it; `key` (the sweep's definition hash) names it in a worker's caches."""

    key: str
    spec: SweepSpec
    base_data: Any  # the base architecture mapping, `extends:` merged on the client (line numbers kept)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SweepJob) and other.key == self.key


@dataclass(frozen=True, eq=False)
class WorkloadJob:
    """One workload of a sweep, run once on the client."""

    sweep: SweepJob
    workload: str  # its file as the client names it: the rows are keyed by its stem
    run: WorkloadRun

    def __hash__(self) -> int:
        return hash((self.sweep.key, self.workload))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkloadJob) and (other.sweep, other.workload) == (self.sweep, self.workload)


@dataclass(frozen=True)
class Task:
    """A chunk of (point_id, point) pairs of one workload job."""

    job: WorkloadJob
    points: Points
    exact: bool = False  # every point through tinysim.pipeline on its own (the reference path), none vectorised


@functools.lru_cache(maxsize=2)
def _space(sweep: SweepJob) -> DesignSpace:
    """One design space per sweep in a worker process (its parsed blocks are shared by the workloads)."""
    return DesignSpace(sweep.spec, base_data=sweep.base_data)


@functools.lru_cache(maxsize=8)
def _evaluator(job: WorkloadJob) -> Evaluator:
    return Evaluator(_space(job.sweep), job.workload, run=job.run)


def evaluate_points(job: WorkloadJob, points: Points, exact: bool = False) -> list[ResultRow]:
    """The rows of a chunk of `job` (runs in a worker)."""
    return _evaluator(job).evaluate(points, exact=exact)


def evaluate_task(task: Task) -> list[ResultRow]:
    return evaluate_points(task.job, task.points, task.exact)


def _jobs(tasks: list[Task]) -> dict[WorkloadJob, int]:
    """The tasks' distinct jobs, numbered."""
    jobs: dict[WorkloadJob, int] = {}
    for task in tasks:
        jobs.setdefault(task.job, len(jobs))
    return jobs


_INSTALLED: tuple[WorkloadJob, ...] = ()  # a pool worker's jobs, set once by its initializer


def _install(jobs: tuple[WorkloadJob, ...]) -> None:
    global _INSTALLED
    _INSTALLED = jobs


def _evaluate_installed(index: int, points: Points, exact: bool) -> list[ResultRow]:
    return evaluate_points(_INSTALLED[index], points, exact)


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
        tasks = list(tasks)
        jobs = _jobs(tasks)  # sent once per process (initializer), not with every chunk
        with concurrent.futures.ProcessPoolExecutor(self.jobs, initializer=_install, initargs=(tuple(jobs),)) as pool:
            futures = [pool.submit(_evaluate_installed, jobs[t.job], t.points, t.exact) for t in tasks]
            try:
                for future in concurrent.futures.as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()

    def close(self) -> None:
        pass


def _identity(job: WorkloadJob) -> WorkloadJob:
    return job


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

        tasks = list(tasks)
        # Each job is the result of a task of its own, not scattered data: a worker fetches it once, and
        # when the workers holding it die the scheduler computes it again from the task it keeps.
        jobs = {job: self.client.submit(_identity, job, pure=False) for job in _jobs(tasks)}
        futures = [self.client.submit(evaluate_points, jobs[t.job], t.points, t.exact, pure=False) for t in tasks]
        pending = set(futures)
        try:
            for future in as_completed(futures):
                rows = future.result()
                pending.discard(future)
                future.release()  # the rows are here: a worker that dies now costs no recomputation of them
                yield rows
        finally:
            self.client.cancel([*pending, *jobs.values()])

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(jobs: int = 1, dask: str | None = None) -> LocalExecutor | DaskExecutor:
    return DaskExecutor(dask) if dask else LocalExecutor(jobs)
