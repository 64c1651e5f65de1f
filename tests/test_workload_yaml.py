"""Layer-list YAML: the shipped workloads agree with the real models op by op; bad files give file:line:field."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT, require_model

from tinysim.errors import WorkloadError
from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload import load_workload
from tinysim.workload.graph import Activation, DType, Graph
from tinysim.workload.layers_yaml import load_layers_yaml
from tinysim.workload.stats import graph_stats, total_stats
from tinysim.workload.tflite_import import load_tflite

WORKLOADS = REPO_ROOT / "workloads"
PAIRS = {  # yaml -> (real model, MLPerf Tiny MACs)
    "kws.yaml": ("kws_ref_model_int8.tflite", 2_656_768),
    "vww.yaml": ("vww_96_int8.tflite", 7_489_664),
    "ic.yaml": ("ic_resnet8_int8.tflite", 12_501_632),
    "ad.yaml": ("ad_autoencoder_int8.tflite", 264_192),
}


def _activations(graph: Graph, indices) -> list[tuple[int, ...]]:
    return [graph.tensor(i).shape for i in indices if i >= 0 and not graph.tensor(i).is_constant]


def _constants(graph: Graph, indices) -> list[tuple[int, ...]]:
    return [graph.tensor(i).shape for i in indices if i >= 0 and graph.tensor(i).is_constant]


@pytest.mark.parametrize("yaml_name", sorted(PAIRS))
def test_yaml_matches_real_model(yaml_name):
    model_name, macs = PAIRS[yaml_name]
    ours = load_layers_yaml(WORKLOADS / yaml_name)
    real = load_tflite(require_model(model_name))
    assert [op.kind for op in ours.ops] == [op.kind for op in real.ops]
    for a, b in zip(ours.ops, real.ops, strict=True):
        assert _activations(ours, a.inputs) == _activations(real, b.inputs), a.name
        assert _activations(ours, a.outputs) == _activations(real, b.outputs), a.name
        assert _constants(ours, a.inputs) == _constants(real, b.inputs), a.name  # weights, biases, shape vectors
        # the typed fields; `options` keeps every raw .tflite option a layer list has no need to spell out
        assert a.attrs == replace(b.attrs, options=()), a.name
    for x, y in zip(ours.inputs, real.inputs, strict=True):
        assert (ours.tensor(x).shape, ours.tensor(x).quant) == (real.tensor(y).shape, real.tensor(y).quant)
    ours_stats, real_stats = graph_stats(ours), graph_stats(real)
    assert ours_stats == real_stats  # MACs, params, weight and activation bytes, op by op
    assert total_stats(ours_stats).macs == macs


def test_fc4_audio():
    graph = load_layers_yaml(WORKLOADS / "fc4_audio.yaml")
    assert [op.kind for op in graph.ops] == [OpKind.FULLY_CONNECTED] * 4 + [OpKind.SOFTMAX]
    assert total_stats(graph_stats(graph)).macs == 640 * 256 + 256 * 256 * 2 + 256 * 12
    assert graph.tensor(graph.outputs[0]).shape == (1, 12)


@pytest.mark.parametrize("path", sorted(WORKLOADS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_workload_loads(path):
    graph = load_workload(path)
    assert graph.ops and graph.name == path.stem


def test_synthetic_graph_is_a_faithful_int8_ir():
    graph = load_layers_yaml(WORKLOADS / "ic.yaml")
    for op in graph.ops:
        ins, out = graph.op_inputs(op), graph.tensor(op.outputs[0])
        assert out.dtype is DType.INT8 and out.quant is not None and not out.is_constant
        if op.kind in MAC_OPS:
            x, w, b = ins
            assert w.dtype is DType.INT8 and b.dtype is DType.INT32 and not w.data.flags.writeable
            assert np.abs(w.data).max() == 127 and w.quant.zero_point == (0,) * len(w.quant.scale)
            axis = {OpKind.CONV_2D: 0, OpKind.DEPTHWISE_CONV_2D: 3, OpKind.FULLY_CONNECTED: 0}[op.kind]
            assert w.quant.axis == axis
            assert len(w.quant.scale) == (1 if op.kind is OpKind.FULLY_CONNECTED else w.shape[axis])
            np.testing.assert_allclose(b.quant.scale, np.array(w.quant.scale) * x.quant.scale[0])
            assert set(b.quant.zero_point) == {0}
        if op.attrs.activation is Activation.RELU:
            assert out.quant.zero_point == (-128,)
        if op.kind in (OpKind.AVERAGE_POOL_2D, OpKind.RESHAPE):
            assert out.quant == ins[0].quant
        if op.kind is OpKind.SOFTMAX:
            assert out.quant.scale == (1 / 256,) and out.quant.zero_point == (-128,)


def _dequantize(t) -> np.ndarray:
    scale, zp = np.array(t.quant.scale), np.array(t.quant.zero_point)
    if len(scale) > 1:
        scale, zp = scale.reshape(-1, 1), zp.reshape(-1, 1)  # (out, in) weights: per-row
    return (t.data.astype(np.float64) - zp) * scale


@pytest.mark.parametrize("yaml_name", ["ad.yaml", "fc4_audio.yaml"])
def test_synthetic_quantization_fits_the_activations(yaml_name):
    """A float forward pass with the dequantized weights stays inside each output's int8 range."""
    graph = load_layers_yaml(WORKLOADS / yaml_name)
    x_t = graph.tensor(graph.inputs[0])
    rng = np.random.default_rng(0)
    x = (rng.integers(-128, 128, size=(256, x_t.shape[-1])) - x_t.quant.zero_point[0]) * x_t.quant.scale[0]
    for op in graph.ops:
        if op.kind is not OpKind.FULLY_CONNECTED:
            continue
        _, w, b = graph.op_inputs(op)
        x = x @ _dequantize(w).T + b.data * np.array(b.quant.scale)
        if op.attrs.activation is Activation.RELU:
            x = np.maximum(x, 0)
        out = graph.tensor(op.outputs[0]).quant
        codes = np.round(x / out.scale[0]) + out.zero_point[0]
        assert np.mean((codes < -128) | (codes > 127)) < 0.01, op.name  # rarely clipped
        assert len(np.unique(np.clip(codes, -128, 127))) > 40, op.name  # and not squeezed into a few codes


