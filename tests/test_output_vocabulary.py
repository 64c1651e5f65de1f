"""One output vocabulary: the same quantity has the same name (and value) in `run`, `compare`, sweeps and the API;
every JSON document and CSV row carries the identity fields; per-layer CSVs of two archs concatenate; `tinysim
export` writes a sweep as one flat table with a column per design parameter; older sweep stores still read."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

import tinysim
from tinysim.cli.main import main
from tinysim.cost.vocabulary import FIELDS, IDENTITY_FIELDS, OUTPUT_SCHEMA_VERSION
from tinysim.explore.store import SCHEMA_VERSION, ResultStore, read_sweep

ROOT = Path(__file__).resolve().parents[1]
STM, NDP = ROOT / "archs" / "stm32l4r5.yaml", ROOT / "archs" / "ndp120.yaml"
KWS = ROOT / "workloads" / "kws.yaml"
SCENARIO = ROOT / "workloads" / "scenarios" / "kws_always_on.yaml"

# Quantities every whole-inference output has: run JSON summary, compare JSON row, sweep row, Evaluation.to_dict.
SHARED = ("operating_point", "cycles", "latency_s", "energy_j", "average_power_w", "weights_bytes", "arena_bytes",
          "fits", "area_m2")  # fmt: skip
OLD_NAMES = ("peak_sram_bytes", "inference_latency_s", "inference_energy_j")

# The base design of ndp120 (its own values on every axis), so the sweep's row and `tinysim run` price the same chip.
SWEEP = """\
    version: 1
    name: vocabulary
    base: ROOT/archs/ndp120.yaml
    axes:
      memories.act_sram.size: [8 KiB, BASE_SRAM]
      operating_point: [mlperf]
    workloads: [ROOT/workloads/kws.yaml]
    rate: 1 Hz
