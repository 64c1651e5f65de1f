"""The .tflite importer: real MLPerf Tiny models against LiteRT, hand-built models, corrupt bytes."""

from __future__ import annotations

import random

import flatbuffers
import numpy as np
import pytest
import tflite
from conftest import require_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinysim.errors import UnsupportedOpError, WorkloadError
from tinysim.ops import OpKind
from tinysim.workload.graph import Activation, DType, Padding
from tinysim.workload.stats import estimate_events, graph_stats
from tinysim.workload.tflite_import import load_tflite, parse_tflite

INT8_MODELS = {
    "kws_ref_model_int8.tflite": ((1, 49, 10, 1), (1, 12), 13),
    "vww_96_int8.tflite": ((1, 96, 96, 3), (1, 2), 31),
    "ic_resnet8_int8.tflite": ((1, 32, 32, 3), (1, 10), 16),
    "ad_autoencoder_int8.tflite": ((1, 640), (1, 640), 10),
    "ic_resnet_large_int8.tflite": ((1, 32, 32, 3), (1, 10), 16),
}


@pytest.mark.parametrize("name", sorted(INT8_MODELS))
def test_int8_models_import(name):
    in_shape, out_shape, n_ops = INT8_MODELS[name]
    graph = load_tflite(require_model(name))
    assert len(graph.ops) == n_ops
    assert [graph.tensor(i).shape for i in graph.inputs] == [in_shape]
    assert [graph.tensor(i).shape for i in graph.outputs] == [out_shape]
    assert all(graph.tensor(i).dtype is DType.INT8 for i in (*graph.inputs, *graph.outputs))


@pytest.mark.parametrize("name", [*sorted(INT8_MODELS), "kws_ref_model_float32.tflite", "sww_ref_model.tflite"])
def test_tensors_match_litert(name):
    """Every tensor's name, shape, dtype, quantization and constant data agree with the LiteRT interpreter."""
    interpreter_mod = pytest.importorskip("ai_edge_litert.interpreter")
    path = require_model(name)
    graph = load_tflite(path)
    interpreter = interpreter_mod.Interpreter(model_path=str(path))
    details = interpreter.get_tensor_details()
    assert len(details) == len(graph.tensors)
    for d in details:
        t = graph.tensor(d["index"])
        q = d["quantization_parameters"]
        assert (t.name, t.shape, t.dtype.numpy) == (d["name"], tuple(d["shape"]), np.dtype(d["dtype"]))
        assert (t.quant.scale if t.quant else ()) == tuple(q["scales"])
        assert (t.quant.zero_point if t.quant else ()) == tuple(q["zero_points"])
        if t.quant:
            assert t.quant.axis == q["quantized_dimension"]
        if t.is_constant:
            np.testing.assert_array_equal(t.data, interpreter.get_tensor(d["index"]))
            assert not t.data.flags.writeable


def test_kws_layers_and_attrs():
    graph = load_tflite(require_model("kws_ref_model_int8.tflite"))
    kinds = [op.kind for op in graph.ops]
    assert kinds == [
        OpKind.CONV_2D,
        *[OpKind.DEPTHWISE_CONV_2D, OpKind.CONV_2D] * 4,
        OpKind.AVERAGE_POOL_2D,
        OpKind.RESHAPE,
        OpKind.FULLY_CONNECTED,
        OpKind.SOFTMAX,
    ]
    conv1 = graph.ops[0]
    a = conv1.attrs
    assert (a.padding, a.stride_h, a.stride_w, a.activation) == (Padding.SAME, 2, 2, Activation.RELU)
    _, w, b = graph.op_inputs(conv1)
    assert w.shape == (64, 10, 4, 1) and w.data.dtype == np.int8 and w.quant.per_axis and w.quant.axis == 0
    assert b.shape == (64,) and b.data.dtype == np.int32 and b.quant.zero_point == (0,) * 64
    dw = graph.op_inputs(graph.ops[1])[1]
    assert dw.shape == (1, 3, 3, 64) and dw.quant.axis == 3
    pool = graph.ops[9].attrs
    assert (pool.filter_h, pool.filter_w, pool.padding) == (25, 5, Padding.VALID)
    assert graph.ops[12].attrs.beta == 1.0 and graph.ops[11].attrs.keep_num_dims is False
    assert graph.tensor(graph.inputs[0]).quant.zero_point == (83,)


# --- hand-built models -------------------------------------------------------------------------------


def _vector(builder, start, values, prepend):
    start(builder, len(values))
    for v in reversed(values):
        prepend(v)
    return builder.EndVector()


