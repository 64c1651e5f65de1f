"""Sweeps: YAML validation, sampling, vectorised pricing == simulate(), invalid points, executors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tinysim.arch import parse_arch
from tinysim.cost import simulate
from tinysim.errors import SpecError, TinysimError
from tinysim.explore.design import DesignSpace, point_mapping
from tinysim.explore.evaluate import Evaluator
from tinysim.explore.executors import DaskExecutor, LocalExecutor
from tinysim.explore.runner import run_sweep
from tinysim.explore.store import StoreError, point_id, read_sweep
from tinysim.explore.sweep_spec import Method, load_sweep, sample_points, si_value

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = sorted((ROOT / "workloads" / "sweeps").glob("*.yaml"))


def write_sweep(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body).replace("ROOT", str(ROOT)))
    return path


SMALL = """\
    version: 1
    name: small
    base: ROOT/archs/ndp120.yaml
    axes:
      compute.core2.arrays: [8, 1536]
      compute.core2.weight_bits: [4, 8]
      memories.act_sram.size: [8 KiB, 256 KiB]
      operating_point: [mlperf, fast]
    workloads: [ROOT/workloads/kws.yaml, ROOT/workloads/ic.yaml]
    objectives: [latency, energy, average_power]
    rate: 5 Hz
    constraints: {deadline: 10 ms}
"""


@pytest.mark.parametrize("path", SWEEPS, ids=lambda p: p.stem)
def test_shipped_sweeps_load(path):
    spec = load_sweep(path)
    assert len(sample_points(spec)) == spec.size
    DesignSpace(spec)


@pytest.mark.parametrize(
    "line, body, message",
    [
        (5, "      compute.core2: [1]\n", "expected a path into a compute unit"),
        (5, "      compute.nope.rows: [1]\n", 'has no "compute.nope"'),
        (5, "      operating_point: [turbo]\n", "no operating point named 'turbo'"),
        (5, "      compute.core2.rows: []\n", "at least one value"),
    ],
)
def test_axis_errors_are_one_line_with_file_and_line(tmp_path, line, body, message):
    path = write_sweep(
        tmp_path,
        "version: 1\nname: x\nbase: ROOT/archs/ndp120.yaml\naxes:\n" + body + "workloads: [ROOT/workloads/kws.yaml]\n",
    )
    with pytest.raises(TinysimError) as err:
        DesignSpace(load_sweep(path))
    text = str(err.value)
    assert text.startswith(f"{path}:{line}: axes.") and message in text and "\n" not in text


def test_other_field_errors(tmp_path):
    base = "version: 1\nname: x\nbase: ROOT/archs/ndp120.yaml\naxes: {compute.core2.rows: [64]}\n"
    cases = {
        "workloads: [ROOT/workloads/nope.yaml]\n": ":5: workloads[0]: no such file",
        "workloads: [ROOT/workloads/kws.yaml]\nsampling: {method: random}\n": ':6: sampling.count: missing required key "count"',
        "workloads: [ROOT/workloads/kws.yaml]\nobjectives: [speed]\n": ":6: objectives[0]: expected one of latency",
        "workloads: [ROOT/workloads/kws.yaml]\nobjectives: [average_power]\n": 'objective "average_power" needs `rate:`',
        "workloads: [ROOT/workloads/kws.yaml]\nsampling: {method: sobol, count: 3}\n": ":6: sampling.method: expected a Method",
    }
    for tail, message in cases.items():
        with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("(", r"\(")):
            load_sweep(write_sweep(tmp_path, base + tail))


def test_sampling_methods(tmp_path):
    spec = load_sweep(write_sweep(tmp_path, SMALL))
    assert spec.method is Method.GRID and len(sample_points(spec)) == 16
    rnd = load_sweep(write_sweep(tmp_path, SMALL + "    sampling: {method: random, count: 10, seed: 3}\n"))
    points = sample_points(rnd)
    assert len(points) == 10 and len({point_id(p) for p in points}) == 10 and points == sample_points(rnd)
    lhs = load_sweep(write_sweep(tmp_path, SMALL + "    sampling: {method: latin-hypercube, count: 8, seed: 1}\n"))
    points = sample_points(lhs)
    for axis in lhs.axes:  # each value list is stratified: every value appears
        assert {p[axis.path] for p in points} == set(axis.values)
    assert si_value("256 KiB") == 262144 and si_value("mlperf") == "mlperf" and si_value(8) == 8


def _exact(space: DesignSpace, evaluator: Evaluator, point):
    """The definition: parse the whole point mapping and price it with simulate()."""
    arch = parse_arch(point_mapping(space.base_data, point), file=space.base_file)
    return simulate(
        arch,
        evaluator.graph,
        evaluator.events,
        operating_point=space.operating_point_name(point),
        arena_bytes=evaluator.arena_bytes,
        events_source="engine",
    )


SYSTOLIC = """\
    version: 1
    name: systolic
    base: ROOT/archs/systolic-16x16.yaml
    axes:
      compute.array.rows: [8, 16, 32]
      compute.array.cols: [8, 32]
      compute.array.dataflow: [output_stationary, weight_stationary]
      memories.ifmap_sram.size: [1 KiB, 64 KiB]
    workloads: [ROOT/workloads/kws.yaml]
