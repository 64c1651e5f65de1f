"""The public Python API: `import tinysim` and call; same numbers and defaults as the CLI; every result has
to_dict() and to_dataframe(); the quickstart example runs."""

from __future__ import annotations

import inspect
import json
import os
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tinysim
from tinysim import api
from tinysim.cli.main import build_parser, main
from tinysim.errors import CostError, TinysimError, UnitError

ROOT = Path(__file__).resolve().parents[1]
STM, ECM = ROOT / "archs" / "stm32l4r5.yaml", ROOT / "archs" / "ecm3532.yaml"
KWS, VWW = ROOT / "workloads" / "kws.yaml", ROOT / "workloads" / "vww.yaml"
SCENARIO = ROOT / "workloads" / "scenarios" / "kws_always_on.yaml"


@pytest.fixture(name="pd")
def _pandas():
    """pandas (a dev dependency, optional at run time): skipped with the reason when missing, failed in CI."""
    try:
        import pandas
    except ImportError:
        reason = "pandas is not installed (pip install -e .[dev]): the to_dataframe() checks need it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return pandas


def cli_json(capsys, *args: str):
    """Run the CLI in this process and parse what it printed."""
    capsys.readouterr()
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


def round_trip(doc):
    """As the CLI's JSON output reads back (tuples become lists, keys stay)."""
    return json.loads(json.dumps(doc))


# --- the import --------------------------------------------------------------------------------------------


def test_import_is_light_and_exposes_the_api():
    code = "import sys, tinysim; print(sorted(m for m in ('numpy', 'numba', 'tinysim.pipeline') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
    for name in ("load_arch", "load_workload", "evaluate", "compare", "always_on", "sweep", "compress"):
        assert callable(getattr(tinysim, name)) and name in dir(tinysim)
    assert tinysim.__version__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tinysim.nope  # noqa: B018


def test_compress_stays_the_api_function_after_importing_the_compression_package():
    import tinysim.compression.pipeline

    assert tinysim.compress is api.compress
    assert inspect.signature(tinysim.compress) == inspect.signature(api.compress)


# --- the same numbers and defaults as the CLI --------------------------------------------------------------


