"""Per-layer tables show short layer names; JSON keeps the converter's full, fused tensor names."""

from __future__ import annotations

import json

import pytest
from conftest import REPO_ROOT, require_model

from tinysim.cli.main import main
from tinysim.report.names import short_layer_name, short_layer_names
from tinysim.workload.tflite_import import load_tflite

ARCH = str(REPO_ROOT / "archs" / "stm32l4r5.yaml")

# Tensor names as the TFLite converter writes them (several copied from the MLPerf Tiny models).
REAL_NAMES = [
    (("MobilenetV2/expanded_conv_3/project/BatchNorm/FusedBatchNorm;MobilenetV2/expanded_conv_3/project/Conv2D;"
      "MobilenetV2/expanded_conv_3/project/weights_quant/FakeQuantWithMinMaxVars"), "expanded_conv_3/project"),
    (("sequential/conv2d/Relu;sequential/conv2d/BiasAdd;sequential/conv2d/Conv2D;"
      "sequential/conv2d/BiasAdd/ReadVariableOp"), "conv2d"),
    ("StatefulPartitionedCall:0", "StatefulPartitionedCall"),
    ("model/tf.nn.relu/Relu", "tf.nn.relu"),
    ("MobilenetV2/expanded_conv_3/depthwise/depthwise", "expanded_conv_3/depthwise"),
    ("MobilenetV2/expanded_conv/depthwise/Relu6", "expanded_conv/depthwise"),
    ("MobilenetV2/Logits/Conv2d_1c_1x1/BiasAdd", "Logits/Conv2d_1c_1x1"),
    (("model/activation_3/Relu;model/batch_normalization_3/FusedBatchNormV3;model/depthwise_conv2d_1/depthwise;"
      "model/depthwise_conv2d_1/BiasAdd;model/depthwise_conv2d_1/BiasAdd/ReadVariableOp/resource1"), "activation_3"),
    ("model/conv2d_5/BiasAdd;model/conv2d_5/Conv2D;model/conv2d_5/BiasAdd/ReadVariableOp/resource1", "conv2d_5"),
    ("model/depthwise_conv2d_3/depthwise21", "depthwise_conv2d_3"),  # the converter's de-duplicating digits
    ("model_4/conv2d_41/BiasAdd/ReadVariableOp", "conv2d_41"),
    ("model/add/add", "add"),  # Keras's first Add layer: the scope named after its op stays
    ("model/activation_2/Relu;model/add/add", "activation_2"),
    ("model/add_1/add", "add_1"),
    ("model/average_pooling2d/AvgPool", "average_pooling2d"),
    ("functional_1/dense/BiasAdd", "dense"),
    ("model/dense/MatMul;model/dense/BiasAdd", "dense"),
    ("Identity_int8", "Identity_int8"),
    ("Identity", "Identity"),  # nothing but a generic name: kept as it is
    ("model/Relu", "model/Relu"),  # only the scope is left: the op says more
    ("conv1", "conv1"),  # hand-written layer-list names pass through
]  # fmt: skip


@pytest.mark.parametrize(("name", "short"), REAL_NAMES)
def test_real_converter_names_shorten_to_their_layer(name, short):
    assert short_layer_name(name) == short


def test_long_names_are_cut_in_the_middle_with_an_ellipsis():
    name = "net/block_group_three_of_four/residual_unit_number_twelve/Conv2D"
    short = short_layer_name(name, max_len=24)
    assert len(short) == 24 and "…" in short
    assert short.startswith("block_") and short.endswith("number_twelve")
    assert short_layer_name("x" * 24, max_len=24) == "x" * 24


def test_names_stay_unique_within_a_table():
    names = [
        "stage1/conv/Relu", "stage2/conv/Relu",  # alike short: told apart by their whole path
        "m/x/BiasAdd", "m/x/Conv2D",  # the same path: told apart by position
        "top/m/x #2",  # shortens to what position 2 became
        "n/" + "q" * 50, "n/" + "q" * 51,  # alike only once truncated
    ]  # fmt: skip
    short = short_layer_names([*names, *(name for name, _ in REAL_NAMES)], max_len=20)
    assert short[: len(names)] == [
        "stage1/conv", "stage2/conv", "m/x #2", "m/x #3", "m/x #2 #4", "n/qqq…qqqqqqqqqqq #5", "n/qqq…qqqqqqqqqqq #6",
    ]  # fmt: skip
    assert len(set(short)) == len(short) and all(len(s) <= 20 for s in short)
    assert "functional_1/dense" in short and "model/dense" in short  # both `dense` otherwise
    with pytest.raises(ValueError, match="max_len"):
        short_layer_names(["a"], max_len=3)


@pytest.mark.parametrize("model", ["vww_96_int8.tflite", "ic_resnet8_int8.tflite", "kws_ref_model_int8.tflite",
                                   "ad_autoencoder_int8.tflite", "sww_ref_model.tflite"])  # fmt: skip
def test_mlperf_models_get_unique_short_names(model):
    names = [op.name for op in load_tflite(require_model(model)).ops]
    short = short_layer_names(names)
    assert len(set(short)) == len(short)
    assert all(len(s) <= 32 and ";" not in s and "#" not in s for s in short)


def test_run_per_layer_lines_stay_short_and_json_keeps_full_names(capsys):
    model = str(require_model("vww_96_int8.tflite"))
    assert main(["run", ARCH, model, "--per-layer"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 140
    assert any(line.split()[:2] == ["3", "activation_3"] for line in lines if line.strip())
    assert main(["run", ARCH, model, "--format", "json"]) == 0
    layers = json.loads(capsys.readouterr().out)["layers"]
    assert layers[3]["layer"].startswith("model/activation_3/Relu;model/batch_normalization_3/FusedBatchNormV3;")


def test_imc_fidelity_per_layer_table_shows_short_names(capsys):
    model = str(require_model("ad_autoencoder_int8.tflite"))
    args = ["imc-fidelity", model, "--per-layer", "--adc-bits", "6", "--weight-bits", "8", "--inputs", "1"]
    assert main(args) == 0
    table = capsys.readouterr().out.split("the others exact:", 1)[1].splitlines()
    assert max(len(line) for line in table) <= 140
    assert any(line.split()[:3] == ["1", "activation_1", "FULLY_CONNECTED"] for line in table if line.strip())
    assert main([*args, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["per_layer"]
    assert rows[1]["layer"] == "functional_1/activation_1/Relu;functional_1/dense_1/BiasAdd"
