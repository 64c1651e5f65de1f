"""`tinysim ops` and the honesty of `tinysim check`: both answer from the engine's kernel table, and check
refuses exactly what run refuses, with the same one-line message."""

from __future__ import annotations

import json

import pytest
import tflite
from conftest import require_model
from test_cli import ARCH, ROOT, tinysim
from test_workload_tflite import build_model

from tinysim.cli.main import main
from tinysim.engine.interpreter import KERNELS, SCHEMES
from tinysim.ops import OpKind


def _ops(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["ops", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_ops_lists_exactly_the_engine_kernels(capsys):
    status, out, _ = _ops(capsys, "--format", "json")
    listing = json.loads(out)
    assert status == 0 and listing["arch"] is None and listing["schemes"] == list(SCHEMES)
    assert [row["op"] for row in listing["ops"]] == [kind.value for kind in KERNELS]
    assert {"QUANTIZE", "DEQUANTIZE"} <= set(listing["not_run"])
    schemes = {row["op"]: row["schemes"] for row in listing["ops"]}
    assert schemes["CONV_2D"] == ["int8", "uint8"] and schemes["FULLY_CONNECTED"] == ["int8"]


def test_ops_table_says_int8_and_uint8_only(capsys):
    status, out, _ = _ops(capsys)
    assert status == 0 and "int8, uint8 only" in out
    table = out.split("\n\n")[0].splitlines()[2:]
    assert [line.split()[0] for line in table] == [kind.value for kind in KERNELS]


def test_ops_with_arch_names_the_unit_of_each_op(capsys):
    status, out, _ = _ops(capsys, str(ROOT / "archs" / "ndp120.yaml"), "--format", "json")
    units = {row["op"]: (row["unit"], row["unit_kind"]) for row in json.loads(out)["ops"]}
    assert status == 0 and units["CONV_2D"] == ("core2", "imc") and units["SOFTMAX"] == ("cpu", "mcu")


def test_ops_with_an_op_no_unit_runs(capsys, monkeypatch):
    from types import SimpleNamespace

    from tinysim.cli import ops_cmd

    npu = SimpleNamespace(name="npu", kind="npu", runs=frozenset({OpKind.CONV_2D}))
    monkeypatch.setattr(ops_cmd, "load_arch", lambda path: SimpleNamespace(name="conv-only", compute=(npu,)))
    status, out, _ = _ops(capsys, "conv-only.yaml")
    unit_column = 1 + len(SCHEMES)  # op, a yes/no per scheme, unit
    rows = {line.split()[0]: line.split(None, unit_column)[unit_column] for line in out.split("\n\n")[0].splitlines()[2:]}
    assert status == 0 and rows["CONV_2D"] == "npu (npu)" and rows["SOFTMAX"] == "no unit"


@pytest.mark.parametrize("args", [["missing.yaml"], [str(ROOT / "workloads" / "kws.yaml")]])
def test_ops_bad_arch_is_one_line_exit_2(capsys, args):
    status, out, err = _ops(capsys, *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("tinysim: ")


def test_ops_help_has_examples():
    proc = tinysim("ops", "--help")
    assert proc.returncode == 0 and "examples:" in proc.stdout and "tinysim ops archs/" in proc.stdout


def _check_and_run(model) -> tuple[str, str]:
    check, run = tinysim("check", str(model)), tinysim("run", ARCH, str(model))
    assert check.returncode == run.returncode == 2, (check.stdout, run.stdout)
    assert check.stderr.count("\n") == run.stderr.count("\n") == 1 and "Traceback" not in check.stderr
    return check.stderr, run.stderr


def test_check_refuses_what_run_refuses(tmp_path):
    """A lone QUANTIZE: the importer reads it, the engine has no kernel; check used to pass it."""
    model = tmp_path / "quant.tflite"
    model.write_bytes(build_model(tflite.BuiltinOperator.QUANTIZE))
    check, run = _check_and_run(model)
    assert check == run
    assert "unsupported ops: QUANTIZE x1 (first: layer 1 'lstm_1'); supported: CONV_2D" in check
    assert check.rstrip().endswith(", ".join(k.value for k in KERNELS))  # the engine's list, QUANTIZE not in it


@pytest.mark.parametrize("name, says", [
    ("corpus/coral/movenet_single_pose_lightning_ptq.tflite", "unsupported ops: CAST x5"),
    ("corpus/tflm_seanet/conv/conv0.tflite", "is int16; only int8 activations"),
    ("corpus/tflm_seanet/quantize/quantize0.tflite", "unsupported ops: QUANTIZE x1"),
    # ops the IR cannot represent and ops the engine cannot run, in one line
    ("corpus/coral/deeplabv3_mnv2_dm05_pascal_quant.tflite",
     "RESIZE_BILINEAR x3 (first: layer 64 'ResizeBilinear'), QUANTIZE x1 (first: layer 65"),
])
def test_check_and_run_agree_on_real_models(name, says):
    check, run = _check_and_run(require_model(name))
    assert check == run and says in check


def test_check_passes_the_int8_models_run_runs():
    models = [require_model(n) for n in ("kws_ref_model_int8.tflite", "vww_96_int8.tflite", "ad_autoencoder_int8.tflite")]
    proc = tinysim("check", *map(str, models))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok (workload") == len(models)
