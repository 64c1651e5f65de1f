"""Compression steps (prune, re-quantize, share), the size report, fidelity, the graph-npz workload, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_process import tinysim
from conftest import require_model

from tinysim.compression.fidelity import ad_windows, compare, random_inputs
from tinysim.compression.layers import as_rows, channel_scales, real_rows, weighted_layers
from tinysim.compression.pipeline import CompressOptions, compress
from tinysim.compression.prune import prune
from tinysim.compression.requantize import requantize
from tinysim.compression.share import kmeans_1d, share
from tinysim.compression.size import measure
from tinysim.engine import random_input, run_graph
from tinysim.workload import load_workload
from tinysim.workload.npz_graph import load_graph_npz, save_graph_npz

ROOT = Path(__file__).resolve().parents[1]
AD_SAMPLE = "testdata/ad_normal_id_01_00000000_hist_librosa.bin"


@pytest.fixture(scope="module")
def kws():
    return load_workload(ROOT / "workloads" / "kws.yaml")


@pytest.fixture(scope="module")
def ad():
    return load_workload(ROOT / "workloads" / "ad.yaml")


def _codes(graph, layer):
    return as_rows(graph.tensors[layer.weight].data, layer.axis).astype(np.int64)


def test_layers_are_the_weighted_ops(kws):
    layers = weighted_layers(kws)
    assert [layer.name for layer in layers][:3] == ["conv1", "dw1", "pw1"]
    assert {layer.axis for layer in layers if layer.kind.value == "DEPTHWISE_CONV_2D"} == {3}


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.9])
def test_prune_per_layer_reaches_the_target_and_removes_the_smallest(ad, sparsity):
    pruned, records = prune(ad, sparsity)
    for layer, record in zip(weighted_layers(ad), records):
        before, after = real_rows(ad, layer), real_rows(pruned, layer)
        assert record.sparsity == pytest.approx(max(sparsity, record.zeros_before / record.weights), abs=1e-3)
        removed = (after == 0) & (before != 0)
        kept = after != 0
        if removed.any() and kept.any():
            assert np.abs(before[removed]).max() <= np.abs(before[kept]).min()
        assert np.array_equal(after[kept], before[kept])  # survivors unchanged


def test_prune_global_uses_one_threshold(ad):
    pruned, records = prune(ad, 0.6, scope="global")
    total = sum(r.weights for r in records)
    assert sum(r.zeros_after for r in records) == pytest.approx(0.6 * total, abs=2)
    removed = np.concatenate([np.abs(real_rows(ad, lay))[real_rows(pruned, lay) == 0] for lay in weighted_layers(ad)])
    kept = np.concatenate([np.abs(real_rows(pruned, lay))[real_rows(pruned, lay) != 0] for lay in weighted_layers(ad)])
    assert removed.max() <= kept.min()


def test_prune_channels_zeroes_whole_output_channels(kws):
    pruned, _ = prune(kws, 0.25, granularity="channel")
    for layer in weighted_layers(kws):
        rows = _codes(pruned, layer)
        dead = (rows == 0).all(axis=1)
        assert dead.sum() == round(0.25 * rows.shape[0])


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_requantize_puts_codes_on_the_n_bit_grid_and_keeps_the_bias(kws, bits):
    q, records = requantize(kws, bits)
    qmax = 2 ** (bits - 1) - 1
    for layer in weighted_layers(kws):
        codes = _codes(q, layer)
        assert np.abs(codes).max() <= qmax
        assert (np.abs(codes).max(axis=1) == qmax).all()  # each channel's peak uses the full grid
        step = channel_scales(q.tensors[layer.weight], layer.axis)
        assert np.all(np.abs(real_rows(q, layer) - real_rows(kws, layer)) <= step[:, None] / 2 + 1e-12)
        b0, b1 = kws.tensors[layer.bias], q.tensors[layer.bias]
        real0 = b0.data * np.asarray(b0.quant.scale)
        real1 = b1.data * np.asarray(b1.quant.scale)
        assert np.allclose(real0, real1, atol=np.max(b1.quant.scale))  # within one new bias step
    assert all(r.bits == bits for r in records)
    run_graph(q, random_input(q))  # the engine runs the result


def test_requantize_8_bits_barely_changes_outputs(kws):
    q, _ = requantize(kws, 8)
    f = compare(kws, q, random_inputs(kws, 4), "random")
    assert f.snr_db > 20


@pytest.mark.parametrize("bits", [2, 3, 5])
def test_share_leaves_at_most_2_to_the_bits_values_deterministically(ad, bits):
    pruned, _ = prune(ad, 0.5)
    sparse = frozenset(layer.name for layer in weighted_layers(ad))
    a, records = share(pruned, bits, sparse)
    b, _ = share(pruned, bits, sparse)
    for layer, record in zip(weighted_layers(ad), records):
        codes = _codes(a, layer)
        assert np.array_equal(codes, _codes(b, layer))
        assert set(np.unique(codes[codes != 0])) <= set(record.codebook)
        assert len(record.codebook) <= 2**bits
        assert np.array_equal(codes == 0, _codes(pruned, layer) == 0)  # zeros stay where pruning put them


def test_kmeans_matches_a_naive_lloyd():
    rng = np.random.default_rng(3)
    values = np.clip(np.round(rng.normal(0, 30, 5000)), -127, 127).astype(np.int64)
    k = 8
    c = np.linspace(values.min(), values.max(), k)
    for _ in range(100):
        assign = np.argmin(np.abs(values[:, None] - c[None, :] + 1e-9), axis=1)
        c = np.array([values[assign == j].mean() if (assign == j).any() else c[j] for j in range(k)])
    assert np.array_equal(kmeans_1d(values, k), np.unique(np.round(c).astype(np.int64)))


def test_size_report_is_measured_and_consistent(ad):
    result = compress(ad, CompressOptions(prune=0.9, bits=4, share=True, huffman=True))
    for s in result.sizes:
        assert s.original_bytes == s.weights  # int8
        assert s.original_bytes > s.pruned_bytes > s.quantized_bytes >= s.huffman_bytes * 0.9
        assert s.density == pytest.approx(0.1, abs=0.01)
        assert s.index_bits <= 4 and 1 <= s.gap_bits <= 8
        # the pruned stage: 1 byte per non-zero plus gap_bits per relative index (fillers included)
        assert s.pruned_bytes >= s.nonzeros + s.nonzeros * s.gap_bits // 8
    for enc, layer in zip(result.encoded, weighted_layers(result.graph)):
        assert np.array_equal(enc.decoded(), _codes(result.graph, layer).reshape(-1))
    t = result.total
    assert t.original_bytes == sum(s.original_bytes for s in result.sizes)
    assert t.ratio == pytest.approx(t.original_bytes / t.huffman_bytes)


def test_no_compression_is_identity(kws):
    result = compress(kws, CompressOptions())
    assert all(s.huffman_bytes == s.original_bytes == s.pruned_bytes for s in result.sizes)
    f = compare(kws, result.graph, random_inputs(kws, 3), "random")
    assert f.top1_agreement == 1.0 and f.max_abs_error == 0 and f.snr_db == float("inf")
    assert f.snr_varying_db == float("inf")


def test_dense_huffman_only_is_lossless_and_smaller_on_large_layers(ad):
    sizes, encoded = measure(ad, huffman=True)  # AD's layers are big enough to pay for a 128-byte code table
    assert sum(s.huffman_bytes for s in sizes) < sum(s.original_bytes for s in sizes)
    for enc, layer in zip(encoded, weighted_layers(ad)):
        assert np.array_equal(enc.decoded(), _codes(ad, layer).reshape(-1))


def test_graph_npz_round_trip_runs_identically(tmp_path, kws):
    compressed = compress(kws, CompressOptions(prune=0.5, bits=4, share=True)).graph
    yaml_path, npz_path = save_graph_npz(compressed, tmp_path / "k.yaml", extra={"compression": {"note": 1}})
    assert npz_path.exists()
    loaded = load_workload(yaml_path)
    x = random_input(compressed, 5)
    a, b = run_graph(compressed, x), run_graph(loaded, x)
    assert np.array_equal(a.outputs[0], b.outputs[0]) and a.total == b.total
    assert [t.quant for t in loaded.tensors] == [t.quant for t in compressed.tensors]


def test_graph_npz_mismatched_weights_is_one_error(tmp_path, kws):
    from tinysim.errors import WorkloadError

    yaml_path, _ = save_graph_npz(kws, tmp_path / "k.yaml")
    text = yaml_path.read_text().replace("shape: [64, 10, 4, 1]", "shape: [64, 10, 4, 2]", 1)
    yaml_path.write_text(text)
    with pytest.raises(WorkloadError, match="weight file holds"):
        load_graph_npz(yaml_path)


def test_ad_real_model_published_shape():
    """Deep Compression's shape on the real AD autoencoder (FC, like LeNet-300-100): ratio of the same order."""
    model = require_model("ad_autoencoder_int8.tflite")
    graph = load_workload(model)
    result = compress(graph, CompressOptions(prune=0.9, bits=4, share=True, huffman=True))
    assert 35 <= result.total.ratio_fp32 <= 60  # the paper: 40x on LeNet-300-100 (vs float32)
    assert result.total.ratio >= 10  # vs the int8 model
    windows = ad_windows(model.parent / AD_SAMPLE, graph)
    assert len(windows) == 196 and windows[0].shape == (1, 640)
    f = compare(graph, result.graph, windows, "ad sample")
    assert f.recon_mse_original == pytest.approx(10.28, rel=0.01)  # the int8 model's own reconstruction error
    assert f.recon_mse_compressed > f.recon_mse_original  # without retraining, compression costs fidelity
    assert f.snr_varying_db < 3  # at 90 % pruning the output no longer follows the input
    assert f.recon_mse_mean_predictor == pytest.approx(9.75, rel=0.01)  # the clip's own spread around its mean