def test_weights_are_seeded(tmp_path):
    a = load_layers_yaml(WORKLOADS / "kws.yaml")
    b = load_layers_yaml(WORKLOADS / "kws.yaml")
    text = (WORKLOADS / "kws.yaml").read_text().replace("seed: 0", "seed: 1")
    (tmp_path / "kws1.yaml").write_text(text)
    c = load_layers_yaml(tmp_path / "kws1.yaml")
    for ta, tb, tc in zip(a.tensors, b.tensors, c.tensors, strict=True):
        if ta.is_constant and ta.dtype is DType.INT8:
            np.testing.assert_array_equal(ta.data, tb.data)
            assert not np.array_equal(ta.data, tc.data)


def test_load_workload_dispatch(tmp_path):
    assert len(load_workload(require_model("kws_ref_model_int8.tflite")).ops) == 13
    yml = tmp_path / "kws.yml"
    yml.write_text((WORKLOADS / "kws.yaml").read_text())
    assert len(load_workload(yml).ops) == 13
    with pytest.raises(
        WorkloadError, match=r'model\.onnx: unsupported workload format \("\.onnx"\); supported: \.tflite'
    ):
        load_workload(tmp_path / "model.onnx")


# --- bad files: one-line errors naming file, line and field -----------------------------------------------

HEADER = """\
version: 1
name: t
input: {shape: [1, 8, 8, 3], scale: 0.5, zero_point: 0}
layers:
"""


def _error(tmp_path: Path, text: str) -> WorkloadError:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(WorkloadError) as info:
        load_layers_yaml(path)
    err = info.value
    assert "\n" not in str(err) and str(err).startswith(f"{path}:{err.line}: ")
    return err


def _layers_error(tmp_path: Path, *layers: str) -> WorkloadError:
    return _error(tmp_path, HEADER + "".join(f"  - {layer}\n" for layer in layers))


def _where(err: WorkloadError) -> tuple[int | None, str | None]:
    return err.line, err.field


