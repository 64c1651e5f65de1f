"""Every model of the public corpus (`../shared/models/corpus/`, MANIFEST.md there) runs bit-exact against
LiteRT's builtin reference kernels on 5 seeded inputs, or is refused in one line naming an op that tinysim
does not represent at all (not one of the ops it claims: tinysim.ops.OpKind).

The 127 single-op TFLite Micro integration models (int16x8) run as one test per op folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from conftest import shared_models_dir

from tinysim.engine import random_input, run_graph, runnable_ops
from tinysim.errors import UnsupportedOpError
from tinysim.ops import OpKind
from tinysim.workload.tflite_import import load_tflite

SEEDS = range(5)
CORPUS = shared_models_dir() / "corpus"


def _corpus(pattern: str) -> list[Path]:
    found = sorted(CORPUS.glob(pattern))
    if not found:
        reason = f"no corpus models match {CORPUS / pattern} (set TINYSIM_SHARED to the models folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _litert(path: Path):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(model_path=str(path), num_threads=1,
                              experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)  # fmt: skip
    interpreter.allocate_tensors()
    return interpreter


def _check_model(path: Path) -> str:
    """'bit-exact' after comparing every output on every seed, or the refusal (checked to name an op
    outside OpKind)."""
    try:
        graph = load_tflite(path, runnable=runnable_ops())
        run_graph(graph, random_input(graph, 0), count_events=False)
    except UnsupportedOpError as err:
        message = str(err)
        assert "\n" not in message
        unlisted = [name for name in _named_ops(message) if name not in OpKind.__members__]
        assert unlisted, f"{path.name} is refused for an op tinysim claims: {message}"
        return message
    interpreter = _litert(path)
    stateful = any(t.variable for t in graph.tensors)
    state = None
    # each seed from the reset state; a stateful model then once more as one stream, state carried
    for seed, carried in [*((s, False) for s in SEEDS), *((s, True) for s in SEEDS if stateful)]:
        inputs = random_input(graph, seed)
        if not carried:
            interpreter.reset_all_variables()
        elif seed == SEEDS[0]:
            interpreter.reset_all_variables()
            state = None
        for detail, x in zip(interpreter.get_input_details(), inputs):
            interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        result = run_graph(graph, inputs, count_events=False, state=state if carried else None)
        ours, state = result.outputs, result.state
        for detail, got in zip(interpreter.get_output_details(), ours):
            want = interpreter.get_tensor(detail["index"])
            assert got.dtype == want.dtype and got.shape == want.shape, (path.name, seed)
            mismatch = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
            assert mismatch.size == 0, (
                f"{path.name} seed {seed}{' (state carried)' if carried else ''}: {mismatch.size} of {got.size} "
                f"outputs differ, first at {mismatch[0]}: "
                f"tinysim {got.reshape(-1)[mismatch[0]]} vs LiteRT {want.reshape(-1)[mismatch[0]]}"
            )
    return "bit-exact"


def _named_ops(message: str) -> list[str]:
    """Op names in an 'unsupported ops: A x1 (...), B x2 (...)' refusal, else the op a prepare refusal names."""
    if "unsupported ops: " in message:
        listed = message.split("unsupported ops: ", 1)[1].split(";")[0]
        return [part.strip().split(" x")[0] for part in listed.split("), ") if part.strip()]
    return [message.split(": ", 1)[-1].split(" (layer", 1)[0]]


@pytest.mark.parametrize("name", [p.name for p in sorted((CORPUS / "coral").glob("*.tflite"))] or ["(none)"])
def test_coral_model(name):
    (path,) = _corpus(f"coral/{name}")
    assert _check_model(path) == "bit-exact"


@pytest.mark.parametrize("folder", [p.name for p in sorted((CORPUS / "tflm_seanet").glob("*")) if p.is_dir()] or ["(none)"])
def test_tflm_int16x8_models(folder):
    results = {path.name: _check_model(path) for path in _corpus(f"tflm_seanet/{folder}/*.tflite")}
    refused = {name: why for name, why in results.items() if why != "bit-exact"}
    assert not refused, refused
