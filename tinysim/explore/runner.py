"""Run a sweep into its results store: sample, skip what is stored, evaluate the rest in chunks, write as they arrive.

A results file remembers its sweep (the sweep text and a hash of the sweep, base architecture and
workload files). Running the same sweep into an existing file resumes it: (point, workload) pairs
already stored are skipped, so a sweep killed at any moment and run again ends with every pair
exactly once. Running a different sweep into it is an error.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinysim.arch.loader import load_arch_yaml
from tinysim.explore.executors import SweepJob, Task, WorkloadJob
from tinysim.explore.store import PointRow, ResultStore, StoreError, point_id
from tinysim.explore.sweep_spec import SweepSpec, sample_points, si_value
from tinysim.pipeline import run_workload
from tinysim.version import __version__

__all__ = ["SweepRun", "definition_hash", "run_sweep"]

Progress = Callable[[int, int], None]  # (rows done, rows in the sweep)


@dataclass(frozen=True)
class SweepRun:
    points: int
    workloads: int
    skipped: int  # rows already in the file (resumed)
    written: int
    invalid: int  # of the rows written


def definition_hash(spec: SweepSpec) -> str:
    """SHA-1 over the sweep text and the bytes of the base architecture and workload files."""
    digest = hashlib.sha1(spec.text.encode())
    for path in (spec.base_arch, *spec.workloads):
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _meta(spec: SweepSpec) -> dict[str, str]:
    return {
        "sweep_name": spec.name,
        "sweep_yaml": spec.text,
        "sweep_path": spec.path or "",
        "base_arch": str(spec.base_arch),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "tinysim_version": __version__,
        "objectives": json.dumps(list(spec.objectives)),
        "rate_hz": "" if spec.rate_hz is None else repr(spec.rate_hz),
        "deadline_s": "" if spec.deadline_s is None else repr(spec.deadline_s),
        "workloads": json.dumps([p.stem for p in spec.workloads]),  # beyond the schema's keys: extras
        "constraints": json.dumps({"fits": spec.fits, "deadline_s": spec.deadline_s}),
        "definition_sha1": definition_hash(spec),
    }


def open_store(spec: SweepSpec, out: str | Path) -> ResultStore:
    """The results file for `spec`: created, or reopened to resume when it holds the same sweep."""
    if not Path(out).exists() or ResultStore.is_empty(out):
        return ResultStore.create(out, _meta(spec))
    store = ResultStore.open(out)
    meta = store.meta()
    if meta.get("definition_sha1") != definition_hash(spec):
        store.close()
        raise StoreError(
            f'holds results of another sweep definition (sweep "{meta.get("sweep_name", "?")}", or its base '
            "architecture or workloads changed); write to another file or delete it",
            file=str(out),
        )
    return store


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    executor,
    *,
    progress: Progress | None = None,
    chunk_size: int | None = None,
    exact: bool = False,
    point_limit: float = 1.0,
) -> SweepRun:
    """Evaluate every (point, workload) of `spec` not yet in `out` on `executor`; rows are committed per chunk.

    `exact` prices every point on its own through `tinysim.pipeline` (the path `tinysim run` takes; slower);
    the rows are identical to the vectorised path's (tested).
    """
    rows: dict[str, PointRow] = {}  # by id: values written two ways ("256 KiB", 262144) are one point
    raw: dict[str, dict] = {}
    si = {(a.path, v): si_value(v) for a in spec.axes for v in a.values}
    for index, point in enumerate(sample_points(spec, point_limit)):
        params = {p: si[p, v] for p, v in point.items()}
        pid = point_id(params)
        if pid not in rows:
            rows[pid], raw[pid] = PointRow(pid, index, params), point
    ids, points = list(raw), list(raw.values())
    workers = max(1, getattr(executor, "workers", 1))
    store = open_store(spec, out)
    try:
        store.add_points(rows.values())
        done = store.done()
        total = len(points) * len(spec.workloads)
        # Workers read no files: the base architecture (extends: merged) and each workload's run travel with the tasks.
        sweep = SweepJob(definition_hash(spec), spec, load_arch_yaml(spec.base_arch))
        tasks = []
        for workload in spec.workloads:
            stem = workload.stem
            pending = [(pid, p) for pid, p in zip(ids, points) if (pid, stem) not in done]
            if not pending:
                continue
            job = WorkloadJob(sweep, str(workload), run_workload(workload, seed=0))
            size = chunk_size or min(4096, max(64, math.ceil(len(pending) / (4 * workers))))
            for start in range(0, len(pending), size):
                tasks.append(Task(job, tuple(pending[start : start + size]), exact))
        skipped = total - sum(len(t.points) for t in tasks)
        written = invalid = 0
        if progress:
            progress(skipped, total)
        for batch in executor.run(tasks):
            store.add_results(batch)
            written += len(batch)
            invalid += sum(r.status != "ok" for r in batch)
            if progress:
                progress(skipped + written, total)
    finally:
        store.close()
    return SweepRun(len(points), len(spec.workloads), skipped, written, invalid)
