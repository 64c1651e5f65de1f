"""Regression tests for defects found by fuzzing hostile inputs (issue 14): results never silently wrong."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
import tflite
from cli_process import tinysim as _tinysim
from hostile_inputs import billion_point_grid
from tflite_builder import INT8, TensorSpec, single_op_model
from trickle_server import Trickle

from tinysim.errors import TinysimError
from tinysim.system.arrivals import event_times
from tinysim.system.scenario import load_scenario
from tinysim.workload.tflite_import import parse_tflite

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")


def with_probability(scenario, p: float):
    return dataclasses.replace(scenario, events=dataclasses.replace(scenario.events, probability_per_window=p))


@pytest.mark.parametrize("p", [1e-18, 1e-300, 5e-324])
def test_a_tiny_event_probability_gives_about_no_events_and_returns(scenario, p):
    """Numpy's int64 geometric draw wraps around for p below ~1e-12 (1e-18 gave 45 events in 60 s; 1e-300
    looped forever); the expected count over a year is p x windows, i.e. 0 here."""
    start = time.perf_counter()
    times = event_times(with_probability(scenario, p), 365 * 86400.0)
    assert len(times) == 0 and time.perf_counter() - start < 2.0


def test_event_counts_follow_the_probability(scenario):
    """Over 10^6 windows the count is binomial: within 5 standard deviations of n p."""
    windows = 1e6
    for p in (1e-3, 1e-5):
        n = len(event_times(with_probability(scenario, p), windows * scenario.period_s))
        assert abs(n - windows * p) <= 5 * np.sqrt(windows * p * (1 - p)) + 1, (p, n)


def test_floating_point_gaps_have_the_geometric_mean():
    """Below numpy's int64 range the gaps are drawn by the inverse CDF: mean 1/p, within 5 standard errors."""
    from tinysim.system.arrivals import _geometric_gaps

    p, n = 1e-13, 200_000
    gaps = _geometric_gaps(np.random.default_rng(0), p, n)
    sd = np.sqrt(1 - p) / p
    assert abs(gaps.mean() - 1 / p) <= 5 * sd / np.sqrt(n) and gaps.min() >= 1


def _model(zero_point: int) -> bytes:
    return single_op_model(
        tflite.BuiltinOperator.RELU,
        [TensorSpec("x", (1, 4), INT8, (0.5,), (zero_point,)), TensorSpec("y", (1, 4), INT8, (0.5,), (0,))],
        op_inputs=(0,),
        op_outputs=(1,),
    )


@pytest.mark.parametrize("zero_point", [2**40, 2**63 - 1, 128, -129])
def test_int8_zero_points_are_range_checked(tmp_path, zero_point):
    path = tmp_path / "zp.tflite"
    path.write_bytes(_model(zero_point))
    with pytest.raises(TinysimError, match=rf"zero point {zero_point} out of range for INT8 \(-128\.\.127\)") as err:
        parse_tflite(path.read_bytes(), file=str(path))
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_a_constant_graph_output_is_refused_in_one_line(tmp_path):
    weights = TensorSpec("w", (4, 4), INT8, (0.1,), (0,), data=np.ones((4, 4), np.int8))
    model = single_op_model(
        tflite.BuiltinOperator.FULLY_CONNECTED,
        [TensorSpec("x", (1, 4), INT8, (0.5,), (0,)), weights, TensorSpec("y", (1, 4), INT8, (0.5,), (0,))],
        op_inputs=(0, 1, -1),
        op_outputs=(1,),
    )
    path = tmp_path / "const_out.tflite"
    path.write_bytes(model)
    with pytest.raises(TinysimError, match="is a constant"):
        parse_tflite(model, file=str(path))


def test_a_trickling_download_gives_up_and_leaves_nothing(tmp_path, monkeypatch):
    from tinysim.errors import FetchError
    from tinysim.workload import fetch

    monkeypatch.setattr(fetch, "DEADLINE_S", 1.5)  # the real limits scaled down: 120 s / 10 s grace
    monkeypatch.setattr(fetch, "GRACE_S", 0.5)
    server = Trickle()
    try:
        start = time.perf_counter()
        with pytest.raises(FetchError, match="minimum|deadline"):
            fetch.fetch_models(tmp_path, base_url=server.url, names=["kws_ref_model_int8.tflite"])
        assert time.perf_counter() - start < 5.0
    finally:
        server.close()
    assert list(tmp_path.iterdir()) == []  # no .part file left behind


def test_stale_part_files_are_removed_by_the_next_fetch(tmp_path, monkeypatch):
    """A fetch killed with SIGKILL leaves its .part file; the next fetch removes it once it is older than any
    live download can be (a concurrent fetch's fresh file is kept)."""
    import os

    from tinysim.errors import FetchError
    from tinysim.workload import fetch

    stale = tmp_path / ".kws_ref_model_int8.tflite.abc123.part"
    fresh = tmp_path / ".kws_ref_model_int8.tflite.def456.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"half")
    old = time.time() - fetch.DEADLINE_S - 60
    os.utime(stale, (old, old))
    with pytest.raises(FetchError):  # nothing listens on port 9: the download itself fails at once
        fetch.fetch_models(tmp_path, base_url="http://127.0.0.1:9", names=["kws_ref_model_int8.tflite"])
    assert not stale.exists() and fresh.exists()