"""


def cli(capsys, *args: str) -> str:
    capsys.readouterr()
    assert main(list(args)) == 0
    return capsys.readouterr().out


def identified(doc: dict, arch: str, workload: str) -> None:
    assert doc["tinysim_version"] == tinysim.__version__ and doc["schema_version"] == OUTPUT_SCHEMA_VERSION
    assert doc["arch"] == arch and doc["workload"] == workload and doc["operating_point"]


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    from tinysim.arch import load_arch

    sram = load_arch(NDP).memory("act_sram").size_bytes
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "s.yaml"
    spec.write_text(textwrap.dedent(SWEEP).replace("ROOT", str(ROOT)).replace("BASE_SRAM", str(sram)))
    out = folder / "r.sqlite"
    tinysim.sweep(spec, output=out)
    return out


def test_same_quantity_same_name_and_value(capsys, sweep_file):
    run_doc = json.loads(cli(capsys, "run", str(NDP), str(KWS), "--format", "json"))
    compare_row = tinysim.compare(NDP, KWS).to_dict()["rows"][0]
    evaluation = tinysim.evaluate(NDP, KWS)
    api_summary = evaluation.to_dict()["summary"]
    sram = tinysim.load_arch(NDP).memory("act_sram").size_bytes
    base_row = next(r for r in read_sweep(sweep_file).rows() if r["params"]["memories.act_sram.size"] == sram)
    for name in SHARED:
        assert name in FIELDS
        values = [doc[name] for doc in (run_doc["summary"], compare_row, api_summary, base_row)]
        if isinstance(values[0], float):
            assert values == pytest.approx([values[0]] * 4, rel=1e-9), name
        else:
            assert values == [values[0]] * 4, name
    for doc in (run_doc, run_doc["summary"], compare_row, api_summary, base_row):
        assert not set(OLD_NAMES) & set(doc)
    # cycles are whole: the rounded sum of the per-layer cycles the cost model priced
    assert isinstance(run_doc["summary"]["cycles"], int)
    assert run_doc["summary"]["cycles"] == round(sum(layer.cycles for layer in evaluation.result.layers))
    assert all(isinstance(layer["cycles"], int) for layer in run_doc["layers"])


def test_every_run_and_compare_output_is_identified(capsys):
    doc = json.loads(cli(capsys, "run", str(STM), str(KWS), "--format", "json"))
    for part in (doc, doc["summary"], *doc["layers"]):
        identified(part, "stm32l4r5", "kws")
    rows = list(csv.DictReader(io.StringIO(cli(capsys, "run", str(STM), str(KWS), "--format", "csv"))))
    assert rows[-1]["layer"] == "TOTAL" and len(rows) == len(doc["layers"]) + 1
    for row in rows:
        identified(row, "stm32l4r5", "kws")
    cmp = json.loads(cli(capsys, "compare", str(STM), str(NDP), "--workload", str(KWS), "--format", "json",
                         "--no-plot"))  # fmt: skip
    assert cmp["tinysim_version"] == tinysim.__version__ and cmp["schema_version"] == OUTPUT_SCHEMA_VERSION
    for row, arch in zip(cmp["rows"], ("stm32l4r5", "ndp120"), strict=True):
        identified(row, arch, "kws")
    text = cli(capsys, "compare", str(STM), str(NDP), "--workload", str(KWS), "--format", "csv", "--no-plot")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["arch"] for r in rows] == ["stm32l4r5", "ndp120"]
    for row in rows:
        identified(row, row["arch"], "kws")


def test_always_on_json_is_identified(capsys):
    doc = json.loads(cli(capsys, "always-on", str(SCENARIO), "--arch", str(STM), "--duration", "2 s", "--format",
                         "json"))  # fmt: skip
    identified(doc, "stm32l4r5", doc["workload"])
    for row in doc["ledger"]:
        identified(row, "stm32l4r5", doc["workload"])
    # one inference's latency and energy under the names `run` gives them, with the same values
    same = tinysim.evaluate(STM, ROOT / "workloads" / f"{doc['workload']}.yaml", operating_point=doc["operating_point"])
    assert doc["latency_s"] == pytest.approx(same.latency_s, rel=1e-9)
    assert not set(OLD_NAMES) & set(doc)


def test_per_layer_csvs_of_two_archs_concatenate(tmp_path):
    pd = pytest.importorskip("pandas")
    frames = []
    for arch in ("stm32l4r5", "ndp120"):
        out = tmp_path / f"{arch}.csv"
        assert main(["run", arch, "kws", "--format", "csv", "--output", str(out)]) == 0
        frames.append(pd.read_csv(out))
    assert list(frames[0].columns) == list(frames[1].columns)
    both = pd.concat(frames, ignore_index=True)
    layers = len(tinysim.load_workload(KWS).ops) + 1  # every layer and the TOTAL row
    assert both.groupby("arch").size().to_dict() == {"ndp120": layers, "stm32l4r5": layers}
    assert set(both["schema_version"].astype(str)) == {OUTPUT_SCHEMA_VERSION}
    assert set(both["tinysim_version"]) == {tinysim.__version__}
    stm_total = both[(both["arch"] == "stm32l4r5") & (both["layer"] == "TOTAL")]
    assert stm_total["latency_s"].iloc[0] == pytest.approx(tinysim.evaluate(STM, KWS).latency_s, rel=1e-9)


def test_export_csv_has_a_column_per_design_parameter(tmp_path, sweep_file):
    pd = pytest.importorskip("pandas")
    out = tmp_path / "flat.csv"
    assert main(["export", str(sweep_file), "--csv", str(out)]) == 0
    frame = pd.read_csv(out)
    sweep = read_sweep(sweep_file)
    assert len(frame) == len(sweep.results) == 2
    for name in ("memories.act_sram.size", "operating_point", *IDENTITY_FIELDS, "point_id", "latency_s",
                 "arena_bytes", "fits"):  # fmt: skip
        assert name in frame.columns, name
    params = {p.point_id: p.params for p in sweep.points}
    for _, row in frame.iterrows():
        assert row["memories.act_sram.size"] == params[row["point_id"]]["memories.act_sram.size"]
    assert set(frame["arch"]) == {"ndp120"} and set(frame["workload"]) == {"kws"}
    assert frame.filter(like="energy_").shape[1] >= 3  # energy_j and the breakdown by cause
    assert (frame["memories.act_sram.size"] == 8 * 1024).sum() == 1


def test_export_parquet(tmp_path, sweep_file, capsys):
    out = tmp_path / "flat.parquet"
    code = main(["export", str(sweep_file), "--parquet", str(out)])
    try:
        import pandas as pd
        import pyarrow  # noqa: F401
    except ImportError:
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and "pyarrow" in err and not out.exists()
        return
    assert code == 0
    frame = pd.read_parquet(out)
    assert "memories.act_sram.size" in frame.columns and set(frame["arch"]) == {"ndp120"}


def test_version_2_store_reads_and_upgrades(tmp_path, sweep_file):
    """A file written before arena_bytes: read as it is, then renamed in place when a sweep resumes it."""
    old = tmp_path / "v2.sqlite"
    with sqlite3.connect(sweep_file) as src, sqlite3.connect(old) as dst:
        src.backup(dst)
    with sqlite3.connect(old) as con:
        con.execute("ALTER TABLE results RENAME COLUMN arena_bytes TO peak_sram_bytes")
        con.execute("UPDATE results SET cycles = cycles + 0.4")  # version 2 kept the fitted fractions
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    new = read_sweep(sweep_file).results
    assert read_sweep(old).results == new
    ResultStore.open(old).close()
    with sqlite3.connect(old) as con:
        columns = {row[1] for row in con.execute("PRAGMA table_info(results)")}
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert "arena_bytes" in columns and "peak_sram_bytes" not in columns and version == SCHEMA_VERSION
    assert read_sweep(old).results == new
