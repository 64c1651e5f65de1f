"""`tinysim run --frames N` / `evaluate_frames`: N invocations in a row, state carried, each priced."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_cli import ARCH, ROOT, tinysim

from tinysim.engine import random_input, run_graph
from tinysim.errors import WorkloadError
from tinysim.frames import evaluate_frames, run_frames
from tinysim.pipeline import evaluate
from tinysim.workload import load_workload

KWS = str(ROOT / "workloads" / "kws.yaml")


def test_frames_of_a_stateless_model_are_independent_inferences():
    stream = evaluate_frames(ARCH, KWS, 3, seed=5, rate="2 Hz")
    singles = [evaluate(ARCH, KWS, seed=5 + i, rate="2 Hz") for i in range(3)]
    assert [f.energy_j for f in stream.frames] == [s.energy_j for s in singles]
    assert [f.run.events for f in stream.frames] == [s.run.events for s in singles]
    assert stream.energy_j == pytest.approx(sum(s.energy_j for s in singles))
    assert stream.latency_s == pytest.approx(sum(s.latency_s for s in singles))
    assert stream.average_power_w == pytest.approx(np.mean([s.average_power_w for s in singles]))


def test_frames_read_one_input_per_frame_from_an_array(tmp_path):
    graph = load_workload(KWS)
    stream = np.stack([random_input(graph, 10 + i)[0] for i in range(2)])
    np.save(tmp_path / "stream.npy", stream)
    from_file = run_frames(graph, 2, input=tmp_path / "stream.npy")
    seeded = run_frames(graph, 2, seed=10)
    assert [r.events for r in from_file] == [r.events for r in seeded]
    assert all(np.array_equal(a.outputs[0], b.outputs[0]) for a, b in zip(from_file, seeded))


@pytest.mark.parametrize("frames, stream_shape, says", [
    (0, None, "expected a number of frames from 1 to"),
    (2, (3, 1, 49, 10, 1), "expected 2 frames of shape [1, 49, 10, 1]"),
    (2, (2, 1, 10, 49, 1), None),  # right element count per frame: reshaped, accepted
])  # fmt: skip
def test_bad_frames_or_stream_is_a_one_line_error(tmp_path, frames, stream_shape, says):
    path = None
    if stream_shape is not None:
        path = tmp_path / "s.npy"
        np.save(path, np.zeros(stream_shape, np.int8))
    if says is None:
        assert len(run_frames(load_workload(KWS), frames, input=path)) == frames
        return
    with pytest.raises(WorkloadError) as info:
        run_frames(load_workload(KWS), frames, input=path)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_cli_frames_table_json_csv_and_refusals(tmp_path):
    table = tinysim("run", ARCH, KWS, "--frames", "2", "--rate", "2")
    assert table.returncode == 0, table.stderr
    assert "2 invocations in a row" in table.stdout and "TOTAL" in table.stdout and "average power at 2 Hz" in table.stdout
    doc = json.loads(tinysim("run", ARCH, KWS, "--frames", "2", "--format", "json").stdout)
    assert doc["frames"] == 2 and len(doc["per_frame"]) == 2
    assert doc["total"]["energy_j"] == pytest.approx(sum(f["summary"]["energy_j"] for f in doc["per_frame"]))
    csv_lines = tinysim("run", ARCH, KWS, "--frames", "2", "--format", "csv").stdout.strip().splitlines()
    ident = "tinysim_version,schema_version,arch,workload,operating_point,"
    assert csv_lines[0].startswith(ident + "frame,latency_s,energy_j") and len(csv_lines) == 4
    assert csv_lines[-1].split(",")[5] == "TOTAL"
    for args, says in [(["--frames", "0"], "--frames: expected a number of frames"),
                       (["--frames", "2", "--deadline", "1 s"], "--deadline cannot be combined with --frames")]:  # fmt: skip
        proc = tinysim("run", ARCH, KWS, *args)
        assert proc.returncode == 2 and says in proc.stderr and proc.stderr.count("\n") == 1


def test_lstm_frames_carry_state_as_litert_invoked_in_a_row():
    """Frame i of `run_frames` equals LiteRT's i-th invoke on one interpreter (variable tensors persist), and
    differs from a fresh start: the state really is carried."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    from conftest import require_model

    path = require_model("corpus/coral/keras_lstm_mnist_ptq.tflite")
    runs = run_frames(path, 3, seed=7)
    interpreter = Interpreter(model_path=str(path),
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)  # fmt: skip
    interpreter.allocate_tensors()
    for i, run in enumerate(runs):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], random_input(run.graph, 7 + i)[0])
        interpreter.invoke()
        assert np.array_equal(run.outputs[0], interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
    graph = runs[0].graph  # the classifier's output may saturate alike; the LSTM state after frame 1 may not
    first = run_graph(graph, random_input(graph, 7))
    carried = run_graph(graph, random_input(graph, 8), state=first.state)
    fresh = run_graph(graph, random_input(graph, 8))
    assert len(carried.state) == 2 and any(not np.array_equal(a, b) for a, b in zip(carried.state, fresh.state))
