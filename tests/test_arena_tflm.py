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
