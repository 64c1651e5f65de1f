"""Per-op statistics and shape-based Events: formulas on known layers, totals against published MACs."""

from __future__ import annotations

import pytest
from conftest import require_model

from tinysim.events import Events
from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload.stats import OpStats, estimate_events, graph_stats, op_stats, total_stats
from tinysim.workload.tflite_import import load_tflite

# MLPerf Tiny MACs (conv + depthwise + fully connected), as listed in the shared models' MANIFEST.md.
MACS = {
    "kws_ref_model_int8.tflite": 2_656_768,
    "vww_96_int8.tflite": 7_489_664,
    "ic_resnet8_int8.tflite": 12_501_632,
    "ad_autoencoder_int8.tflite": 264_192,
    "ic_resnet_large_int8.tflite": 76_473_920,
}


@pytest.mark.parametrize("name", sorted(MACS))
def test_total_macs(name):
    graph = load_tflite(require_model(name))
    total = total_stats(graph_stats(graph))
    assert total.macs == MACS[name]
    events = sum((estimate_events(graph, op) for op in graph.ops), Events())
    assert events.macs == MACS[name]
    shapes = {op.inputs[1] for op in graph.ops if op.kind is OpKind.RESHAPE and len(op.inputs) > 1}
    constants = sum(t.nbytes for i, t in enumerate(graph.tensors) if t.is_constant and i not in shapes)
    assert total.weight_bytes == constants  # every constant but a RESHAPE's shape vector is a weight or bias


def test_kws_per_layer_formulas():
    graph = load_tflite(require_model("kws_ref_model_int8.tflite"))
    stats = graph_stats(graph)
    conv1, dw1, pw1 = op_stats(graph, graph.ops[0]), stats[1], stats[2]
    assert conv1 == OpStats(
        macs=25 * 5 * 64 * 10 * 4 * 1,
        params=64 * 40 + 64,
        weight_bytes=2560 + 256,
        input_bytes=49 * 10,
        output_bytes=25 * 5 * 64,
    )
    assert dw1.macs == 25 * 5 * 64 * 9 and dw1.params == 9 * 64 + 64
    assert pw1.macs == 25 * 5 * 64 * 64
    pool, reshape, fc, softmax = stats[9:]
    assert pool == OpStats(input_bytes=25 * 5 * 64, output_bytes=64)
    assert reshape == OpStats(input_bytes=64, output_bytes=64)  # the shape vector is neither weight nor input
    assert fc == OpStats(macs=12 * 64, params=12 * 64 + 12, weight_bytes=768 + 48, input_bytes=64, output_bytes=12)
    assert softmax.macs == 0 and softmax.output_bytes == 12


def test_op_stats_are_additive():
    a = OpStats(1, 2, 3, 4, 5)
    assert a + a == OpStats(2, 4, 6, 8, 10)
    assert total_stats([a, a, a]) == OpStats(3, 6, 9, 12, 15)
    assert total_stats([]) == OpStats()


def test_estimated_events_kws():
    graph = load_tflite(require_model("kws_ref_model_int8.tflite"))
    conv1 = estimate_events(graph, graph.ops[0])
    assert conv1 == Events(
        macs=320_000,
        weight_bytes_read=320_000,
        act_bytes_read=320_000,
        act_bytes_written=8000,
        elementwise=8000,
        output_elements=8000,
    )
    fc = estimate_events(graph, graph.ops[11])
    assert fc.weight_bytes_read == 12 * 64  # fully connected: each weight fetched exactly once
    pool = estimate_events(graph, graph.ops[9])
    assert pool == Events(act_bytes_read=25 * 5 * 64, act_bytes_written=64, elementwise=25 * 5 * 64, output_elements=64)
    reshape = estimate_events(graph, graph.ops[10])
    assert reshape.elementwise == 0 and reshape.act_bytes_read == reshape.act_bytes_written == 64
    softmax = estimate_events(graph, graph.ops[12])
    assert softmax == Events(act_bytes_read=12, act_bytes_written=12, elementwise=12, output_elements=12)


def test_estimated_events_add_reads_both_inputs():
    graph = load_tflite(require_model("ic_resnet8_int8.tflite"))
    add = next(op for op in graph.ops if op.kind is OpKind.ADD)
    events = estimate_events(graph, add)
    assert events == Events(
        act_bytes_read=2 * 32 * 32 * 16,
        act_bytes_written=32 * 32 * 16,
        elementwise=32 * 32 * 16,
        output_elements=32 * 32 * 16,
    )


@pytest.mark.parametrize("name", sorted(MACS))
def test_events_agree_with_stats(name):
    graph = load_tflite(require_model(name))
    for op, stats in zip(graph.ops, graph_stats(graph), strict=True):
        events = estimate_events(graph, op)
        assert events.macs == stats.macs and events.act_bytes_written == stats.output_bytes
        assert (events.zero_macs, events.output_zeros, events.adc_conversions) == (0, 0, 0)
        if op.kind in MAC_OPS:
            assert events.weight_bytes_read == events.macs == events.act_bytes_read  # int8 weights and inputs
