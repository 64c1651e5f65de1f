"""`tinysim report`: a sweep results file (written here straight from the schema) → index.html, report.md, PNGs."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from pathlib import Path

import pytest

from tinysim.cli.main import main
from tinysim.explore.store import PointRow, SweepResults, read_sweep
from tinysim.report.sweep_document import format_value
from tinysim.report.sweep_report import ReportOptions, build_report, invalid_reasons

# The sweep results schema contract (from the project brief), written out here so this test does not depend on the writer.
SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE points(point_id TEXT PRIMARY KEY, point_index INTEGER NOT NULL, params_json TEXT NOT NULL);
CREATE TABLE results(point_id TEXT NOT NULL, workload TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    operating_point TEXT, latency_s REAL, energy_j REAL, average_power_w REAL, cycles REAL,
    peak_sram_bytes INTEGER, weights_bytes INTEGER, fits INTEGER, meets_deadline INTEGER, area_mm2 REAL,
    energy_breakdown_json TEXT, PRIMARY KEY (point_id, workload));
"""
SWEEP_YAML = """version: 1
name: toy <b>sweep</b> & co
base: archs/ndp120.yaml
axes:
  compute.npu.macs_per_cycle: [32, 64, 128, 256]
  memories.sram.size: [128 KiB, 256 KiB, 512 KiB]
  operating_point: [fast, slow]
"""
OPS = {"fast": (1.0, 1.0), "slow": (3.0, 0.6)}  # latency factor, energy factor


def write_results(path: Path) -> dict:
    """A toy sweep: 4 x 3 x 2 points on kws and vww; vww does not fit in 128 KiB; counts returned."""
    con = sqlite3.connect(path)
    con.executescript(SCHEMA)
    meta = {
        "schema_version": "1",
        "sweep_name": "toy <b>sweep</b> & co",
        "sweep_yaml": SWEEP_YAML,
        "sweep_path": "workloads/sweeps/toy.yaml",
        "base_arch": "archs/ndp120.yaml",
        "created_utc": "2026-11-25T10:00:00Z",
        "tinysim_version": "0.1.0",
        "objectives": json.dumps(["latency", "energy"]),
        "rate_hz": "1",
        "deadline_s": "0.05",
    }
    con.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    index, counts = 0, {"points": 0, "ok": 0, "invalid": 0}
    for macs in (32, 64, 128, 256):
        for sram in (131072, 262144, 524288):
            for op, (lat_k, en_k) in OPS.items():
                params = {"compute.npu.macs_per_cycle": macs, "memories.sram.size": sram, "operating_point": op}
                pid = f"p{index:03d}"
                con.execute("INSERT INTO points VALUES (?, ?, ?)", (pid, index, json.dumps(params)))
                for workload, work in (("kws", 1.0), ("vww", 4.0)):
                    if workload == "vww" and sram == 131072:
                        row = (pid, workload, "invalid", f"arena {100 + macs} KiB > sram 128 KiB <x>", None)
                        con.execute(
                            "INSERT INTO results(point_id, workload, status, reason, operating_point) "
                            "VALUES (?, ?, ?, ?, ?)",
                            row,
                        )
                        counts["invalid"] += 1
                        continue
                    latency = work * lat_k * 0.064 / macs * (1 + sram / 2**21)
                    compute, memory = work * en_k * 1e-6 * (1 + macs / 512), work * sram / 2**20 * 2e-7
                    static = 2e-4 * latency * macs / 32
                    energy = compute + memory + static
                    con.execute(
                        "INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            pid,
                            workload,
                            "ok",
                            None,
                            op,
                            latency,
                            energy,
                            energy * 1.0 + 1e-6,
                            latency * 1e8,
                            40000,
                            60000,
                            1,
                            int(latency <= 0.05),
                            0.5 + macs * 0.01 + sram / 2**20,
                            json.dumps({"compute": compute, "sram": memory, "static": static}),
                        ),
                    )
                    counts["ok"] += 1
                index += 1
    counts["points"] = index
    con.commit()
    con.close()
    return counts