def build_model(op_code=tflite.BuiltinOperator.FULLY_CONNECTED, *, activation=0, external_offset=None, custom=None,
                bias_scales=(0.25,), bias_axis=0, out_type=tflite.TensorType.INT8):
    """A 4 -> 3 int8 fully-connected model, then `op_code` (unary, named 'lstm_1', of type `out_type`) when
    it is not FC.

    `external_offset` stores the weights outside the flatbuffer at that file offset (the >2 GB layout);
    `bias_scales` / `bias_axis` are the bias's quantization scales and `quantized_dimension`.
    """
    b = flatbuffers.Builder(1024)
    weights = np.arange(12, dtype=np.int8).tobytes()
    bias = np.array([1, -2, 3], dtype="<i4").tobytes()

    def buffer(data=None, offset=0, size=0):
        d = _vector(b, tflite.BufferStartDataVector, list(data), b.PrependUint8) if data else None
        tflite.BufferStart(b)
        if d is not None:
            tflite.BufferAddData(b, d)
        if offset:
            tflite.BufferAddOffset(b, offset)
            tflite.BufferAddSize(b, size)
        return tflite.BufferEnd(b)

    w_buffer = buffer(offset=external_offset, size=len(weights)) if external_offset else buffer(weights)
    buffers = [buffer(), w_buffer, buffer(bias)]

    def tensor(name, shape, ttype, buf, scales=(0.5,), axis=0):
        n = b.CreateString(name)
        s = _vector(b, tflite.TensorStartShapeVector, shape, b.PrependInt32)
        sc = _vector(b, tflite.QuantizationParametersStartScaleVector, list(scales), b.PrependFloat32)
        z = _vector(b, tflite.QuantizationParametersStartZeroPointVector, [0] * len(scales), b.PrependInt64)
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, sc)
        tflite.QuantizationParametersAddZeroPoint(b, z)
        tflite.QuantizationParametersAddQuantizedDimension(b, axis)
        q = tflite.QuantizationParametersEnd(b)
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, s)
        tflite.TensorAddType(b, ttype)
        tflite.TensorAddBuffer(b, buf)
        tflite.TensorAddName(b, n)
        tflite.TensorAddQuantization(b, q)
        return tflite.TensorEnd(b)

    i8, i32 = tflite.TensorType.INT8, tflite.TensorType.INT32
    tensors = [
        tensor("x", [1, 4], i8, 0),
        tensor("w", [3, 4], i8, 1),
        tensor("b", [3], i32, 2, bias_scales, bias_axis),
        tensor("fc_out", [1, 3], i8, 0),
        tensor("lstm_1", [1, 3], out_type, 0),
    ]

    codes = [tflite.BuiltinOperator.FULLY_CONNECTED, op_code]
    opcodes = []
    for code in codes:
        c = b.CreateString(custom) if custom and code == tflite.BuiltinOperator.CUSTOM else None
        tflite.OperatorCodeStart(b)
        tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        tflite.OperatorCodeAddBuiltinCode(b, code)
        if c is not None:
            tflite.OperatorCodeAddCustomCode(b, c)
        opcodes.append(tflite.OperatorCodeEnd(b))

    def operator(opcode_index, inputs, outputs, with_options):
        ins = _vector(b, tflite.OperatorStartInputsVector, inputs, b.PrependInt32)
        outs = _vector(b, tflite.OperatorStartOutputsVector, outputs, b.PrependInt32)
        if with_options:
            tflite.FullyConnectedOptionsStart(b)
            tflite.FullyConnectedOptionsAddFusedActivationFunction(b, activation)
            opts = tflite.FullyConnectedOptionsEnd(b)
        tflite.OperatorStart(b)
        tflite.OperatorAddOpcodeIndex(b, opcode_index)
        tflite.OperatorAddInputs(b, ins)
        tflite.OperatorAddOutputs(b, outs)
        if with_options:
            tflite.OperatorAddBuiltinOptionsType(b, tflite.BuiltinOptions.FullyConnectedOptions)
            tflite.OperatorAddBuiltinOptions(b, opts)
        return tflite.OperatorEnd(b)

    ops = [operator(0, [0, 1, 2], [3], True)]
    if op_code != tflite.BuiltinOperator.FULLY_CONNECTED:
        ops.append(operator(1, [3], [4], False))
    out_index = 4 if len(ops) == 2 else 3

    def offsets(start, items):
        return _vector(b, start, items, b.PrependUOffsetTRelative)

    t_vec, o_vec = (
        offsets(tflite.SubGraphStartTensorsVector, tensors),
        offsets(tflite.SubGraphStartOperatorsVector, ops),
    )
    in_vec = _vector(b, tflite.SubGraphStartInputsVector, [0], b.PrependInt32)
    out_vec = _vector(b, tflite.SubGraphStartOutputsVector, [out_index], b.PrependInt32)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, t_vec)
    tflite.SubGraphAddInputs(b, in_vec)
    tflite.SubGraphAddOutputs(b, out_vec)
    tflite.SubGraphAddOperators(b, o_vec)
    sg = tflite.SubGraphEnd(b)
    sg_vec = offsets(tflite.ModelStartSubgraphsVector, [sg])
    code_vec = offsets(tflite.ModelStartOperatorCodesVector, opcodes)
    buf_vec = offsets(tflite.ModelStartBuffersVector, buffers)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, code_vec)
    tflite.ModelAddSubgraphs(b, sg_vec)
    tflite.ModelAddBuffers(b, buf_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    data = bytes(b.Output())
    if external_offset:
        assert len(data) <= external_offset
        data = data.ljust(external_offset, b"\0") + weights
    return data


def test_built_model_roundtrip():
    graph = parse_tflite(build_model(activation=1), file="tiny.tflite")
    (op,) = graph.ops
    assert op.kind is OpKind.FULLY_CONNECTED and op.attrs.activation is Activation.RELU
    np.testing.assert_array_equal(graph.op_inputs(op)[1].data, np.arange(12, dtype=np.int8).reshape(3, 4))
    np.testing.assert_array_equal(graph.op_inputs(op)[2].data, [1, -2, 3])


def test_buffer_stored_outside_flatbuffer():
    inline = parse_tflite(build_model(), file="a.tflite")
    external = parse_tflite(build_model(external_offset=4096), file="b.tflite")
    np.testing.assert_array_equal(inline.tensor(1).data, external.tensor(1).data)


def test_external_buffer_past_end_of_file():
    data = build_model(external_offset=4096)[:-5]
    with pytest.raises(WorkloadError, match="runs past the end of the file"):
        parse_tflite(data, file="b.tflite")


def test_unsupported_op_names_op_and_layer():
    with pytest.raises(UnsupportedOpError) as info:
        parse_tflite(build_model(tflite.BuiltinOperator.LSTM), file="model.tflite")
    message = str(info.value)
    assert message.startswith("model.tflite: unsupported ops: LSTM x1 (first: layer 1 'lstm_1'); `tinysim ops`")
    assert "\n" not in message and "QUANTIZE" not in message  # never offers an op the engine cannot run


def test_unsupported_custom_op():
    with pytest.raises(UnsupportedOpError, match=r"unsupported ops: CUSTOM:MyOp x1 \(first: layer 1 'lstm_1'\)"):
        parse_tflite(build_model(tflite.BuiltinOperator.CUSTOM, custom="MyOp"), file="m.tflite")


def test_unsupported_op_is_refused_before_an_unsupported_dtype():
    """The op is the more useful answer: a model of ops tinysim lacks often has dtypes it lacks too."""
    data = build_model(tflite.BuiltinOperator.CUMSUM, out_type=tflite.TensorType.BOOL)
    with pytest.raises(UnsupportedOpError, match="unsupported ops: CUMSUM x1"):
        parse_tflite(data, file="m.tflite")


@pytest.mark.parametrize("ttype", ["UINT32", "BOOL", "FLOAT16"])
def test_unsupported_dtype_is_named(ttype):
    data = build_model(tflite.BuiltinOperator.RESHAPE, out_type=getattr(tflite.TensorType, ttype))
    message = _one_line_error(data, file="m.tflite")
    assert f"tensor 4 'lstm_1': tensor type {ttype} is unsupported (FLOAT32, INT32, UINT8" in message
    assert "code" not in message


def test_bias_quantized_dimension_not_matching_its_rank_is_accepted():
    """Older (TOCO) converters write a per-channel bias's quantized_dimension as the weights' (3 here);
    TFLite Micro ignores it, so tinysim reads a 1-D bias as quantized along its only axis."""
    graph = parse_tflite(build_model(bias_scales=(0.1, 0.2, 0.3), bias_axis=3), file="toco.tflite")
    bias = graph.op_inputs(graph.ops[0])[2]
    assert bias.quant.per_axis and bias.quant.axis == 0 and bias.quant.scale == pytest.approx((0.1, 0.2, 0.3))


def test_per_axis_scales_that_fit_no_axis_are_refused():
    with pytest.raises(WorkloadError, match="per-axis quantization with 2 scales"):
        parse_tflite(build_model(bias_scales=(0.1, 0.2)), file="m.tflite")


def test_every_unsupported_op_of_a_real_model_is_named():
    """Against a caller that runs only DeepLab's convolutional ops, the refusal lists all three others."""
    path = require_model("corpus/coral/deeplabv3_mnv2_dm05_pascal_quant.tflite")
    runnable = ["CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "AVERAGE_POOL_2D", "CONCATENATION"]
    with pytest.raises(UnsupportedOpError) as info:
        load_tflite(path, runnable=runnable)
    message = str(info.value)
    assert "\n" not in message
    assert "unsupported ops: RESIZE_BILINEAR x3 (first: layer 64 'ResizeBilinear'), QUANTIZE x1 " in message
    assert "ARG_MAX x1 (first: layer 71 'ArgMax')" in message


def test_unsupported_fused_activation():
    with pytest.raises(UnsupportedOpError, match="fused activation TANH"):
        parse_tflite(build_model(activation=4), file="m.tflite")


# --- broken files ------------------------------------------------------------------------------------


def _one_line_error(data: bytes, file: str = "bad.tflite") -> str:
    with pytest.raises(WorkloadError) as info:
        parse_tflite(data, file=file)
    message = str(info.value)
    assert message.startswith(file + ": ") and "\n" not in message and "Traceback" not in message
    return message


def test_missing_file(tmp_path):
    with pytest.raises(WorkloadError, match=r"nope\.tflite: file not found"):
        load_tflite(tmp_path / "nope.tflite")


def test_directory_is_not_a_model(tmp_path):
    with pytest.raises(WorkloadError, match="not a regular file \\(a folder\\)"):
        load_tflite(tmp_path)


def test_empty_and_tiny_files():
    assert "too short" in _one_line_error(b"")
    assert "too short" in _one_line_error(b"TFL3")


def test_wrong_identifier():
    data = bytearray(build_model())
    data[4:8] = b"ONNX"
    assert "expected b'TFL3'" in _one_line_error(bytes(data))


def test_random_bytes():
    rng = np.random.default_rng(0)
    for _ in range(50):
        _one_line_error(rng.integers(0, 256, size=int(rng.integers(0, 4096)), dtype=np.uint8).tobytes())


def test_random_bytes_with_identifier():
    rng = np.random.default_rng(1)
    for _ in range(200):
        data = bytearray(rng.integers(0, 256, size=int(rng.integers(8, 2048)), dtype=np.uint8).tobytes())
        data[4:8] = b"TFL3"
        _one_line_error(bytes(data))


def test_truncated_real_model():
    data = require_model("kws_ref_model_int8.tflite").read_bytes()
    for length in (8, 16, 64, 1000, len(data) // 2, len(data) - 100):
        _one_line_error(data[:length], file="kws.tflite")


def _parse_or_workload_error(data: bytes) -> None:
    """Corrupt bytes either raise a one-line WorkloadError or give a graph downstream code can use."""
    try:
        graph = parse_tflite(data, file="fuzz.tflite")
    except WorkloadError as exc:
        assert "\n" not in str(exc)
        return
    graph_stats(graph)
    for op in graph.ops:
        estimate_events(graph, op)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_corrupted_real_model_only_raises_workload_error(data):
    """Flip random bytes of a real model (structure-heavy header region favoured): nothing but WorkloadError escapes."""
    blob = bytearray(require_model("kws_ref_model_int8.tflite").read_bytes())
    n_flips = data.draw(st.integers(1, 16))
    region = data.draw(st.sampled_from([len(blob), 4096, 512]))
    for _ in range(n_flips):
        blob[data.draw(st.integers(0, region - 1))] = data.draw(st.integers(0, 255))
    _parse_or_workload_error(bytes(blob))


def test_corrupted_models_many_seeds():
    """A broader sweep than hypothesis: 400 corruptions of each small model, seeded."""
    for name in ("kws_ref_model_int8.tflite", "ic_resnet8_int8.tflite"):
        base = require_model(name).read_bytes()
        rng = random.Random(name)
        for _ in range(400):
            blob = bytearray(base)
            for _ in range(rng.randint(1, 8)):
                blob[rng.randrange(min(len(blob), rng.choice([256, 2048, len(blob)])))] = rng.randrange(256)
            _parse_or_workload_error(bytes(blob))