def test_good_header_loads(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(HEADER + "  - {name: c, op: conv2d, filters: 4, kernel: 3}\n")
    assert load_layers_yaml(path).tensor(3).shape == (1, 6, 6, 4)


def test_unknown_top_level_key(tmp_path):
    err = _error(tmp_path, HEADER.replace("layers:", "layer:") + "  - {name: c, op: softmax}\n")
    assert _where(err) == (4, "layer") and 'did you mean "layers"' in err.message


def test_unknown_op(tmp_path):
    err = _layers_error(tmp_path, "{name: c, op: conv2d, filters: 4, kernel: 3}", "{name: d, op: conv3d}")
    assert _where(err) == (6, "layers[1].op") and "conv3d" in err.message and "depthwise_conv2d" in err.message


def test_missing_field(tmp_path):
    err = _layers_error(tmp_path, "{name: c, op: conv2d, kernel: 3}")
    assert _where(err) == (5, "layers[0].filters") and "missing" in err.message


def test_wrong_type(tmp_path):
    err = _layers_error(tmp_path, "{name: c, op: conv2d, filters: 4, kernel: big}")
    assert _where(err) == (5, "layers[0].kernel") and "'big'" in err.message


def test_kernel_bigger_than_input(tmp_path):
    err = _layers_error(tmp_path, "{name: c, op: conv2d, filters: 4, kernel: 9, padding: valid}")
    assert _where(err) == (5, "layers[0].kernel") and "does not fit the 8x8 input" in err.message


def test_unknown_input_reference(tmp_path):
    err = _layers_error(
        tmp_path, "{name: conv1, op: conv2d, filters: 4, kernel: 3}", "{name: d, op: softmax, input: conv2}"
    )
    assert _where(err) == (6, "layers[1].input") and "unknown layer 'conv2'" in err.message
    assert 'did you mean "conv1"' in err.message


def test_add_of_mismatched_shapes(tmp_path):
    err = _layers_error(
        tmp_path,
        "{name: a, op: conv2d, filters: 4, kernel: 3}",
        "{name: b, op: conv2d, filters: 4, kernel: 3, input: input, padding: same}",
        "{name: s, op: add, inputs: [a, b]}",
    )
    assert _where(err) == (7, "layers[2].inputs") and "[1, 6, 6, 4] and [1, 8, 8, 4]" in err.message


def test_reshape_to_wrong_size(tmp_path):
    err = _layers_error(tmp_path, "{name: r, op: reshape, shape: [1, 100]}")
    assert _where(err) == (5, "layers[0].shape") and "192 elements" in err.message


def test_duplicate_layer_name(tmp_path):
    err = _layers_error(tmp_path, "{name: a, op: softmax}", "{name: a, op: softmax}")
    assert _where(err) == (6, "layers[1].name") and "duplicate" in err.message


def test_key_not_valid_for_op(tmp_path):
    err = _layers_error(tmp_path, "{name: d, op: depthwise_conv2d, kernel: 3, filters: 8}")
    assert _where(err) == (5, "layers[0].filters") and 'unknown key "filters"' in err.message


def test_conv_after_flatten(tmp_path):
    err = _layers_error(
        tmp_path, "{name: f, op: reshape, shape: [1, -1]}", "{name: c, op: conv2d, filters: 4, kernel: 1}"
    )
    assert _where(err) == (6, "layers[1]") and "NHWC" in err.message


def test_unsupported_version(tmp_path):
    err = _error(tmp_path, HEADER.replace("version: 1", "version: 2") + "  - {name: s, op: softmax}\n")
    assert _where(err) == (1, "version")


def test_input_zero_point_out_of_range(tmp_path):
    err = _error(tmp_path, HEADER.replace("zero_point: 0", "zero_point: 300") + "  - {name: s, op: softmax}\n")
    assert _where(err) == (3, "input.zero_point")


def test_layers_must_be_a_nonempty_list(tmp_path):
    assert _where(_error(tmp_path, HEADER + "  {name: s}\n")) == (4, "layers")
    assert _where(_error(tmp_path, HEADER + "  []\n")) == (4, "layers")


def test_yaml_syntax_error_and_missing_file(tmp_path):
    err = _error(tmp_path, HEADER + "  - {name: s, op: softmax\n")
    assert err.line is not None and "invalid YAML" in err.message
    with pytest.raises(WorkloadError, match="file not found"):
        load_layers_yaml(tmp_path / "absent.yaml")


def test_bad_add_inputs(tmp_path):
    err = _layers_error(tmp_path, "{name: s, op: add, inputs: [input]}")
    assert _where(err) == (5, "layers[0].inputs") and "exactly 2" in err.message
