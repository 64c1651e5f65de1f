"""Build single-op `.tflite` models in memory with the flatbuffer builder of the `tflite` schema package.

No TensorFlow: a model is a list of `TensorSpec`, one operator (builtin code, inputs, outputs and
its builtin options by schema name) and the graph inputs/outputs. Constant tensors carry `data`.

    single_op_model(
        tflite.BuiltinOperator.SOFTMAX,
        [TensorSpec("x", (1, 8), scale=(0.1,), zero_point=(3,)), TensorSpec("y", (1, 8), scale=(1 / 256,), ...)],
        inputs=(0,), outputs=(1,), options=Options("SoftmaxOptions", {"Beta": 1.0}),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
import tflite

INT8, INT32, UINT8 = tflite.TensorType.INT8, tflite.TensorType.INT32, tflite.TensorType.UINT8
INT16, INT64, FLOAT32, BOOL = tflite.TensorType.INT16, tflite.TensorType.INT64, tflite.TensorType.FLOAT32, tflite.TensorType.BOOL
_NUMPY = {INT8: np.dtype("<i1"), INT32: np.dtype("<i4"), UINT8: np.dtype("u1"), INT16: np.dtype("<i2"),
          INT64: np.dtype("<i8"), FLOAT32: np.dtype("<f4"), BOOL: np.dtype("?")}


@dataclass(frozen=True)
class TensorSpec:
    """One tensor: shape, type code, quantization (per-channel when several scales) and constant data."""

    name: str
    shape: tuple[int, ...]
    dtype: int = INT8
    scale: tuple[float, ...] = ()
    zero_point: tuple[int, ...] = ()
    axis: int = 0
    data: np.ndarray | None = None
    variable: bool = False  # state kept across invocations (LSTM/SVDF state tensors)


@dataclass(frozen=True)
class Options:
    """Builtin options by schema table name, e.g. `Options("Conv2DOptions", {"StrideH": 2})`.

    Vector fields (`ReshapeOptions.NewShape`) take a sequence of int32."""

    table: str
    fields: dict[str, Any] = field(default_factory=dict)


def _vector(b: flatbuffers.Builder, start: Callable, values: Sequence, prepend: Callable) -> int:
    start(b, len(values))
    for v in reversed(values):
        prepend(v)
    return b.EndVector()


def _buffer(b: flatbuffers.Builder, data: bytes | None) -> int:
    vec = _vector(b, tflite.BufferStartDataVector, list(data), b.PrependUint8) if data else None
    tflite.BufferStart(b)
    if vec is not None:
        tflite.BufferAddData(b, vec)
    return tflite.BufferEnd(b)


def _tensor(b: flatbuffers.Builder, t: TensorSpec, buffer: int) -> int:
    name = b.CreateString(t.name)
    shape = _vector(b, tflite.TensorStartShapeVector, list(t.shape), b.PrependInt32)
    quant = None
    if t.scale:
        sc = _vector(b, tflite.QuantizationParametersStartScaleVector, list(t.scale), b.PrependFloat32)
        zps = t.zero_point or (0,) * len(t.scale)
        zp = _vector(b, tflite.QuantizationParametersStartZeroPointVector, list(zps), b.PrependInt64)
        tflite.QuantizationParametersStart(b)
        tflite.QuantizationParametersAddScale(b, sc)
        tflite.QuantizationParametersAddZeroPoint(b, zp)
        tflite.QuantizationParametersAddQuantizedDimension(b, t.axis)
        quant = tflite.QuantizationParametersEnd(b)
    tflite.TensorStart(b)
    tflite.TensorAddShape(b, shape)
    tflite.TensorAddType(b, t.dtype)
    tflite.TensorAddBuffer(b, buffer)
    tflite.TensorAddName(b, name)
    if t.variable:
        tflite.TensorAddIsVariable(b, True)
    if quant is not None:
        tflite.TensorAddQuantization(b, quant)
    return tflite.TensorEnd(b)


def _options(b: flatbuffers.Builder, o: Options) -> int:
    vectors = {
        k: _vector(b, getattr(tflite, f"{o.table}Start{k}Vector"), list(v), b.PrependInt32)
        for k, v in o.fields.items()
        if isinstance(v, (list, tuple))
    }
    getattr(tflite, f"{o.table}Start")(b)
    for k, v in o.fields.items():
        getattr(tflite, f"{o.table}Add{k}")(b, vectors.get(k, v))
    return getattr(tflite, f"{o.table}End")(b)


def single_op_model(
    op_code: int,
    tensors: Sequence[TensorSpec],
    *,
    op_inputs: Sequence[int],
    op_outputs: Sequence[int],
    options: Options | None = None,
    intermediates: Sequence[int] = (),
) -> bytes:
    """A one-subgraph, one-operator model; graph inputs are the op's non-constant, non-variable inputs.
    `intermediates`: tensors the op lists as intermediates (TFLite's integer LSTM reads their scales)."""
    b = flatbuffers.Builder(4096)
    buffers = [_buffer(b, None)]  # buffer 0: the empty buffer of every activation tensor
    tensor_offsets = []
    for t in tensors:
        index = 0
        if t.data is not None:
            buffers.append(_buffer(b, np.ascontiguousarray(t.data, dtype=_NUMPY[t.dtype]).tobytes()))
            index = len(buffers) - 1
        tensor_offsets.append(_tensor(b, t, index))
    opts = _options(b, options) if options else None
    tflite.OperatorCodeStart(b)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(op_code, 127))
    tflite.OperatorCodeAddBuiltinCode(b, op_code)
    tflite.OperatorCodeAddVersion(b, 1)
    code = tflite.OperatorCodeEnd(b)
    ins = _vector(b, tflite.OperatorStartInputsVector, list(op_inputs), b.PrependInt32)
    outs = _vector(b, tflite.OperatorStartOutputsVector, list(op_outputs), b.PrependInt32)
    mids = _vector(b, tflite.OperatorStartIntermediatesVector, list(intermediates), b.PrependInt32)
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, 0)
    tflite.OperatorAddInputs(b, ins)
    tflite.OperatorAddOutputs(b, outs)
    if intermediates:
        tflite.OperatorAddIntermediates(b, mids)
    if opts is not None:
        tflite.OperatorAddBuiltinOptionsType(b, getattr(tflite.BuiltinOptions, options.table))
        tflite.OperatorAddBuiltinOptions(b, opts)
    operator = tflite.OperatorEnd(b)

    def offsets(start: Callable, items: Sequence[int]) -> int:
        return _vector(b, start, items, b.PrependUOffsetTRelative)

    graph_inputs = [i for i in op_inputs if i >= 0 and tensors[i].data is None and not tensors[i].variable]
    t_vec = offsets(tflite.SubGraphStartTensorsVector, tensor_offsets)
    o_vec = offsets(tflite.SubGraphStartOperatorsVector, [operator])
    in_vec = _vector(b, tflite.SubGraphStartInputsVector, graph_inputs, b.PrependInt32)
    out_vec = _vector(b, tflite.SubGraphStartOutputsVector, list(op_outputs), b.PrependInt32)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, t_vec)
    tflite.SubGraphAddInputs(b, in_vec)
    tflite.SubGraphAddOutputs(b, out_vec)
    tflite.SubGraphAddOperators(b, o_vec)
    subgraph = tflite.SubGraphEnd(b)
    sg_vec = offsets(tflite.ModelStartSubgraphsVector, [subgraph])
    code_vec = offsets(tflite.ModelStartOperatorCodesVector, [code])
    buf_vec = offsets(tflite.ModelStartBuffersVector, buffers)
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, code_vec)
    tflite.ModelAddSubgraphs(b, sg_vec)
    tflite.ModelAddBuffers(b, buf_vec)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())