@pytest.fixture(scope="module")
def results_file(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("sweep") / "toy.sqlite"
    return path, write_results(path)


@pytest.fixture(scope="module")
def report_dir(results_file, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "toy"
    assert main(["report", str(results_file[0]), "-o", str(out), "--top", "5"]) == 0
    return out


def local_refs(index_html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"#:]+)"', index_html)


def test_cli_writes_html_markdown_and_every_referenced_png(report_dir, results_file):
    text = (report_dir / "index.html").read_text()
    refs = local_refs(text)
    assert len(refs) == 6  # kws and vww: scatter, energy breakdown, operating-point curves
    for ref in refs:
        assert not Path(ref).is_absolute() and (report_dir / ref).is_file(), ref
        assert (report_dir / ref).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (report_dir / "report.md").read_text()
    assert sorted(re.findall(r"\]\(([^)]+\.png)\)", md)) == sorted(refs)
    counts = results_file[1]
    assert f"{counts['points']} design points" in md and f"{counts['invalid']} invalid" in md
    assert "compute.npu.macs_per_cycle: [32, 64, 128, 256]" in md  # the sweep definition
    assert "| arena N KiB &gt; sram N KiB &lt;x&gt; | 8 |" in md  # grouped, numbers folded, no raw HTML
    assert "# Sweep report: toy &lt;b&gt;sweep&lt;/b&gt; &amp; co" in md


def test_html_escapes_text_from_the_store(report_dir):
    text = (report_dir / "index.html").read_text()
    assert "<b>sweep</b>" not in text and "&lt;b&gt;sweep&lt;/b&gt; &amp; co" in text
    assert "<x>" not in text and "sram N KiB &lt;x&gt;" in text  # reasons grouped with numbers folded
    assert text.count("<script>") == 1  # only the image check


def test_front_and_top_tables_have_units_and_the_right_points(results_file):
    sweep = read_sweep(results_file[0])
    report = build_report(sweep, ReportOptions(workloads=("kws",), top=3))
    md = report.markdown
    front = md.split("### Pareto front")[1].split("###")[0]
    rows = [line for line in front.splitlines() if line.startswith("| #")]
    # with the deadline as a constraint, the fastest points lead; every front row is the 128 KiB design
    assert rows and all("128 KiB" in r for r in rows)
    assert re.search(r"\d ms \|", front) and re.search(r"\d (µJ|mJ) \|", front)
    top = md.split("### Top 3 distinct results by latency")[1]
    assert len([line for line in top.splitlines() if re.match(r"\| \d+ \| #", line)]) == 3
    assert set(report.images) == {"kws_pareto.png", "kws_energy_breakdown.png", "kws_operating_points.png"}


def test_three_objectives_and_errors(results_file, tmp_path):
    sweep = read_sweep(results_file[0])
    report = build_report(sweep, ReportOptions(objectives=("latency", "energy", "area_m2"), workloads=("vww",)))
    assert "area_m2" in report.markdown and "vww_pareto.png" in report.images
    assert main(["report", str(results_file[0]), "-o", str(tmp_path), "--workload", "ic"]) == 2
    assert main(["report", str(results_file[0]), "-o", str(tmp_path), "--objectives", "latency"]) == 2
    assert main(["report", str(tmp_path / "missing.sqlite"), "-o", str(tmp_path)]) == 2


def test_designs_with_equal_objectives_share_a_row():
    """An axis the workload does not feel (here a memory size) gives ties: one row lists both sizes."""
    points = [
        PointRow(f"p{i}", i, {"macs": m, "sram.size": kib * 1024})
        for i, (m, kib) in enumerate([(32, 64), (32, 128), (64, 64), (64, 128)])
    ]
    results = [
        {
            "point_id": p.point_id,
            "workload": "kws",
            "status": "ok",
            "operating_point": "nominal",
            "latency_s": 1e-3 * 32 / p.params["macs"],
            "energy_j": 1e-6 * p.params["macs"] / 32,
            "fits": 1,
            "energy_breakdown": {"compute": 1e-6},
        }
        for p in points
    ]
    sweep = SweepResults(meta={"sweep_name": "ties"}, points=tuple(points), results=tuple(results))
    report = build_report(sweep)
    assert "### Pareto front (4 design points, 2 distinct results)" in report.markdown
    assert "| #2 +1 | 64 | 64 KiB, 128 KiB | nominal | 500 µs | 2 µJ |" in report.markdown
    assert "| 1 | #2 +1 | 64 | 64 KiB, 128 KiB |" in report.markdown


def test_format_value_units():
    assert format_value("latency_s", 0.00125) == "1.25 ms"
    assert format_value("memories.sram.size", 262144) == "256 KiB"
    assert format_value("area_mm2", 0.42) == "0.42 mm²"
    assert format_value("fits", 0) == "no" and format_value("energy_j", None) == "—"
    assert html.escape(format_value("operating_point", "<lo>")) == "&lt;lo&gt;"


def test_invalid_reasons_group_paths_and_numbers():
    rows = [
        {"status": "invalid", "reason": "/home/a/archs/x.yaml: layer 'pw1' needs 12 arrays, has 8 (100 MB/s)"},
        {"status": "invalid", "reason": "../../archs/x.yaml: layer 'pw1' needs 24 arrays, has 16 (100 MB/s)"},
        {"status": "invalid", "reason": None},
        {"status": "ok", "reason": None},
    ]
    assert invalid_reasons(rows) == [
        ("x.yaml: layer 'pw1' needs N arrays, has N (N MB/s)", 2),
        ("no reason given", 1),
    ]
