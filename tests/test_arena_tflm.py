"""The arena tinysim reports against TFLite Micro's own allocation report, on the MLPerf Tiny models.

TFLM's RecordingMicroAllocator (`Interpreter.print_allocations()`) gives the arena's head (planned
activations), tail (persistent) and the tail's recorded parts. The head and the recorded struct
arrays are compared exactly. The tail as a whole is predicted within one 16-byte alignment unit:
TFLM pads between allocations of different alignment (8-byte struct arrays, 4-byte builtin data,
16-byte persistent buffers) in its own allocation order, which tinysim does not replay; it
predicts at most 12 bytes low on these models.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
from conftest import require_model

from tinysim.cost.result import SimResult
from tinysim.engine.arena import arena_usage, plan_arena
from tinysim.engine.persistent import PERSISTENT_ALIGNMENT, TFLM_HOST_LP64, TFLM_ILP32, persistent_bytes
from tinysim.pipeline import evaluate, run_workload
from tinysim.report.run_report import to_text
from tinysim.workload.tflite_import import load_tflite

MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8"]
STM = "archs/stm32l4r5.yaml"
_REPORT = """
from tflite_micro.python.tflite_micro import runtime
runtime.Interpreter.from_file({path!r}, arena_size=512 * 1024).print_allocations()
"""


@dataclass(frozen=True)
class TflmReport:
    head: int
    tail: int
    total: int
    requested: dict[str, int]  # recorded tail part -> requested bytes


def _require_tflm() -> None:
    try:
        import tflite_micro.python.tflite_micro.runtime  # noqa: F401
    except ImportError:
        reason = "tflite_micro is not installed (pip install tflite-micro)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def tflm_report(path) -> TflmReport:
    """TFLM's allocation report, read in a child process (the runtime logs it from C++, to stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", _REPORT.format(path=str(path))], capture_output=True, text=True, check=True
    )
    out = proc.stdout + proc.stderr
    arena = {m[1]: int(m[2]) for m in re.finditer(r"Arena allocation (\w+) (\d+) bytes", out)}
    requested = {m[1]: int(m[2]) for m in re.finditer(r"'([^']+)' used \d+ bytes .*?requested (\d+) bytes", out)}
    return TflmReport(arena["head"], arena["tail"], arena["total"], requested)


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    _require_tflm()
    path = require_model(request.param + ".tflite")
    return request.param, path, load_tflite(path), tflm_report(path)


def test_head_persistent_and_total_match_tflm(model):
    name, _, graph, tflm = model
    usage = arena_usage(graph)
    assert usage.head_bytes == plan_arena(graph).peak_bytes == tflm.head, name
    missing = tflm.tail - usage.persistent_bytes  # TFLM's padding between differently aligned allocations
    assert 0 <= missing < PERSISTENT_ALIGNMENT, (name, usage.persistent_bytes, tflm.tail)
    assert 0 <= tflm.total - usage.total_bytes < PERSISTENT_ALIGNMENT, (name, usage.total_bytes, tflm.total)


def test_recorded_struct_arrays_match_exactly(model):
    name, _, graph, tflm = model
    p = persistent_bytes(graph)
    tensor_parts = (
        "TfLiteEvalTensor data",
        "Persistent TfLiteTensor data",
        "Persistent TfLiteTensor quantization data",
    )
    assert p.tensors == sum(tflm.requested[k] for k in tensor_parts), name
    assert TFLM_HOST_LP64.node_bytes * len(graph.ops) == tflm.requested["NodeAndRegistration struct"], name
    # OpData, per-channel arrays and pointer arrays, each rounded up to 16 bytes as TFLM aligns them
    assert 0 <= p.op_data - tflm.requested["Persistent buffer data"] < PERSISTENT_ALIGNMENT * (2 + 3 * len(graph.ops))


def test_32bit_layout_is_smaller_but_keeps_the_int32_arrays(model):
    _, _, graph, _ = model
    lp64, ilp32 = persistent_bytes(graph), persistent_bytes(graph, TFLM_ILP32)
    assert ilp32.total < lp64.total
    assert ilp32.tensors < lp64.tensors and ilp32.nodes < lp64.nodes


