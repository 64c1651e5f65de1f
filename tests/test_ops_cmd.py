"""`tinysim ops` and the honesty of `tinysim check`: both answer from the engine's kernel table, and check
refuses exactly what run refuses, with the same one-line message."""

from __future__ import annotations

import json
import subprocess

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
    assert listing["not_run"] == [kind.value for kind in OpKind if kind not in KERNELS]
    assert {row["op"]: row["schemes"] for row in listing["ops"]} == {k.value: list(v.schemes) for k, v in KERNELS.items()}
    assert {"int8", "uint8"} <= set(next(r["schemes"] for r in listing["ops"] if r["op"] == "CONV_2D"))


def test_ops_table_marks_each_scheme(capsys):
    status, out, _ = _ops(capsys)
    assert status == 0 and "'-': the engine does not run the op in that scheme" in out
    table = out.split("\n\n")[0].splitlines()[2:]
    assert [line.split()[0] for line in table] == [kind.value for kind in KERNELS]
    for line in table:
        kind = OpKind(line.split()[0])
        assert line.split()[1:] == ["yes" if s in KERNELS[kind].schemes else "-" for s in SCHEMES]


def test_ops_with_arch_names_the_unit_of_each_op_and_scheme(capsys):
    status, out, _ = _ops(capsys, str(ROOT / "archs" / "ndp120.yaml"), "--format", "json")
    units = {row["op"]: row["units"] for row in json.loads(out)["ops"]}
    assert status == 0
    assert units["CONV_2D"]["int8"] == {"unit": "core2", "unit_kind": "imc"}
    assert units["SOFTMAX"]["int8"] == {"unit": "cpu", "unit_kind": "mcu"}
    if "int16x8" in units["CONV_2D"]:  # the arrays take 8-bit inputs only: 16x8 falls back to the host core
        assert units["CONV_2D"]["int16x8"] == {"unit": "cpu", "unit_kind": "mcu"}


def test_ops_with_an_op_no_unit_runs(capsys, monkeypatch):
    from types import SimpleNamespace


    npu = SimpleNamespace(name="npu", kind="npu", runs=frozenset({OpKind.CONV_2D}), schemes=frozenset({"int8"}))
    import tinysim.arch

    monkeypatch.setattr(tinysim.arch, "load_arch", lambda path: SimpleNamespace(name="conv-only", compute=(npu,)))
    status, out, _ = _ops(capsys, "conv-only.yaml", "--format", "json")
    units = {row["op"]: row["units"] for row in json.loads(out)["ops"]}
    assert status == 0 and units["CONV_2D"]["int8"] == {"unit": "npu", "unit_kind": "npu"}
    assert units["CONV_2D"]["uint8"] is None and units["SOFTMAX"]["int8"] is None
    status, out, _ = _ops(capsys, "conv-only.yaml")
    assert "no unit" in out and "npu (npu)" in out


@pytest.mark.parametrize("args", [["missing.yaml"], [str(ROOT / "workloads" / "kws.yaml")]])
def test_ops_bad_arch_is_one_line_exit_2(capsys, args):
    status, out, err = _ops(capsys, *args)
    assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("tinysim: ")


def test_ops_help_has_examples():
    proc = tinysim("ops", "--help")
    assert proc.returncode == 0 and "examples:" in proc.stdout and "tinysim ops ndp120" in proc.stdout


def _check_and_run(model) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    check, run = tinysim("check", str(model)), tinysim("run", ARCH, str(model))
    assert check.returncode == run.returncode, (check.stderr, run.stderr)
    assert "Traceback" not in check.stderr + run.stderr
    if check.returncode:
        assert check.returncode == 2 and check.stderr.count("\n") == run.stderr.count("\n") == 1
        assert check.stderr == run.stderr
    return check, run


def test_check_refuses_what_the_engine_refuses(tmp_path):
    """The importer reads a SOFTMAX with an int32 output; only the engine's prepare refuses it, and check
    says exactly what run says."""
    model = tmp_path / "softmax_int32.tflite"
    model.write_bytes(build_model(tflite.BuiltinOperator.SOFTMAX, out_type=tflite.TensorType.INT32))
    check, _ = _check_and_run(model)
    assert check.returncode == 2 and "SOFTMAX (layer 1 'lstm_1'): tensor 'lstm_1' is int32" in check.stderr


def test_check_lists_every_op_the_engine_lacks(tmp_path):
    model = tmp_path / "cumsum.tflite"
    model.write_bytes(build_model(tflite.BuiltinOperator.CUMSUM))
    check, _ = _check_and_run(model)
    assert "unsupported ops: CUMSUM x1 (first: layer 1 'lstm_1')" in check.stderr


@pytest.mark.parametrize("name", [
    "corpus/coral/split_concat.tflite",
    "corpus/coral/keras_lstm_mnist_ptq.tflite",
    "corpus/tflm_seanet/conv/conv0.tflite",
    "corpus/tflm_seanet/quantize/quantize0.tflite",
    "corpus/tflm_seanet/transpose_conv/transpose_conv0.tflite",
])  # fmt: skip
def test_check_and_run_agree_on_real_models(name):
    _check_and_run(require_model(name))


def test_check_passes_the_int8_models_run_runs():
    models = [require_model(n) for n in ("kws_ref_model_int8.tflite", "vww_96_int8.tflite", "ad_autoencoder_int8.tflite")]
    proc = tinysim("check", *map(str, models))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(": ok (workload") == len(models)
