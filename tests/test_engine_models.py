"""The engine on the four MLPerf Tiny models against the reference runtimes.

- semantics="litert": bit-identical to LiteRT's builtin kernels (no delegates), end to end
  on 20 random inputs per model, and op by op on real layers (preserve_all_tensors).
- semantics="tflm": bit-identical to TFLite Micro's Python interpreter.
- LiteRT vs TFLM themselves: recorded. They differ where a conv/FC without ReLU rounds a
  negative tie (ruy's output stage rounds it up, TFLite's away from zero): IC's residual
  branches amplify it to tens of LSBs after softmax; AD's last layer to 1.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_model

from tinysim.engine import plan_arena, prepare, random_input, run_graph
from tinysim.workload.graph import Graph
from tinysim.workload.tflite_import import load_tflite

MODELS = ["kws_ref_model_int8", "vww_96_int8", "ic_resnet8_int8", "ad_autoencoder_int8"]
INPUTS = 20
# Max |LiteRT - TFLM| over seeds 0..19 as measured (ai-edge-litert 2.3.0, tflite-micro 2026-10).
LITERT_VS_TFLM = {"kws_ref_model_int8": 0, "vww_96_int8": 0, "ic_resnet8_int8": 30, "ad_autoencoder_int8": 1}
TFLM_ARENA_HEAD = {
    "kws_ref_model_int8": 16000,
    "vww_96_int8": 73728,
    "ic_resnet8_int8": 49152,
    "ad_autoencoder_int8": 768,
}


def litert(path):
    litert_interp = pytest.importorskip("ai_edge_litert.interpreter")
    it = litert_interp.Interpreter(
        model_path=str(path),
        num_threads=1,
        experimental_op_resolver_type=litert_interp.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        experimental_preserve_all_tensors=True,
    )
    it.allocate_tensors()
    return it


def litert_run(it, x):
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def tflm(path):
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    return runtime.Interpreter.from_file(str(path), arena_size=512 * 1024)


def tflm_run(it, x):
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0)


@pytest.fixture(scope="module", params=MODELS)
def model(request):
    path = require_model(request.param + ".tflite")
    return request.param, path, load_tflite(path)


def test_bit_exact_with_litert_builtin(model):
    name, path, graph = model
    it, prep = litert(path), prepare(graph, "litert")
    for seed in range(INPUTS):
        x = random_input(graph, seed)
        np.testing.assert_array_equal(
            run_graph(prep, x).outputs[0], litert_run(it, x[0]), err_msg=f"{name} seed {seed}"
        )


def test_bit_exact_with_tflm_and_litert_difference_recorded(model):
    name, path, graph = model
    tm, lt, prep = tflm(path), litert(path), prepare(graph, "tflm")
    worst = 0
    for seed in range(INPUTS):
        x = random_input(graph, seed)
        ref = tflm_run(tm, x[0])
        np.testing.assert_array_equal(run_graph(prep, x).outputs[0], ref, err_msg=f"{name} seed {seed}")
        worst = max(worst, int(np.abs(litert_run(lt, x[0]).astype(int) - ref).max()))
    assert worst <= LITERT_VS_TFLM[name]


def _single_op_graph(graph: Graph, k: int) -> Graph:
    op = graph.ops[k]
    acts = tuple(i for i in op.inputs if i >= 0 and not graph.tensors[i].is_constant)
    return Graph(f"{graph.name}[{k}]", graph.tensors, (op,), acts, op.outputs)


def test_every_real_layer_matches_litert_given_its_recorded_input(model):
    name, path, graph = model
    it = litert(path)
    litert_run(it, random_input(graph, 123)[0])
    for k, op in enumerate(graph.ops):
        sub = _single_op_graph(graph, k)
        got = run_graph(sub, [it.get_tensor(i) for i in sub.inputs]).outputs[0]
        np.testing.assert_array_equal(got, it.get_tensor(op.outputs[0]), err_msg=f"{name} op {k} {op.kind.value}")


def test_ad_sample_input_from_testdata():
    path = require_model("ad_autoencoder_int8.tflite")
    sample = require_model("testdata/ad_normal_id_01_00000000_hist_librosa.bin")
    graph = load_tflite(path)
    frames = np.fromfile(sample, dtype="<f4").reshape(200, 128)
    t = graph.tensors[graph.inputs[0]]
    s, zp = t.quant.scale[0], t.quant.zero_point[0]
    it, tm, prep_l, prep_t = litert(path), tflm(path), prepare(graph, "litert"), prepare(graph, "tflm")
    for start in range(0, 196, 15):
        window = frames[start : start + 5].reshape(1, 640)
        x = np.clip(np.round(window / s) + zp, -128, 127).astype(np.int8)
        np.testing.assert_array_equal(run_graph(prep_l, x).outputs[0], litert_run(it, x))
        np.testing.assert_array_equal(run_graph(prep_t, x).outputs[0], tflm_run(tm, x))


def test_arena_plan_matches_tflm_and_is_sound(model):
    name, _, graph = model
    plan = plan_arena(graph)
    assert plan.peak_bytes == TFLM_ARENA_HEAD[name]  # TFLM print_allocations(): "Arena allocation head"
    for k, op in enumerate(graph.ops):
        live = {t for t in (*op.inputs, *op.outputs) if t in plan.lifetimes}
        assert plan.peak_bytes >= sum(graph.tensors[t].nbytes for t in {plan.aliases.get(t, t) for t in live})
    items = sorted(plan.lifetimes)
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            (fa, la), (fb, lb) = plan.lifetimes[a], plan.lifetimes[b]
            shared = plan.aliases.get(a, a) == plan.aliases.get(b, b)
            if fa <= lb and fb <= la and not shared:
                oa, ob = plan.offsets[a], plan.offsets[b]
                assert oa + plan.sizes[a] <= ob or ob + plan.sizes[b] <= oa, (a, b)
            assert plan.offsets[a] % 16 == 0


def test_events_are_consistent_with_shapes(model):
    _, _, graph = model
    from tinysim.ops import MAC_OPS

    r = run_graph(graph, random_input(graph, 0))
    for op, e in zip(graph.ops, r.events):
        assert 0 <= e.zero_macs <= e.macs and 0 <= e.output_zeros <= e.output_elements
        assert (e.macs > 0) == (op.kind in MAC_OPS)
        if op.kind in MAC_OPS:
            assert e.weight_bytes_unique == sum(graph.tensors[i].nbytes for i in op.inputs[1:] if i >= 0)
    total = r.total
    assert total.output_elements == sum(graph.tensors[op.outputs[0]].size for op in graph.ops)
    assert run_graph(graph, random_input(graph, 0), count_events=False).events == ()