def test_pipeline_reports_the_whole_arena_with_its_split(model):
    _, _, graph, tflm = model
    run = run_workload(graph, events="shapes")
    assert run.arena_head_bytes == tflm.head
    assert run.arena_bytes == run.arena_head_bytes + run.arena_persistent_bytes
    result = evaluate(STM, run).result
    assert (result.arena_bytes, result.arena_head_bytes, result.arena_persistent_bytes) == (
        run.arena_bytes,
        run.arena_head_bytes,
        run.arena_persistent_bytes,
    )
    summary = result.summary_dict()
    assert summary["arena_bytes"] == summary["arena_head_bytes"] + summary["arena_persistent_bytes"]
    line = next(row for row in to_text(result, None).splitlines() if row.startswith("activation arena"))
    assert "(head " in line and " + persistent " in line, line


def test_result_without_a_split_reports_the_arena_alone():
    result = SimResult(
        "a",
        "w",
        "op",
        1.0,
        1e6,
        (),
        0.0,
        weights_capacity_bytes=1,
        arena_bytes=2048,
        arena_memory="sram",
        arena_capacity_bytes=4096,
    )
    assert (result.arena_head_bytes, result.arena_persistent_bytes) == (0, 0)
    line = next(row for row in to_text(result, None).splitlines() if row.startswith("activation arena"))
    assert "head" not in line and "2 KiB of 4 KiB sram: fits" in line, line


# --- stateful models: variable tensors and the recurrent kernels' scratch handles live in the tail ----------------

LSTM_MODEL = "corpus/coral/keras_lstm_mnist_ptq.tflite"


def _recurrent_models():
    from recurrent_builder import build_lstm, build_svdf

    lstm = {
        "n_batch": 2,
        "n_time": 4,
        "n_input": 6,
        "n_cell": 20,
        "time_major": False,
        "cifg": False,
        "cell_clip": 10.0,
        "in_scale": 1 / 64,
        "in_zp": 3,
        "h_scale": 1 / 128,
        "h_zp": -1,
        "cell_log2": -12,
        "w_scales": [0.01] * 8,
        "w_max": 127,
        "bias_bits": 10,
        "seed": 1,
    }
    svdf = {
        "n_batch": 2,
        "n_input": 6,
        "n_filter": 12,
        "n_memory": 7,
        "rank": 2,
        "activation": 1,
        "in_scale": 1 / 64,
        "in_zp": 3,
        "out_scale": 1 / 16,
        "out_zp": -2,
        "w_feat_scale": 0.01,
        "w_time_scale": 1 / 32768,
        "state_scale": 1 / 1024,
        "with_bias": True,
        "seed": 1,
    }
    return {
        "lstm-2x20": build_lstm(**lstm)[0],
        "lstm-1x5": build_lstm(**{**lstm, "n_batch": 1, "n_cell": 5})[0],
        "svdf-2x12": build_svdf(**svdf)[0],
        "svdf-1x4": build_svdf(**{**svdf, "n_batch": 1, "n_filter": 4})[0],
    }


@pytest.mark.parametrize("name", [LSTM_MODEL, "lstm-2x20", "lstm-1x5", "svdf-2x12", "svdf-1x4"])
def test_state_tensors_and_recurrent_op_data_in_the_tail(name, tmp_path):
    _require_tflm()
    if name.endswith(".tflite"):
        path = require_model(name)
    else:
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(_recurrent_models()[name])
    graph, tflm = load_tflite(path), tflm_report(path)
    p = persistent_bytes(graph)
    variables = [t for t in graph.tensors if t.variable]
    assert sum(t.nbytes for t in variables) == tflm.requested["TfLiteTensor variable buffer data"], name
    missing = tflm.tail - p.total
    assert 0 <= missing < PERSISTENT_ALIGNMENT, (name, p, tflm.tail)
    if name == LSTM_MODEL:  # the LSTM's scratch buffers fit in the activation plan's gaps on this model
        assert plan_arena(graph).peak_bytes == tflm.head


# --- every op kind the engine runs: table entries, kernel scratch in the head, the whole corpus -------------------