def test_real_classifier_top1_is_reported():
    graph = load_workload(require_model("kws_ref_model_int8.tflite"))
    result = compress(graph, CompressOptions(bits=6))
    f = compare(graph, result.graph, random_inputs(graph, 8), "random")
    assert f.top1_agreement is not None and 0.0 <= f.top1_agreement <= 1.0


def test_cli_compress_writes_a_workload_that_run_accepts(tmp_path):
    out = tmp_path / "kws_c.yaml"
    proc = tinysim(
        "compress",
        "workloads/kws.yaml",
        "--prune",
        "0.5",
        "--bits",
        "4",
        "--share",
        "--huffman",
        "--inputs",
        "4",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert "TOTAL" in proc.stdout and " B" in proc.stdout and "top-1 agree" in proc.stdout and "dB" in proc.stdout
    assert out.exists() and out.with_suffix(".npz").exists()
    run = tinysim("run", "archs/stm32l4r5.yaml", str(out))
    assert run.returncode == 0, run.stderr


def test_cli_compress_json(tmp_path):
    proc = tinysim(
        "compress",
        "workloads/ad.yaml",
        "--prune",
        "0.8",
        "--bits",
        "5",
        "--share",
        "--huffman",
        "--inputs",
        "2",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["total"]["huffman_bytes"] < doc["total"]["original_bytes"]
    assert doc["fidelity"][0]["count"] == 2 and "snr_db" in doc["fidelity"][0]


def test_cli_compress_bad_bits_is_one_line():
    proc = tinysim("compress", "workloads/kws.yaml", "--bits", "9")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--bits" in proc.stderr


def test_hardware_effect_shrinks_footprint_and_bytes_read(ad):
    from tinysim.arch import load_arch
    from tinysim.compression.hardware import hardware_effect

    result = compress(ad, CompressOptions(prune=0.9, bits=4, share=True, huffman=True))
    h = hardware_effect(load_arch(ROOT / "archs" / "stm32l4r5.yaml"), ad, result, random_input(ad))
    t = result.total
    assert h.before.weights_bytes - h.after.weights_bytes == t.original_bytes - t.final_bytes
    assert h.weight_bytes_read_after < h.weight_bytes_read_before / 5
    assert h.after.energy_j <= h.before.energy_j and h.after.macs == h.before.macs
    assert h.zero_weight_macs_after >= 0.9 * h.after.macs * 0.9


def test_cli_compress_with_arch_prints_the_hardware_table():
    proc = tinysim(
        "compress",
        "workloads/ad.yaml",
        "--prune",
        "0.5",
        "--bits",
        "4",
        "--inputs",
        "1",
        "--arch",
        "archs/stm32l4r5.yaml",
    )
    assert proc.returncode == 0, proc.stderr
    assert "weights footprint" in proc.stdout and "energy per inference" in proc.stdout and "assumed:" in proc.stdout


def test_bias_correction_of_an_uncompressed_graph_changes_nothing(kws):
    from tinysim.compression.bias import bias_correct

    corrected, records = bias_correct(kws, kws, random_inputs(kws, 2))
    assert all(r.max_shift_lsb == 0 for r in records)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(kws.tensors, corrected.tensors) if a.is_constant)


def test_bias_correction_recovers_pruned_ad_on_held_out_windows():
    model = require_model("ad_autoencoder_int8.tflite")
    graph = load_workload(model)
    windows = ad_windows(model.parent / AD_SAMPLE, graph)
    calibrate, held_out = windows[:98], windows[98:]  # calibrate on the first half of the clip, evaluate on the rest
    plain = compress(graph, CompressOptions(prune=0.3))
    corrected = compress(graph, CompressOptions(prune=0.3, bias_correction=True), calibrate)
    assert [s.huffman_bytes for s in plain.sizes] == [s.huffman_bytes for s in corrected.sizes]  # weights unchanged
    f_plain = compare(graph, plain.graph, held_out, "held out")
    f_corr = compare(graph, corrected.graph, held_out, "held out")
    assert f_corr.recon_change < 0.5 * f_plain.recon_change


def test_prune_sensitivity_has_one_row_per_layer(ad):
    from tinysim.compression.sensitivity import prune_sensitivity

    rows = prune_sensitivity(ad, 0.5, random_inputs(ad, 2), "random")
    assert [r.layer for r in rows] == [layer.name for layer in weighted_layers(ad)]
    assert all(r.fidelity.snr_db < float("inf") for r in rows)  # every layer alone changes the output


def test_cli_sensitivity_table():
    proc = tinysim("compress", "workloads/kws.yaml", "--prune", "0.5", "--sensitivity", "--inputs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "pruning sensitivity" in proc.stdout and "layer pruned alone" in proc.stdout
