"""Read a `.tflite` flatbuffer into the tinysim `Graph` IR.

Uses the generated schema accessors of the `tflite` package (no TensorFlow). Only the main
subgraph is read. A `.tflite` file is untrusted input: every index and length is checked, and
anything the accessors raise on corrupt bytes becomes one `WorkloadError` naming the file.
Buffers stored outside the flatbuffer (models over 2 GB: `offset`/`size` relative to the file
start) are supported.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.errors import TinysimError, UnsupportedOpError, WorkloadError
from tinysim.ops import OpKind
from tinysim.schema.files import MAX_MODEL_BYTES, read_regular_file
from tinysim.workload.graph import Activation, DType, Graph, Op, OpAttrs, Padding, Quantization, Tensor
from tinysim.workload.validate import check_graph, op_label, unsupported_ops

_IDENTIFIER = b"TFL3"
_MAX_RANK = 8
_MAX_ELEMENTS = 1 << 40  # far above any real model; guards products of garbage dimensions

# TFLite TensorType codes (schema.fbs) for the dtypes tinysim represents.
_DTYPES = {0: DType.FLOAT32, 2: DType.INT32, 3: DType.UINT8, 4: DType.INT64, 7: DType.INT16, 9: DType.INT8}
_ACTIVATIONS = {0: Activation.NONE, 1: Activation.RELU, 2: Activation.RELU_N1_TO_1, 3: Activation.RELU6}
_ACTIVATION_NAMES = {4: "TANH", 5: "SIGN_BIT"}


def load_tflite(path: str | Path, *, runnable: Collection[str] | None = None) -> Graph:
    """Read the main subgraph of a `.tflite` file; any problem is a one-line `WorkloadError`. With `runnable`
    (the op kinds the caller can execute, e.g. the engine's), one refusal names every op outside it."""
    path = Path(path)
    data = read_regular_file(path, limit=MAX_MODEL_BYTES, error=WorkloadError)
    return parse_tflite(data, file=str(path), name=path.stem, runnable=runnable)


def parse_tflite(data: bytes, *, file: str = "<bytes>", name: str = "model",
                 runnable: Collection[str] | None = None) -> Graph:
    """Like `load_tflite` for bytes already in memory; `file` names them in errors."""
    if len(data) < 8:
        raise WorkloadError(f"not a TFLite model: {len(data)} bytes is too short for a flatbuffer", file=file)
    if data[4:8] != _IDENTIFIER:
        raise WorkloadError(f"not a TFLite model: file identifier is {bytes(data[4:8])!r}, expected b'TFL3'", file=file)
    try:
        graph = _read_graph(_Reader(bytes(data), file), name, runnable)
    except TinysimError:
        raise
    except Exception as exc:  # noqa: BLE001 -- generated accessors raise anything on corrupt bytes
        detail = (str(exc).splitlines() or [type(exc).__name__])[0][:100]
        raise WorkloadError(f"corrupt or truncated TFLite flatbuffer ({detail})", file=file) from None
    check_graph(graph, file)
    return graph


class _Reader:
    """The raw bytes, the root `tflite.Model` and the limits used to reject garbage lengths."""

    def __init__(self, data: bytes, file: str):
        import tflite  # imported lazily: ~200 generated modules

        self.tflite = tflite
        self.data = data
        self.file = file
        self.model = tflite.Model.GetRootAs(data, 0)

    def error(self, message: str, field: str | None = None) -> WorkloadError:
        return WorkloadError(message, file=self.file, field=field)

    def count(self, n: int, what: str) -> int:
        # Every element of a flatbuffer vector takes at least one byte, so a longer vector is corrupt.
        if not 0 <= n <= len(self.data):
            raise self.error(f"corrupt flatbuffer: {what} count {n} exceeds the file size")
        return n

    def ints(self, obj: Any, accessor: str) -> tuple[int, ...]:
        n = self.count(getattr(obj, accessor + "Length")(), accessor.lower())
        get = getattr(obj, accessor)
        return tuple(int(get(j)) for j in range(n))


def _read_graph(r: _Reader, name: str, runnable: Collection[str] | None) -> Graph:
    m = r.model
    if r.count(m.SubgraphsLength(), "subgraph") < 1:
        raise r.error("model has no subgraph")
    sg = m.Subgraphs(0)
    n_tensors = r.count(sg.TensorsLength(), "tensor")
    n_ops = r.count(sg.OperatorsLength(), "operator")
    named = [_op_name(r, sg, k, n_tensors) for k in range(n_ops)]
    # Refuse before reading any tensor, naming every op the IR cannot represent or (given `runnable`, which
    # the layers above pass from the engine) the caller cannot run, so one line lists them all.
    if runnable is None:
        problem = unsupported_ops(named, lambda kind: kind in OpKind.__members__)
        hint = "; `tinysim ops` lists the ops tinysim runs"
    else:
        problem = unsupported_ops(named, lambda kind: kind in OpKind.__members__ and kind in runnable, list(runnable))
        hint = ""
    if problem:
        raise UnsupportedOpError(problem + hint, file=r.file)
    tensors = tuple(_read_tensor(r, sg.Tensors(i), i) for i in range(n_tensors))
    ops = tuple(_read_op(r, sg.Operators(k), k, OpKind[kind], op_name) for k, (kind, op_name) in enumerate(named))
    for index in (*r.ints(sg, "Inputs"), *r.ints(sg, "Outputs")):
        if not 0 <= index < n_tensors:
            raise r.error(f"graph input/output tensor index {index} out of range 0..{n_tensors - 1}")
        if tensors[index].data is not None:
            raise r.error(f"graph input/output tensor {index} '{tensors[index].name[:48]}' is a constant (weights), "
                          "not an activation")
    return Graph(name, tensors, ops, r.ints(sg, "Inputs"), r.ints(sg, "Outputs"), source=r.file)


def _op_name(r: _Reader, sg: Any, k: int, n_tensors: int) -> tuple[str, str]:
    """(kind name, layer name) of operator `k`: its builtin or custom code, and its first output's name."""
    op = sg.Operators(k)
    opcode_index = int(op.OpcodeIndex())
    if not 0 <= opcode_index < r.count(r.model.OperatorCodesLength(), "operator code"):
        raise r.error(f"op {k}: operator code index {opcode_index} out of range")
    kind_name = _kind_name(r, r.model.OperatorCodes(opcode_index))
    inputs, outputs = r.ints(op, "Inputs"), r.ints(op, "Outputs")
    if not outputs or any(not -1 <= i < n_tensors for i in inputs) or any(not 0 <= i < n_tensors for i in outputs):
        raise r.error(f"op {k} ({kind_name}): tensor index out of range or no output")
    return kind_name, (sg.Tensors(outputs[0]).Name() or b"").decode("utf-8", "replace")


def _read_tensor(r: _Reader, t: Any, index: int) -> Tensor:
    name = (t.Name() or b"").decode("utf-8", "replace")
    where = f"tensor {index} '{name[:48]}'"
    dtype = _DTYPES.get(t.Type())
    if dtype is None:
        names = {code: n for n, code in vars(r.tflite.TensorType).items() if not n.startswith("_")}
        known = ", ".join(names[code] for code in _DTYPES)
        raise r.error(f"tensor type {names.get(t.Type(), f'code {t.Type()}')} is unsupported ({known} only)", where)
    shape = r.ints(t, "Shape")
    if len(shape) > _MAX_RANK or any(d < 0 for d in shape) or int(np.prod(shape, dtype=np.float64)) > _MAX_ELEMENTS:
        raise r.error(f"impossible shape {list(shape)}", where)
    if t.Sparsity() is not None:
        raise r.error("sparse tensors are unsupported", where)
    quant = _read_quant(r, t.Quantization(), shape, where)
    if quant is not None and np.issubdtype(dtype.numpy, np.integer):
        info = np.iinfo(dtype.numpy)
        bad = [z for z in quant.zero_point if not info.min <= z <= info.max]
        if bad:  # a wrapped zero point would silently shift every value
            raise r.error(f"zero point {bad[0]} out of range for {dtype.value.upper()} ({info.min}..{info.max})", where)
    raw = None if t.IsVariable() else _buffer_bytes(r, t.Buffer(), where)
    data = None
    if raw:
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if len(raw) != expected:
            raise r.error(f"constant data has {len(raw)} bytes, shape {list(shape)} needs {expected}", where)
        data = np.frombuffer(raw, dtype=dtype.numpy.newbyteorder("<")).astype(dtype.numpy).reshape(shape)
        data.setflags(write=False)
    return Tensor(name, shape, dtype, quant, data, variable=bool(t.IsVariable()))


def _read_quant(r: _Reader, q: Any, shape: tuple[int, ...], where: str) -> Quantization | None:
    if q is None or q.ScaleLength() == 0:
        return None
    scale = tuple(float(q.Scale(j)) for j in range(r.count(q.ScaleLength(), "scale")))
    zero_point = tuple(int(q.ZeroPoint(j)) for j in range(r.count(q.ZeroPointLength(), "zero point")))
    zero_point = zero_point or (0,) * len(scale)
    axis = int(q.QuantizedDimension())
    if len(shape) == 1:
        axis = 0  # a 1-D tensor (a bias) is quantized along its only axis, whatever older converters (TOCO) wrote
    if len(zero_point) != len(scale) or not all(np.isfinite(s) and s > 0 for s in scale):
        raise r.error(f"bad quantization: {len(scale)} scale(s), {len(zero_point)} zero point(s)", where)
    if len(scale) > 1 and not (0 <= axis < len(shape) and shape[axis] == len(scale)):
        raise r.error(f"per-axis quantization with {len(scale)} scales along axis {axis} of shape {list(shape)}", where)
    return Quantization(scale, zero_point, axis)


def _buffer_bytes(r: _Reader, index: int, where: str) -> bytes | None:
    if not 0 <= index < r.count(r.model.BuffersLength(), "buffer"):
        raise r.error(f"buffer index {index} out of range", where)
    buf = r.model.Buffers(index)
    offset, size = int(buf.Offset()), int(buf.Size())
    if offset > 1:  # data stored after the flatbuffer (offset 1 is the converter's "empty" placeholder)
        if offset + size > len(r.data):
            raise r.error(f"buffer {index} at offset {offset} + {size} bytes runs past the end of the file", where)
        return r.data[offset : offset + size]
    n = r.count(buf.DataLength(), "buffer byte")
    return bytes(buf.DataAsNumpy()) if n else None


def _kind_name(r: _Reader, opcode: Any) -> str:
    code = max(int(opcode.DeprecatedBuiltinCode()), int(opcode.BuiltinCode()))
    if code == r.tflite.BuiltinOperator.CUSTOM:
        custom = opcode.CustomCode()
        return f"CUSTOM:{custom.decode('utf-8', 'replace') if custom else '?'}"
    return r.tflite.BUILTIN_OPCODE2NAME.get(code, f"BUILTIN_{code}")


def _read_op(r: _Reader, op: Any, k: int, kind: OpKind, name: str) -> Op:
    label = op_label(k, kind.value, name)
    return Op(kind, name, r.ints(op, "Inputs"), r.ints(op, "Outputs"), _read_attrs(r, kind, op, label))


def _read_attrs(r: _Reader, kind: OpKind, op: Any, label: str) -> OpAttrs:
    """The op's builtin options: the fields `OpAttrs` names (absent options keep their defaults) and every
    option by its schema name in `OpAttrs.options`. The options table's type must be the op's own."""
    tfl = r.tflite
    table = op.BuiltinOptions()
    if table is None or op.BuiltinOptionsType() == 0:
        return OpAttrs()
    type_names = {code: name for name, code in vars(tfl.BuiltinOptions).items() if not name.startswith("_")}
    type_name = type_names.get(op.BuiltinOptionsType())
    cls = getattr(tfl, type_name, None) if type_name else None
    expected = _OPTIONS_OF.get(kind)
    if cls is None or (expected is not None and type_name != expected):
        raise r.error(f"options of type {op.BuiltinOptionsType()} do not belong to {kind.value}", label)
    o = cls()
    o.Init(table.Bytes, table.Pos)
    options = _all_options(o)
    fields: dict[str, Any] = {"options": tuple(sorted(options.items()))}
    if "Padding" in options:
        fields["padding"] = Padding.SAME if options["Padding"] == tfl.Padding.SAME else Padding.VALID
    if "StrideH" in options:
        fields.update(stride_h=int(o.StrideH()), stride_w=int(o.StrideW()))
    if "DilationHFactor" in options:
        fields.update(dilation_h=int(o.DilationHFactor()), dilation_w=int(o.DilationWFactor()))
    if "FilterHeight" in options:
        fields.update(filter_h=int(o.FilterHeight()), filter_w=int(o.FilterWidth()))
    if "DepthMultiplier" in options:
        fields["depth_multiplier"] = int(o.DepthMultiplier())
    if "FusedActivationFunction" in options and kind not in _GATE_ACTIVATION_OPS:
        fields["activation"] = _activation(r, int(o.FusedActivationFunction()), label)
    if "Beta" in options:
        fields["beta"] = float(o.Beta())
    if "Axis" in options and isinstance(options["Axis"], int):
        fields["axis"] = int(o.Axis())
    if "NumSplits" in options:
        fields["num_splits"] = int(o.NumSplits())
    if "Alpha" in options:
        fields["alpha"] = float(o.Alpha())
    if "KeepNumDims" in options:
        if o.WeightsFormat() != 0:
            raise UnsupportedOpError("shuffled fully-connected weights are unsupported", file=r.file, field=label)
        fields["keep_num_dims"] = bool(o.KeepNumDims())
    return OpAttrs(**fields)


# Recurrent ops whose FusedActivationFunction is a gate nonlinearity (TANH...), read from `options`.
_GATE_ACTIVATION_OPS = frozenset({OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM, OpKind.SVDF})
# The options table type of the ops whose name differs from "<Kind>Options" or is shared.
_OPTIONS_OF = {
    OpKind.CONV_2D: "Conv2DOptions",
    OpKind.DEPTHWISE_CONV_2D: "DepthwiseConv2DOptions",
    OpKind.AVERAGE_POOL_2D: "Pool2DOptions",
    OpKind.MAX_POOL_2D: "Pool2DOptions",
    OpKind.FULLY_CONNECTED: "FullyConnectedOptions",
}


def _all_options(o: Any) -> dict[str, Any]:
    """Every field of a generated options table: scalars by their getter, vectors (a getter with a
    `...Length` twin) as tuples."""
    out: dict[str, Any] = {}
    for name, is_vector in _option_fields(o):
        getter = getattr(o, name)
        if is_vector:
            out[name] = tuple(getter(j) for j in range(int(getattr(o, name + "Length")())))
            continue
        try:
            out[name] = getter()
        except TypeError:  # a getter that takes arguments but has no Length twin: not a plain field
            continue
    return out


_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {}  # per options class name


def _option_fields(o: Any) -> tuple[tuple[str, bool], ...]:
    """(getter name, is a vector) of the fields of `o`'s options class, found once per class, not per op."""
    cls = type(o)
    if cls.__name__ in _FIELDS:
        return _FIELDS[cls.__name__]
    fields = []
    for field in dir(cls):
        if field.startswith(("_", "GetRootAs")) or field == "Init" or "BufferHasIdentifier" in field:
            continue
        if field.endswith(("Length", "AsNumpy", "IsNone")) or not callable(getattr(cls, field)):
            continue
        fields.append((field, hasattr(cls, field + "Length")))
    _FIELDS[cls.__name__] = tuple(fields)
    return _FIELDS[cls.__name__]


def _activation(r: _Reader, code: int, label: str) -> Activation:
    if code in _ACTIVATIONS:
        return _ACTIVATIONS[code]
    what = _ACTIVATION_NAMES.get(code, f"code {code}")
    raise UnsupportedOpError(
        f"fused activation {what} is unsupported (NONE, RELU, RELU6, RELU_N1_TO_1)", file=r.file, field=label
    )
