"""Ops an accelerator cannot run fall back to the host core (by op kind and quantization scheme), the
activations moved between the units' memories are priced, IMC arrays hold recurrent gate matrices, and an
architecture with no unit for an op says so in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import require_model

from tinysim.arch import load_arch
from tinysim.cost.imc import map_graph
from tinysim.cost.placement import place
from tinysim.cost.shape import graph_shape, handoffs
from tinysim.engine import random_input, run_graph
from tinysim.errors import SpecError
from tinysim.ops import OpKind
from tinysim.workload.schemes import op_scheme
from tinysim.workload.tflite_import import load_tflite

ARCHS = Path(__file__).resolve().parent.parent / "archs"


def _split_memory_ndp120(tmp_path: Path) -> Path:
    """ndp120 with the Cortex-M0 computing in its own SRAM (as the chip's 304 KB processor SRAM)."""
    text = (ARCHS / "ndp120.yaml").read_text()
    cpu_block = text.index("  cpu:\n")
    head, tail = text[:cpu_block], text[cpu_block:]
    tail = tail.replace("    activations_in: act_sram", "    activations_in: cpu_sram", 1)
    tail = tail.replace(
        "memories:\n",
        "memories:\n  cpu_sram:\n    size: {value: 304 KiB, assumed: test}\n    width: {value: 4 B, assumed: test}\n"
        "    read_energy: {value: 7 pJ, assumed: test}\n    write_energy: {value: 7 pJ, assumed: test}\n"
        "    leakage: {value: 0 uW, assumed: test}\n",
        1,
    )
    path = tmp_path / "ndp120-split.yaml"
    path.write_text(head + tail)
    return path


def test_activations_handed_to_another_units_memory_are_priced(tmp_path):
    graph = load_tflite(require_model("kws_ref_model_int8.tflite"))
    arch = load_arch(_split_memory_ndp120(tmp_path))
    units = place(graph, arch)
    softmax = next(k for k, op in enumerate(graph.ops) if op.kind is OpKind.SOFTMAX)
    assert units[softmax].name == "cpu" and units[softmax - 1].name == "core2"
    moved = handoffs(graph, units)
    logits = graph.tensors[graph.ops[softmax].inputs[0]]
    assert moved[softmax] == [("act_sram", "cpu_sram", logits.nbytes)]
    assert all(not m for k, m in enumerate(moved) if k != softmax)

    events = run_graph(graph, random_input(graph, 0)).events
    shape = graph_shape(graph, events, arch)
    act, cpu = shape.memories.index("act_sram"), shape.memories.index("cpu_sram")
    # the copy is the softmax's only access to the accelerator's SRAM; its own traffic is in the cpu's
    assert shape.reads[softmax, act] == logits.nbytes
    assert shape.writes[softmax, cpu] == logits.nbytes + events[softmax].act_bytes_written
    same = graph_shape(graph, events, load_arch(ARCHS / "ndp120.yaml"))  # one shared SRAM: nothing moves
    assert same.reads[softmax].sum() == events[softmax].act_bytes_read


def test_int16_ops_fall_back_from_8_bit_accelerators_to_the_host():
    graph = load_tflite(require_model("corpus/tflm_seanet/conv/conv0.tflite"))
    assert op_scheme(graph, graph.ops[0]) == "int16x8"
    for name, host in [("ndp120", "cpu"), ("systolic-16x16", "host"), ("efr32mg24", "cpu")]:
        assert [u.name for u in place(graph, load_arch(ARCHS / f"{name}.yaml"))] == [host]
    assert [u.name for u in place(graph, load_arch(ARCHS / "ethos-u55-128.yaml"))] == ["npu"]  # Vela runs 16x8


def test_an_arch_with_no_unit_for_an_op_says_so_in_one_line(tmp_path):
    text = (ARCHS / "systolic-16x16.yaml").read_text()
    start = text.index("  host:\n")
    end = text.index("\nmemories:")
    path = tmp_path / "array-only.yaml"
    path.write_text(text[:start] + text[end + 1 :])
    graph = load_tflite(require_model("corpus/tflm_seanet/conv/conv0.tflite"))
    with pytest.raises(SpecError) as info:
        place(graph, load_arch(path))
    message = str(info.value)
    assert "\n" not in message and "no compute unit runs CONV_2D in int16x8 (op 0" in message
    assert "array (runs 3 op kinds, int8/uint8 only)" in message


def test_imc_arrays_hold_the_lstm_gate_matrices():
    graph = load_tflite(require_model("corpus/coral/keras_lstm_mnist_ptq.tflite"))
    arch = load_arch(ARCHS / "ndp120.yaml")
    lstm = next(op for op in graph.ops if op.kind is OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM)
    assert [u.name for u, op in zip(place(graph, arch), graph.ops) if op is lstm] == ["core2"]
    parts = map_graph(graph, arch.compute[0], arch).per_op[lstm.name]
    x = graph.tensors[lstm.inputs[0]].shape  # (batch, time, features)
    units = graph.tensors[lstm.inputs[2]].shape[0]
    gates = sum(1 for t in lstm.inputs[1:5] if t >= 0)
    steps = int(np.prod(x[:-1]))
    # every gate weight stored once: input matrices (units x features), recurrent ones (units x units)
    assert [p.weights for p in parts] == [x[-1] * units * gates, units * units * gates]
    assert [p.pixels for p in parts] == [steps, steps]


@pytest.mark.parametrize("model", ["corpus/coral/mobilenet_v1_0.25_128_quant.tflite",
                                   "corpus/coral/keras_lstm_mnist_ptq.tflite"])  # fmt: skip
def test_compare_gives_every_architecture_a_row(model):
    """`tinysim compare archs/*.yaml --workload MODEL`: a figure for every shipped architecture, or a note."""
    import json

    from test_cli import tinysim

    archs = sorted(str(p) for p in ARCHS.glob("*.yaml"))
    proc = tinysim("compare", *archs, "--workload", str(require_model(model)), "--format", "json", "--no-plot")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert sorted(r["arch"] for r in rows) == sorted(Path(a).stem for a in archs)
    for row in rows:
        assert (row["ok"] and row["latency_s"] > 0 and row["energy_j"] > 0) or row["note"], row
