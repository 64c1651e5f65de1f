"""`tinysim compare` end to end in a subprocess: one row per arch, a valid PNG, failures as rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from cli_process import tinysim

ROOT = Path(__file__).resolve().parents[1]
ARCHS = sorted(str(p) for p in (ROOT / "archs").glob("*.yaml"))
ECM = str(ROOT / "archs" / "ecm3532.yaml")
STM = str(ROOT / "archs" / "stm32l4r5.yaml")
KWS = str(ROOT / "workloads" / "kws.yaml")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _table_rows(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("----")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append(line)
    return rows


def _check_png(path: Path) -> None:
    from matplotlib.image import imread

    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 0
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_compare_every_arch_one_row_and_a_png(tmp_path):
    plot = tmp_path / "kws.png"
    proc = tinysim("compare", *ARCHS, "--workload", KWS, "--plot", str(plot))
    assert proc.returncode == 0, proc.stderr
    rows = _table_rows(proc.stdout)
    assert len(rows) == len(ARCHS)
    assert any(row.startswith("ecm3532 ") and " yes" in row for row in rows)
    assert any(row.startswith("stm32l4r5 ") for row in rows)
    assert f"chart: {plot}" in proc.stdout
    _check_png(plot)


def test_default_plot_goes_to_reports(tmp_path):
    proc = tinysim("compare", ECM, STM, "--workload", KWS, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    _check_png(tmp_path / "reports" / "compare_kws.png")


def test_failures_are_rows_not_crashes(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: broken\n")
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(
        Path(ECM)
        .read_text()
        .replace("name: ecm3532", "name: tiny-sram")
        .replace("{value: 256 KiB, source: eejournal}", "8 KiB")
    )
    missing = tmp_path / "missing.yaml"
    proc = tinysim(
        "compare",
        ECM,
        str(broken),
        str(tiny),
        str(missing),
        STM,
        "--workload",
        KWS,
        "--deadline",
        "100 ms",
        "--rate",
        "20 Hz",
        "--format",
        "json",
        "--no-plot",
    )
    assert proc.returncode == 0, proc.stderr
    rows = {row["arch"]: row for row in json.loads(proc.stdout)["rows"]}
    assert set(rows) == {"ecm3532", "broken", "tiny-sram", "missing", "stm32l4r5"}
    assert not rows["broken"]["ok"] and "missing required key" in rows["broken"]["note"]
    assert not rows["missing"]["ok"] and "missing.yaml" in rows["missing"]["note"]
    assert not rows["stm32l4r5"]["ok"] and "the fastest, run120" in rows["stm32l4r5"]["note"]
    assert rows["tiny-sram"]["ok"] and rows["tiny-sram"]["fits"] is False
    assert "arena 23.7 KiB > 8 KiB sram" in rows["tiny-sram"]["note"]  # TFLM arena: head 15.62 + persistent 8.07 KiB
    ecm = rows["ecm3532"]
    assert ecm["ok"] and ecm["fits"] and ecm["latency_s"] <= 0.1
    assert "chosen for the 100 ms deadline" in ecm["operating_point_reason"]
    assert ecm["arena_bytes"] == rows["broken"]["arena_bytes"] > 0  # one arena plan per workload


def test_unsustainable_rate_is_a_note(tmp_path):
    proc = tinysim("compare", ECM, "--workload", KWS, "--rate", "100 Hz", "--format", "csv", "--no-plot")
    assert proc.returncode == 0, proc.stderr
    (row,) = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert row["average_power_w"] == "" and "rate unsustainable" in row["note"]
    assert float(row["latency_s"]) > 0.01 and row["operating_point"] == "cvfs100"


def test_bad_workload_is_one_line_exit_2():
    proc = tinysim("compare", ECM, "--workload", "nope.yaml", "--no-plot")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