def test_a_fifo_and_a_device_are_refused_at_once(tmp_path):
    import os

    fifo = tmp_path / "arch.yaml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.tflite"
    zero.symlink_to("/dev/zero")
    for args in (("check", str(fifo)), ("check", str(zero))):
        start = time.perf_counter()
        proc = _tinysim(*args)
        assert proc.returncode == 2 and time.perf_counter() - start < 20, proc.stderr
        assert "not a regular file" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: np.savez(p, a=np.zeros(3)), "a .npz archive"),
        (lambda p: p.write_bytes(b"\x80\x04pickle"), "not a .npy array"),
        (lambda p: np.save(p, np.zeros((40, 40), np.int8)), "expected shape [1, 1600] or [1600]"),
        (lambda p: np.save(p, np.int8(3)), "expected shape [1, 1600]"),
    ],
)
def test_input_arrays_must_be_npy_of_the_model_shape(tmp_path, make, message):
    from tinysim.errors import WorkloadError
    from tinysim.pipeline import run_workload

    path = tmp_path / "x.bin"
    make(path)
    made = next(tmp_path.iterdir())  # numpy appends .npy / .npz to the name
    with pytest.raises(WorkloadError) as err:
        run_workload(ROOT / "workloads" / "kws_fc.yaml", input=made)
    assert message in str(err.value), str(err.value)


def test_a_huge_input_is_refused_before_any_allocation(tmp_path):
    """A 100,000 x 100,000 input passed `check` and died in `run` asking for 9.31 GiB; both now refuse at once."""
    big = tmp_path / "big.yaml"
    big.write_text(
        "version: 1\nname: big\nseed: 0\ninput: {name: x, shape: [1, 100000, 100000, 1], scale: 0.5, "
        "zero_point: 0}\nlayers:\n  - {name: dw1, op: depthwise_conv2d, kernel: 3, padding: same}\n"
    )
    for args in (("check", str(big)), ("run", "stm32l4r5", str(big))):
        start = time.perf_counter()
        proc = _tinysim(*args)
        assert proc.returncode == 2 and time.perf_counter() - start < 20, proc.stderr
        assert "GiB of activations" in proc.stderr and proc.stderr.count("\n") == 1


def test_outputs_are_plain_files_written_with_the_umask(tmp_path):
    import os
    import stat

    out = tmp_path / "r.json"
    old = os.umask(0o022)
    try:
        proc = _tinysim("run", "stm32l4r5", "kws_fc", "--format", "json", "-o", str(out))
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644  # not mkstemp's 0600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("flag", "target", "message"),
    [
        ("--save-output", "{tmp}", 'ending in ".npy"'),
        ("--save-output", "{tmp}/y", 'ending in ".npy"'),
        ("-o", "{tmp}", "is a folder"),
        ("-o", "{tmp}/missing/r.json", "does not exist"),
    ],
)
def test_output_paths_that_are_not_files_are_refused(tmp_path, flag, target, message):
    proc = _tinysim("run", "stm32l4r5", "kws_fc", flag, target.format(tmp=tmp_path))
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_billion_point_grid_is_refused_before_anything_starts(tmp_path):
    """The grid and a Latin hypercube of 1e9 samples: refused before any point is enumerated, nothing written
    (how fast, as a user sees it: benchmarks/refusals.py)."""
    args = billion_point_grid(tmp_path)
    sweep, out = Path(args[1]), Path(args[3])
    start = time.perf_counter()
    proc = _tinysim(*args)
    assert proc.returncode == 2 and "1e+09 design points" in proc.stderr, proc.stderr
    assert time.perf_counter() - start < 30 and not out.exists()  # (58 s of enumeration, then MemoryError, before)
    lhs = tmp_path / "lhs.yaml"
    lhs.write_text(
        sweep.read_text().replace("workloads:", "sampling: {method: latin-hypercube, count: 1e9}\nworkloads:")
    )
    proc = _tinysim("sweep", str(lhs), "-o", str(out))
    assert proc.returncode == 2 and "sampling.count" in proc.stderr and not out.exists(), proc.stderr


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("", 1),
        ("a: " + "[" * 3000 + "]" * 3000 + "\n", 1),
        ("version: 1\nname: x\nb: " + "[" * 3000 + "]" * 3000 + "\n", 3),
    ],
)
def test_empty_and_too_deep_files_name_their_line(tmp_path, content, line):
    from tinysim.arch.loader import load_arch

    path = tmp_path / "x.yaml"
    path.write_text(content)
    with pytest.raises(TinysimError) as err:
        load_arch(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and "\n" not in str(err.value)
