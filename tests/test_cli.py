"""The CLI end to end in a subprocess: exit statuses, one-line errors, parseable output."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from cli_process import tinysim

ROOT = Path(__file__).resolve().parents[1]
ARCH = str(ROOT / "archs" / "stm32l4r5.yaml")
KWS = str(ROOT / "workloads" / "kws.yaml")


def test_run_table_shows_totals_with_units():
    proc = tinysim("run", ARCH, KWS, "--per-layer")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "TOTAL" in out and "2,562,432" in out  # MACs executed: padding taps are skipped, as TFLM does
    assert "engine-counted events" in out and "top class:" in out
    assert " ms" in out and ("mJ" in out or "µJ" in out)
    assert "average power at 1 Hz" in out
    assert "fits" in out


def test_run_json_is_parseable_and_consistent():
    proc = tinysim("run", ARCH, KWS, "--format", "json", "--rate", "2 Hz", "--events", "shapes")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    summary = doc["summary"]
    assert summary["macs"] == 2_656_768
    assert summary["latency_s"] == pytest.approx(sum(r["latency_s"] for r in doc["layers"]))
    assert summary["energy_j"] == pytest.approx(sum(r["energy_j"] for r in doc["layers"]))
    e, t, p_sleep_bound = summary["energy_j"], summary["latency_s"], summary["average_power_w"]
    assert e * 2 <= p_sleep_bound <= e * 2 + 1e-3  # (E + P_sleep (1/R - t)) R with a small sleep power
    assert t < 0.5


def test_run_csv_has_si_columns_and_total_row(tmp_path):
    out = tmp_path / "kws.csv"
    proc = tinysim("run", ARCH, KWS, "--format", "csv", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {"latency_s", "energy_j", "cycles", "macs"} <= set(rows[0])
    assert rows[-1]["layer"] == "TOTAL"
    assert int(rows[-1]["macs"]) == 2_562_432


def test_rate_too_high_is_one_line_exit_2_with_strict():
    """Without --strict the figures are printed and the rate flagged (tests/test_run_rate.py); with it, exit 2."""
    proc = tinysim("run", ARCH, KWS, "--rate", "1 kHz", "--strict")
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr and "--rate" in last and "longer than the period" in last


@pytest.mark.parametrize("content, fragment", [
    ("version: 1\nname: [unclosed\n", "bad.yaml:2"),
    ("version: 1\nname: x\nbogus_key: 3\n", "bogus_key"),
])
def test_bad_arch_is_one_line_exit_2(tmp_path, content, fragment):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    proc = tinysim("run", str(bad), KWS)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert "bad.yaml" in proc.stderr and fragment in proc.stderr


def test_corrupt_model_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "broken.tflite"
    bad.write_bytes(b"\x00\x01garbage" * 10)
    proc = tinysim("run", ARCH, str(bad))
    assert proc.returncode == 2
    assert "broken.tflite" in proc.stderr and "Traceback" not in proc.stderr


def test_check_reports_each_file():
    files = sorted(str(p) for p in (ROOT / "archs").glob("*.yaml")) + sorted(
        str(p) for p in (ROOT / "workloads").glob("*.yaml"))
    proc = tinysim("check", *files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok (") == len(files)


def test_check_fails_on_bad_file(tmp_path):
    bad = tmp_path / "arch.yaml"
    bad.write_text("version: 1\nname: x\ncompute: {}\n")
    proc = tinysim("check", ARCH, str(bad))
    assert proc.returncode == 2
    assert "arch.yaml" in proc.stderr


def test_help_has_examples():
    for cmd in ("run", "check", "validate", "models"):
        proc = tinysim(cmd, "--help")
        assert proc.returncode == 0 and "examples:" in proc.stdout


def test_run_real_model_with_input_saves_litert_identical_output(tmp_path, require_model):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    model = require_model("kws_ref_model_int8.tflite")
    x = np.random.default_rng(7).integers(-128, 128, (1, 49, 10, 1), dtype=np.int8)
    np.save(tmp_path / "x.npy", x)
    proc = tinysim("run", ARCH, str(model), "--input", str(tmp_path / "x.npy"),
                   "--save-output", str(tmp_path / "y.npy"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    y = np.load(tmp_path / "y.npy")
    ref = Interpreter(model_path=str(model), num_threads=1,
                      experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    ref.allocate_tensors()
    ref.set_tensor(ref.get_input_details()[0]["index"], x)
    ref.invoke()
    expected = ref.get_tensor(ref.get_output_details()[0]["index"])
    np.testing.assert_array_equal(y, expected)
    assert doc["top_class"] == int(np.argmax(expected[0]))
    assert doc["summary"]["events_source"] == "engine"


def test_run_bad_input_file_is_one_line_exit_2(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((3, 3), np.int8))
    proc = tinysim("run", ARCH, KWS, "--input", str(tmp_path / "x.npy"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--input" in proc.stderr and "expected shape [1, 49, 10, 1]" in proc.stderr


def test_model_exceeding_sram_is_reported(tmp_path):
    small = tmp_path / "small.yaml"
    small.write_text(Path(ARCH).read_text().replace("size: {value: 640 KiB, source: st-ds12023}", "size: 8 KiB"))
    proc = tinysim("run", str(small), KWS)
    assert proc.returncode == 0, proc.stderr
    # TFLM's arena for KWS: head 16,000 B (its planner) + persistent 8,268 B (TFLM reports 8,272) = 23.7 KiB, - 8 KiB
    assert "(head 15.62 KiB + persistent 8.074 KiB) of 8 KiB sram: EXCEEDS sram by 15.7 KiB" in proc.stdout
    assert proc.stdout.splitlines()[1].startswith("DOES NOT FIT: activation arena 23.7 KiB")


def test_op_the_engine_cannot_run_is_one_line_exit_2(tmp_path):
    import tflite
    from test_workload_tflite import build_model  # a tiny FC model followed by one op of our choice

    model = tmp_path / "softmax_int32.tflite"  # the engine has SOFTMAX, but not with an int32 output
    model.write_bytes(build_model(tflite.BuiltinOperator.SOFTMAX, out_type=tflite.TensorType.INT32))
    proc = tinysim("run", ARCH, str(model))
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "SOFTMAX" in proc.stderr and "lstm_1" in proc.stderr  # names the op kind and the layer