"""


DSP = """\
    version: 1
    name: dsp
    base: ROOT/archs/ecm3532.yaml
    axes:
      compute.dsp.macs_per_cycle: [1, 2, 4]
      compute.dsp.cycles_per_issue.default: [1, 1.25]
      memories.sram.size: [32 KiB, 256 KiB]
      memories.flash.bandwidth: [10 MB/s, 1 GB/s]
      operating_point: [cvfs20, cvfs100]
    workloads: [ROOT/workloads/kws.yaml]
"""
INLINE = {"systolic": SYSTOLIC, "dsp": DSP}


@pytest.mark.parametrize("sweep", [*SWEEPS, *INLINE], ids=lambda p: getattr(p, "stem", p))
def test_vectorised_equals_simulate(tmp_path, sweep):
    spec = load_sweep(write_sweep(tmp_path, INLINE[sweep]) if sweep in INLINE else sweep)
    space = DesignSpace(spec)
    points = sample_points(spec)
    sample = points[:: max(1, len(points) // 12)]
    evaluator = Evaluator(space, spec.workloads[0])
    rows = evaluator.evaluate([(point_id(p), p) for p in points])
    for point in sample:
        row = rows[points.index(point)]
        try:
            result = _exact(space, evaluator, point)
        except TinysimError as exc:
            assert row.status == "invalid" and row.reason == " ".join(str(exc).split())
            continue
        assert row.status == "ok", row.reason
        assert row.latency_s == pytest.approx(result.latency_s, rel=1e-9)
        assert row.energy_j == pytest.approx(result.energy_j, rel=1e-9)
        assert row.cycles == pytest.approx(result.cycles, rel=1e-9)
        assert row.energy_breakdown == pytest.approx(result.energy_breakdown_j(), rel=1e-9)
        assert row.fits == int(result.weights_fit and result.arena_fits)
        assert row.weights_bytes == result.weights_bytes and row.operating_point == result.operating_point
        if row.average_power_w is not None:
            assert row.average_power_w == pytest.approx(result.average_power_w(spec.rate_hz), rel=1e-9)


def test_invalid_points_are_rows_with_reasons(tmp_path):
    body = SMALL.replace("[8 KiB, 256 KiB]", "[-1 KiB, 256 KiB]")
    spec = load_sweep(write_sweep(tmp_path, body))
    evaluator = Evaluator(DesignSpace(spec), spec.workloads[1])
    points = sample_points(spec)
    rows = {r.point_id: r for r in evaluator.evaluate([(point_id(p), p) for p in points])}
    for point in points:
        row = rows[point_id(point)]
        if point["memories.act_sram.size"] == "-1 KiB":
            assert row.status == "invalid" and "ndp120.yaml:" in row.reason and "memories.act_sram.size" in row.reason
        elif point["compute.core2.arrays"] == 8:
            assert row.status == "invalid" and "cannot be mapped" in row.reason
        else:
            assert row.status == "ok" and row.latency_s > 0
            assert row.meets_deadline == int(row.latency_s <= 10e-3)
            assert row.fits == 1


def test_run_resume_and_other_definition(tmp_path):
    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "r.sqlite"
    seen = []
    first = run_sweep(load_sweep(path), out, LocalExecutor(1), progress=lambda d, t: seen.append((d, t)), chunk_size=5)
    assert (first.points, first.written, first.skipped) == (16, 32, 0) and seen[-1] == (32, 32)
    again = run_sweep(load_sweep(path), out, LocalExecutor(1))
    assert (again.written, again.skipped) == (0, 32)
    sweep = read_sweep(out)
    assert len(sweep.points) == 16 and len(sweep.results) == 32
    assert sweep.meta["sweep_name"] == "small" and sweep.meta["rate_hz"] == "5.0" and sweep.meta["deadline_s"] == "0.01"
    assert sweep.points[0].params["memories.act_sram.size"] == 8192
    assert json.loads(sweep.meta["constraints"]) == {"fits": True, "deadline_s": 0.01}
    assert json.loads(sweep.meta["objectives"]) == ["latency", "energy", "average_power"]
    other = write_sweep(tmp_path, SMALL.replace("name: small", "name: other"), "o.yaml")
    with pytest.raises(StoreError, match="another sweep definition"):
        run_sweep(load_sweep(other), out, LocalExecutor(1))


def _results(path):
    return sorted((r.point_id, r.workload, r) for r in read_sweep(path).results)


def test_process_pool_and_dask_local_cluster_match_in_process(tmp_path):
    pytest.importorskip("distributed")
    spec = load_sweep(write_sweep(tmp_path, SMALL))
    run_sweep(spec, tmp_path / "one.sqlite", LocalExecutor(1))
    run_sweep(spec, tmp_path / "pool.sqlite", LocalExecutor(2), chunk_size=4)
    dask = DaskExecutor("local:2")
    try:
        assert dask.cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        run_sweep(spec, tmp_path / "dask.sqlite", dask, chunk_size=4)
        remote = DaskExecutor(dask.cluster.scheduler_address)  # the tcp://HOST:PORT path, same cluster
        try:
            assert remote.workers == 2
            run_sweep(spec, tmp_path / "tcp.sqlite", remote, chunk_size=4)
        finally:
            remote.close()
    finally:
        dask.close()
    reference = _results(tmp_path / "one.sqlite")
    assert len(reference) == 32
    assert _results(tmp_path / "pool.sqlite") == reference
    assert _results(tmp_path / "dask.sqlite") == reference
    assert _results(tmp_path / "tcp.sqlite") == reference


def test_cli_sweep_summary_and_errors(tmp_path, capsys):
    from tinysim.cli.main import main

    path = write_sweep(tmp_path, SMALL)
    out = tmp_path / "cli.sqlite"
    assert main(["sweep", str(path), "-o", str(out), "--quiet"]) == 0
    assert "small: 16 points x 2 workloads; 32 rows written (16 invalid), 0 already in" in capsys.readouterr().out
    assert main(["sweep", str(path), "-o", str(out), "--resume", "--quiet"]) == 0
    assert "0 rows written (0 invalid), 32 already in" in capsys.readouterr().out
    other = write_sweep(tmp_path, SMALL.replace("rate: 5 Hz", "rate: 2 Hz"), "o.yaml")
    assert main(["sweep", str(other), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tinysim: {out}: holds results of another sweep definition") and err.count("\n") == 1
    assert main(["sweep", str(path), "-o", str(tmp_path / "x.sqlite"), "--jobs", "0"]) == 2


def test_values_written_two_ways_are_one_point(tmp_path):
    body = SMALL.replace("[8 KiB, 256 KiB]", "[8 KiB, 8192, 256 KiB]").replace("[8, 1536]", "[1536]")
    run = run_sweep(load_sweep(write_sweep(tmp_path, body)), tmp_path / "r.sqlite", LocalExecutor(1))
    assert (run.points, run.written) == (8, 16)
    assert [p.point_index for p in read_sweep(tmp_path / "r.sqlite").points] == [0, 1, 4, 5, 6, 7, 10, 11]