def test_evaluate_equals_tinysim_run(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    ev = tinysim.evaluate("archs/stm32l4r5.yaml", "workloads/kws.yaml")
    doc = cli_json(capsys, "run", "archs/stm32l4r5.yaml", "workloads/kws.yaml", "--format", "json")
    assert ev.latency_s == doc["summary"]["latency_s"]
    assert ev.energy_j == doc["summary"]["energy_j"]
    assert ev.average_power_w == doc["summary"]["average_power_w"]
    assert round_trip(ev.to_dict()["summary"]) == doc["summary"]
    assert round_trip(ev.to_dict()["layers"]) == doc["layers"]


def test_planned_arena_is_the_same_everywhere(capsys):
    """VWW's arena is planned (TFLite Micro's head + persistent + scratch), not the sum of its tensors."""
    doc = cli_json(capsys, "run", str(STM), str(VWW), "--format", "json")
    arena = doc["summary"]["arena_bytes"]
    assert tinysim.evaluate(STM, VWW).result.arena_bytes == arena
    assert [row.arena_bytes for row in tinysim.compare(STM, VWW)] == [arena]


def parsed(*argv: str) -> dict:
    """The CLI's defaults: the namespace parsed from the required arguments only."""
    return vars(build_parser().parse_args(list(argv)))


@pytest.mark.parametrize(
    "argv, function, names",
    [
        (("run", "A", "W"), "evaluate", ("rate", "seed", "events", "operating_point", "deadline", "input")),
        (("compare", "A", "-w", "W"), "compare", ("rate", "seed", "deadline")),
        (("always-on", "S"), "always_on", ("arch", "duration", "battery")),
        (("sweep", "S", "-o", "R"), "sweep", ("jobs", "dask", "chunk", "exact")),
        (
            ("compress", "W"),
            "compress",
            (
                "prune",
                "granularity",
                "scope",
                "bits",
                "share",
                "huffman",
                "bias_correction",
                "calibrate",
                "inputs",
                "seed",
                "sample",
                "sensitivity",
                "arch",
                "operating_point",
                "out",
            ),
        ),
    ],
    ids=["run", "compare", "always-on", "sweep", "compress"],
)
def test_defaults_are_the_clis(argv, function, names):
    cli = parsed(*argv)
    params = inspect.signature(getattr(tinysim, function)).parameters
    for name in names:
        assert params[name].default == cli[name], f"{function}({name}=...) vs tinysim {argv[0]}"
    if function == "always_on":
        assert params["fast_forward"].default is not cli["no_fast_forward"]


def test_compare_equals_tinysim_compare(capsys):
    doc = cli_json(
        capsys,
        "compare",
        str(STM),
        str(ECM),
        "-w",
        str(KWS),
        "--format",
        "json",
        "--no-plot",
        "--deadline",
        "200 ms",
        "--rate",
        "2 Hz",
    )
    comparison = tinysim.compare([STM, ECM], KWS, deadline="200 ms", rate=2.0)
    assert round_trip(comparison.to_dict()) == doc
    assert [r.arch for r in comparison] == ["stm32l4r5", "ecm3532"] and all(r.ok for r in comparison)
    assert comparison.rows[1].evaluation.dvfs is not None  # the ECM3532 picks a point for the deadline


def test_compare_keeps_failures_as_rows(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nname: broken\n")
    comparison = tinysim.compare([STM, broken], KWS)
    ok, bad = comparison.rows
    assert ok.ok and not bad.ok and bad.arch == "broken" and "broken.yaml" in bad.error
    assert comparison.to_dict()["rows"][1]["note"] == bad.error


def test_always_on_equals_tinysim_always_on(capsys):
    doc = cli_json(capsys, "always-on", str(SCENARIO), "--arch", "ecm3532", "--duration", "20 s", "--format", "json")
    result = tinysim.always_on(SCENARIO, arch="ecm3532", duration="20 s")
    assert round_trip(result.to_dict()) == doc
    same = tinysim.always_on(SCENARIO, arch=tinysim.load_arch(ECM), duration=20.0)  # an Arch, seconds as a float
    assert same.average_power_w == result.average_power_w


def test_compress_equals_tinysim_compress(capsys, tmp_path):
    argv = ("compress", str(KWS), "--prune", "0.5", "--bits", "4", "--huffman", "--inputs", "2", "--format", "json")
    doc = cli_json(capsys, *argv)
    out = tmp_path / "kws_c.yaml"
    result = tinysim.compress(KWS, prune=0.5, bits=4, huffman=True, inputs=2, out=out)
    assert round_trip(result.to_dict()) == doc
    assert result.files == (out, out.with_suffix(".npz"))
    assert tinysim.evaluate(STM, out).energy_j > 0  # the written workload runs


SWEEP = """\
    version: 1
    name: sram
    base: ROOT/archs/stm32l4r5.yaml
    axes:
      memories.sram.size: [8 KiB, 640 KiB]
    workloads: [ROOT/workloads/kws.yaml]
    objectives: [latency, energy]
    rate: 1 Hz
"""


@pytest.fixture(name="sweep_file")
def _sweep_file(tmp_path) -> Path:
    path = tmp_path / "sram.yaml"
    path.write_text(textwrap.dedent(SWEEP).replace("ROOT", str(ROOT)))
    return path


def test_sweep_equals_tinysim_sweep(tmp_path, sweep_file):
    from tinysim.explore.store import read_sweep

    out = tmp_path / "cli.sqlite"
    assert main(["sweep", str(sweep_file), "-o", str(out), "--quiet"]) == 0
    results = tinysim.sweep(sweep_file)
    assert results.to_dict()["rows"] == read_sweep(out).to_dict()["rows"]
    rows = results.to_dict()["rows"]
    assert [r["params"]["memories.sram.size"] for r in rows] == [8192, 655360]
    assert [r["fits"] for r in rows] == [0, 1]  # KWS's 15.6 KiB arena does not fit in 8 KiB
    kept = tinysim.sweep(sweep_file, output=tmp_path / "api.sqlite")
    assert (tmp_path / "api.sqlite").is_file() and kept.to_dict()["rows"] == rows


# --- errors name the argument ------------------------------------------------------------------------------


def test_errors_name_the_argument(tmp_path):
    with pytest.raises(UnitError) as err:
        tinysim.compare(STM, KWS, rate="fast")
    assert err.value.field == "rate"
    with pytest.raises(CostError) as err:
        tinysim.compare(STM, KWS, deadline="0 ms")
    assert err.value.field == "deadline"
    with pytest.raises(TinysimError) as err:
        tinysim.compress(KWS, share=True)
    assert err.value.field == "share"
    with pytest.raises(TinysimError) as err:
        tinysim.always_on(SCENARIO, battery="lots")
    assert err.value.field == "battery"


# --- to_dict / to_dataframe of every result ----------------------------------------------------------------


def test_every_result_has_dict_and_dataframe(pd, tmp_path, sweep_file):
    ev = tinysim.evaluate(STM, KWS, rate="5 Hz")
    frame = ev.to_dataframe()
    assert len(frame) == 1 and frame["latency_s"][0] == ev.latency_s and frame["average_power_w"][0] > 0
    layers = ev.to_dataframe(per_layer=True)
    assert len(layers) == len(ev.result.layers) and layers["energy_j"].sum() == pytest.approx(ev.energy_j)

    comparison = tinysim.compare([STM, ECM], KWS)
    assert list(comparison.to_dataframe()["arch"]) == ["stm32l4r5", "ecm3532"]
    per_layer = comparison.to_dataframe(per_layer=True)
    assert len(per_layer) == sum(len(r.evaluation.result.layers) for r in comparison)
    assert json.dumps(comparison.to_dict())

    day = tinysim.always_on(SCENARIO, duration="10 s")
    row = day.to_dataframe()
    assert len(row) == 1 and row["average_power_w"][0] == day.average_power_w and row["frames"][0] > 0
    breakdown = day.to_dataframe(breakdown=True)
    assert breakdown["energy_j"].sum() == pytest.approx(day.total_energy_j)
    assert json.dumps(day.to_dict())

    sweep = tinysim.sweep(sweep_file)
    table = sweep.to_dataframe()
    assert list(table["memories.sram.size"]) == [8192, 655360] and "energy_compute_j" in table
    assert json.dumps(sweep.to_dict())

    compressed = tinysim.compress(KWS, prune=0.5, bits=4, huffman=True, inputs=2, sensitivity=True, arch=STM)
    sizes = compressed.to_dataframe(per_layer=True)
    assert list(sizes["layer"]) == [s.layer for s in compressed.compressed.sizes]
    total = compressed.to_dataframe()
    assert len(total) == 1 and total["ratio"][0] == pytest.approx(compressed.compressed.total.ratio)
    doc = compressed.to_dict()
    assert len(doc["sensitivity"]) == len(sizes) and doc["hardware"]["arch"] == "stm32l4r5"
    assert json.dumps(doc)


def test_to_dataframe_without_pandas_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    with pytest.raises(ImportError, match="needs pandas: pip install pandas"):
        tinysim.compare(STM, KWS).to_dataframe()
    with pytest.raises(ImportError, match="needs pandas"):
        tinysim.always_on(SCENARIO, duration="1 s").to_dataframe()


# --- the example -------------------------------------------------------------------------------------------


def test_quickstart_runs(pd, capsys):
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "kws on stm32l4r5" in out and "ecm3532" in out and "battery life" in out
