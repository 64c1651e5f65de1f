"""One pricing path: every point of every shipped sweep, and random points of mcu and npu units that declare
sparsity and weight decoders (on a compressed workload), priced vectorised and one by one through
`tinysim.pipeline.evaluate()`, give the same figures; `sweep --exact` writes the same SQLite rows."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from tinysim.arch import parse_arch
from tinysim.compression import CompressOptions, compress
from tinysim.explore.design import DesignSpace, point_mapping
from tinysim.explore.evaluate import Evaluator
from tinysim.explore.executors import LocalExecutor
from tinysim.explore.runner import run_sweep
from tinysim.explore.store import point_id
from tinysim.explore.sweep_spec import load_sweep, sample_points
from tinysim.pipeline import evaluate
from tinysim.report.compress_report import as_data
from tinysim.workload import load_workload
from tinysim.workload.npz_graph import save_graph_npz

ROOT = Path(__file__).resolve().parents[1]
SWEEPS = sorted((ROOT / "workloads" / "sweeps").glob("*.yaml"))
FIGURES = ("latency_s", "energy_j", "cycles", "average_power_w")

SPARSE_DECODER = (
    "    sparsity: {skip_zero_weights: true, cycles_per_skipped_mac: 1, assumed: test}\n"
    "    weight_decoder: {kind: huffman, cycles_per_weight: 3, energy_per_weight: 1 pJ, assumed: test}\n"
)


def _rows(spec, workload, exact: bool):
    evaluator = Evaluator(DesignSpace(spec), workload)
    points = [(point_id(p), p) for p in sample_points(spec)]
    return evaluator, points, evaluator.evaluate(points, exact=exact)


def _agree(spec, workload) -> int:
    """Vectorised rows equal the one-by-one rows exactly, and a public `evaluate()` of every point to 1e-9."""
    evaluator, points, fast = _rows(spec, workload, exact=False)
    exact = evaluator.evaluate(points, exact=True)
    assert fast == exact
    space = evaluator.space
    ok = 0
    for (_, point), row in zip(points, fast):
        if row.status != "ok":
            continue
        ok += 1
        arch = parse_arch(point_mapping(space.base_data, point), file=space.base_file)
        e = evaluate(arch, evaluator.run, operating_point=space.operating_point_name(point), rate=spec.rate_hz)
        figures = {"latency_s": e.latency_s, "energy_j": e.energy_j, "cycles": e.cycles,
                   "average_power_w": e.average_power_w if row.average_power_w is not None else None}
        for name in FIGURES:
            if figures[name] is None:  # no average power: an inference outlasts the period
                assert getattr(row, name) is None and not e.rate_sustainable, name
                continue
            assert getattr(row, name) == pytest.approx(figures[name], rel=1e-9, abs=0), name
        assert row.energy_breakdown == pytest.approx(e.result.energy_breakdown_j(), rel=1e-9)
        assert row.fits == int(e.fits) and row.weights_bytes == e.result.weights_bytes
        assert row.arena_bytes == e.result.arena_bytes
    return ok


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda p: p.stem)
def test_every_point_of_every_shipped_sweep(sweep):
    spec = load_sweep(sweep)
    priced = sum(_agree(spec, workload) for workload in spec.workloads)
    assert priced > 0.8 * spec.size * len(spec.workloads)  # most points are valid: the check compared figures


@pytest.fixture(scope="module")
def compressed_kws(tmp_path_factory) -> Path:
    """KWS pruned 50 %, 4-bit shared weights, Huffman-coded (as `tinysim compress ... --huffman` writes it)."""
    out = tmp_path_factory.mktemp("pricing_paths")
    result = compress(load_workload(ROOT / "workloads" / "kws.yaml"),
                      CompressOptions(prune=0.5, bits=4, share=True, huffman=True))
    path, _ = save_graph_npz(result.graph, out / "kws_c.yaml", extra={"compression": as_data(result, [])})
    return path


def _variant(tmp_path: Path, arch: str, unit: str) -> Path:
    """A copy of a shipped arch whose `unit` declares sparsity and a Huffman weight decoder (its own, if it has one)."""
    text = (ROOT / "archs" / f"{arch}.yaml").read_text(encoding="utf-8")
    marker = f"  {unit}:\n"
    assert marker in text
    flags = SPARSE_DECODER if "weight_decoder:" not in text else SPARSE_DECODER.splitlines(keepends=True)[0]
    path = tmp_path / f"{arch}_sparse.yaml"
    path.write_text(text.replace(marker, marker + flags, 1), encoding="utf-8")
    return path


RANDOM = {
    ("stm32l4r5", "cpu"): """\
        compute.cpu.kernels: [tflm-reference, cmsis-nn]
        compute.cpu.sparsity.cycles_per_skipped_mac: [0, 1, 3]
        compute.cpu.weight_decoder.cycles_per_weight: [1, 3, 8]
        memories.flash.bandwidth: [10 MB/s, 100 MB/s, 1 GB/s]
        compute.cpu.energy_per_cycle: [100 pJ, 198 pJ]""",
    ("ethos-u55-128", "npu"): """\
        compute.npu.macs_per_cycle: [32, 64, 128, 256]
        compute.npu.sparsity.cycles_per_skipped_mac: [0, 0.5, 1]
        compute.npu.weight_decoder.cycles_per_weight: [0.25, 1, 4]
        memories.flash.bandwidth: [50 MB/s, 250 MB/s, 1 GB/s]""",
}


@pytest.mark.parametrize("arch, unit", list(RANDOM), ids=lambda v: v)
def test_random_points_with_sparsity_and_decoders(tmp_path, compressed_kws, arch, unit):
    base = _variant(tmp_path, arch, unit)
    axes = textwrap.indent(textwrap.dedent(RANDOM[arch, unit]), "  ")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"version: 1\nname: r\nbase: {base}\naxes:\n{axes}\nsampling: {{method: random, count: 25, "
                     f"seed: 7}}\nworkloads: [{compressed_kws}]\nrate: 1 Hz\n", encoding="utf-8")
    spec = load_sweep(sweep)
    assert _agree(spec, spec.workloads[0]) == 25


def test_decoder_and_sparsity_terms_reach_the_sweep(tmp_path, compressed_kws):
    """The issue's reproduction: a sweep over a decoding, zero-skipping M4 stores what `evaluate` prices,
    which differs from the same arch without those flags (the terms are not silently dropped)."""
    base = _variant(tmp_path, "stm32l4r5", "cpu")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"version: 1\nname: r\nbase: {base}\naxes:\n  compute.cpu.energy_per_cycle: [198 pJ, 250 pJ]\n"
                     f"workloads: [{compressed_kws}]\n", encoding="utf-8")
    _, _, rows = _rows(load_sweep(sweep), compressed_kws, exact=False)
    with_flags = evaluate(base, compressed_kws)
    without = evaluate(ROOT / "archs" / "stm32l4r5.yaml", compressed_kws)
    assert rows[0].latency_s == pytest.approx(with_flags.latency_s, rel=1e-12)
    assert rows[0].energy_j == pytest.approx(with_flags.energy_j, rel=1e-12)
    assert with_flags.latency_s < 0.9 * without.latency_s


def _table(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT * FROM results ORDER BY point_id, workload").fetchall()
    finally:
        con.close()


def test_exact_sweep_writes_identical_sqlite_rows(tmp_path):
    spec = load_sweep(ROOT / "workloads" / "sweeps" / "npu_macs.yaml")
    run_sweep(spec, tmp_path / "fast.sqlite", LocalExecutor(1))
    run_sweep(spec, tmp_path / "exact.sqlite", LocalExecutor(1), exact=True)
    fast, exact = _table(tmp_path / "fast.sqlite"), _table(tmp_path / "exact.sqlite")
    assert len(fast) == spec.size * len(spec.workloads) and fast == exact