SEANET = "corpus/tflm_seanet"
CORAL_UINT8 = [
    "deeplabv3_mnv2_dm05_pascal_quant",
    "mobilenet_v1_0.25_128_quant",
    "mobilenet_v2_1.0_224_quant",
    "movenet_single_pose_lightning_ptq",
    "split_concat",
]
# TFLM pads between allocations of different alignment in its own order (not replayed): on the corpus the tail
# comes out up to 8 B above TFLM's (an OpData that TFLM fits in a previous allocation's padding) or up to 12 B below.
TAIL_SLACK = (-8, PERSISTENT_ALIGNMENT)
_MANY_REPORTS = """
import sys
from tflite_micro.python.tflite_micro import runtime
for p in sys.argv[1:]:
    sys.stderr.write("@@MODEL " + p + "\\n")
    sys.stderr.flush()
    runtime.Interpreter.from_file(p, arena_size=2 * 1024 * 1024).print_allocations()
    sys.stderr.flush()
"""


def test_every_engine_kind_has_tail_entries():
    from tinysim.engine.interpreter import KERNELS

    for layout in (TFLM_HOST_LP64, TFLM_ILP32):
        missing = [k.name for k in KERNELS if k not in layout.op_data_bytes or k not in layout.builtin_data_bytes]
        assert not missing, (layout.name, missing)


def _corpus_models() -> list[str]:
    from conftest import shared_models_dir

    folder = shared_models_dir() / SEANET
    seanet = sorted(str(p.relative_to(shared_models_dir())) for p in folder.glob("*/*.tflite"))
    return [*seanet, LSTM_MODEL]


@pytest.fixture(scope="module")
def corpus_reports():
    """TFLM's allocation report of every corpus model TFLM can run, from one child process."""
    _require_tflm()
    paths = [str(require_model(name)) for name in _corpus_models()]
    if len(paths) == 1:
        pytest.skip(f"{SEANET} not found")
    proc = subprocess.run([sys.executable, "-c", _MANY_REPORTS, *paths], capture_output=True, text=True, check=True)
    reports = {}
    for chunk in (proc.stdout + proc.stderr).split("@@MODEL ")[1:]:
        path, text = chunk.split("\n", 1)
        arena = {m[1]: int(m[2]) for m in re.finditer(r"Arena allocation (\w+) (\d+) bytes", text)}
        reports[path.strip()] = TflmReport(arena["head"], arena["tail"], arena["total"], {})
    return reports


def test_corpus_arena_matches_tflm(corpus_reports):
    assert len(corpus_reports) >= 128, len(corpus_reports)  # 127 seanet int16x8 models and the coral LSTM
    wrong = []
    for path, tflm in corpus_reports.items():
        usage = arena_usage(load_tflite(path))
        tail, total = tflm.tail - usage.persistent_bytes, tflm.total - usage.total_bytes
        if usage.head_bytes != tflm.head or not (TAIL_SLACK[0] <= tail < TAIL_SLACK[1]) or total != tail:
            wrong.append((path, usage.head_bytes, tflm.head, tail, total))
    assert not wrong, wrong


def test_transpose_conv_accumulators_are_planned_in_the_head(corpus_reports):
    path = next(p for p in corpus_reports if p.endswith("transpose_conv0.tflite"))
    graph, tflm = load_tflite(path), corpus_reports[path]
    usage = arena_usage(graph)
    out = graph.tensors[graph.ops[0].outputs[0]]
    assert usage.activation_bytes == plan_arena(graph).peak_bytes < tflm.head
    assert usage.scratch_bytes == 8 * out.size  # int16x8: one int64 accumulator per output element
    assert usage.head_bytes == tflm.head and usage.total_bytes == usage.head_bytes + usage.persistent_bytes


@pytest.mark.parametrize("name", CORAL_UINT8)
def test_coral_uint8_models_are_not_compared(name):
    pytest.skip(f"coral/{name}: TFLite Micro has no uint8 kernels, so it cannot run legacy uint8 models")


@pytest.mark.parametrize("name", ["lstm-2x20", "lstm-1x5", "svdf-2x12", "svdf-1x4"])
def test_recurrent_scratch_buffers_are_planned_in_the_head(name, tmp_path):
    _require_tflm()
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(_recurrent_models()[name])
    graph, tflm = load_tflite(path), tflm_report(path)
    usage = arena_usage(graph)
    assert usage.scratch_bytes > 0, name  # LSTM: 4 int16 gate buffers; SVDF: 2 int32 accumulators
    assert usage.head_bytes == tflm.head and usage.total_bytes - usage.persistent_bytes == tflm.head, name
