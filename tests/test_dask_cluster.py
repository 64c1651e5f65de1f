"""A sweep on a real Dask cluster: `dask scheduler` and two `dask worker` processes started here, each worker in
an empty folder of its own, so a worker can read none of the client's files; one worker is killed mid-sweep.

The sweep's base is a user architecture in the client's folder that `extends:` another user file that extends a
shipped one, and its paths are relative to the client's working directory (the setting where tasks that carried
file paths failed on the workers). The store must equal an in-process run's, with every (point, workload) once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tinysim.explore.executors import DaskExecutor, LocalExecutor
from tinysim.explore.runner import run_sweep
from tinysim.explore.store import read_sweep
from tinysim.explore.sweep_spec import load_sweep

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")
START_TIMEOUT_S = 60.0

MID = """\
    version: 1
    extends: ndp120
    name: mid
    compute:
      core2:
        cycles_per_activation: {value: 2.0, assumed: "test: a slower array than the NDP120's"}
"""
USER = """\
    version: 1
    extends: mid.yaml
    name: user
    memories:
      act_sram:
        read_energy: {value: 7 pJ, assumed: "test: a costlier SRAM than the NDP120's"}
"""
SWEEP = """\
    version: 1
    name: cluster
    base: arch/user.yaml
    axes:
      compute.core2.rows: [32, 64, 128]
      compute.core2.arrays: [8, 1536]
      compute.core2.weight_bits: [4, 8]
      operating_point: [mlperf, fast]
    workloads: [kws_fc.yaml, fc4_audio.yaml]
    objectives: [latency, energy, average_power]
    rate: 1 Hz
    constraints: {deadline: 100 ms}
"""


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _start(args: list[str], cwd: Path, procs: list[subprocess.Popen]) -> subprocess.Popen:
    cwd.mkdir()
    with open(cwd.parent / f"{cwd.name}.log", "wb") as log:
        proc = subprocess.Popen([str(DASK), *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)
    return proc


@pytest.fixture
def cluster(tmp_path_factory):
    """(scheduler address, {worker name: process}); every process is stopped at the end, whatever happens."""
    if not DASK.exists():
        pytest.skip(f"no {DASK}")
    home = tmp_path_factory.mktemp("cluster")
    procs: list[subprocess.Popen] = []
    try:
        scheduler_file = home / "scheduler.json"
        common = ["--scheduler-file", str(scheduler_file)]
        _start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", *common], home / "s", procs)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert time.monotonic() < deadline, (home / "s.log").read_text()
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        workers = {}
        for name in ("w0", "w1"):  # no nanny: the process killed is the worker itself, and nothing restarts it
            args = ["worker", "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"]
            workers[name] = _start([*args, "--local-directory", ".", *common], home / name, procs)
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address, workers
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _client_folder(tmp_path: Path) -> Path:
    client = tmp_path / "client"
    (client / "arch").mkdir(parents=True)
    (client / "arch" / "mid.yaml").write_text(textwrap.dedent(MID))
    (client / "arch" / "user.yaml").write_text(textwrap.dedent(USER))
    (client / "sweep.yaml").write_text(textwrap.dedent(SWEEP))
    for name in ("kws_fc.yaml", "fc4_audio.yaml"):
        shutil.copy(ROOT / "workloads" / name, client / name)
    return client


def _rows(path: Path) -> list:
    return sorted((r.point_id, r.workload, r) for r in read_sweep(path).results)


def test_sweep_survives_a_killed_worker_and_matches_a_local_run(tmp_path, monkeypatch, cluster):
    address, workers = cluster
    monkeypatch.chdir(_client_folder(tmp_path))
    spec = load_sweep("sweep.yaml")
    assert not spec.base_arch.is_absolute() and not spec.workloads[0].is_absolute()  # meaningless from a worker

    local = run_sweep(spec, tmp_path / "local.sqlite", LocalExecutor(1))
    reference = _rows(tmp_path / "local.sqlite")
    assert len(reference) == 24 * 2 and {r.status for *_, r in reference} == {"ok", "invalid"}

    executor = DaskExecutor(address)
    killed: dict[str, object] = {}

    def kill_after_first_chunk(done: int, total: int) -> None:
        if done == 0 or killed:
            return
        # the worker with the most chunks on it: chunks it runs or holds the rows of (not yet gathered)
        processing, held = executor.client.processing(), executor.client.has_what()
        names = {a: w["name"] for a, w in executor.client.scheduler_info()["workers"].items()}

        def chunks(address: str) -> int:
            keys = (*processing.get(address, ()), *held.get(address, ()))
            return sum(str(k).startswith("evaluate_points-") for k in keys)

        victim = max(names, key=chunks)
        killed.update(name=names[victim], chunks=chunks(victim), done=done)
        os.kill(workers[names[victim]].pid, signal.SIGKILL)
        workers[names[victim]].wait(timeout=10)

    try:
        assert executor.workers == 2
        result = run_sweep(spec, tmp_path / "dask.sqlite", executor, chunk_size=1, progress=kill_after_first_chunk)
        survivors = [w["name"] for w in executor.client.scheduler_info()["workers"].values()]
    finally:
        executor.close()

    assert killed and killed["done"] < result.points * result.workloads  # killed mid-sweep, not after it
    assert killed["chunks"] > 0  # the dead worker took chunks with it: they were evaluated again
    assert survivors == [n for n in workers if n != killed["name"]]
    assert (result.written, result.skipped) == (local.written, 0) == (48, 0)  # no chunk delivered twice
    assert _rows(tmp_path / "dask.sqlite") == reference
