"""Structural checks every front end runs on the IR it built, so downstream code can trust shapes.

Importers produce a `Graph` from untrusted bytes or hand-written YAML; these checks make sure each
op has the operands its kind needs, in the layouts `graph.py` promises (NHWC activations, OHWI conv
weights, 1HW(C*M) depthwise weights, (out, in) fully-connected weights), with consistent shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from tinysim.errors import UnsupportedOpError, WorkloadError
from tinysim.ops import BINARY_OPS, MAC_OPS, OpKind
from tinysim.workload.graph import Graph, Op, Padding, Tensor

# The largest float32: a .tflite stores scales as float32, and the requantization multipliers (ratios of
# products of up to three scales) stay finite in float64 only when every scale is within float32's range.
FLOAT32_MAX = 3.4028234663852886e38
FLOAT32_MIN_NORMAL = 1.1754943508222875e-38  # below it a scale (or a product with it) underflows in float32


def conv_output_size(in_size: int, kernel: int, stride: int, dilation: int, padding: Padding) -> int:
    """Spatial output size of a convolution or pooling window along one axis (TFLite rules)."""
    if padding is Padding.SAME:
        return (in_size + stride - 1) // stride
    effective = (kernel - 1) * dilation + 1
    return (in_size - effective + stride) // stride


def op_label(index: int, kind_name: str, name: str) -> str:
    """`op 7 (CONV_2D 'conv1')`: how errors name an op; long converter names are shortened."""
    return f"op {index} ({kind_name} '{short_name(name)}')"


def unsupported_ops(
    ops: Iterable[tuple[str, str]], is_supported: Callable[[str], bool], supported: Sequence[str] | None = None
) -> str | None:
    """One line naming every op kind of `ops` ((kind name, layer name) in graph order) that fails
    `is_supported`, with its count and first layer, then the `supported` kinds if given; None if all pass.

    `unsupported ops: RESIZE_BILINEAR x3 (first: layer 12 'Resize'), ARG_MAX x1 (first: layer 57 'ArgMax');
    supported: CONV_2D, ...` -- the importer and the engine both refuse through this, so their answers agree.
    """
    found: dict[str, list] = {}
    for index, (kind, name) in enumerate(ops):
        if not is_supported(kind):
            found.setdefault(kind, [0, index, name])[0] += 1
    if not found:
        return None
    listed = ", ".join(
        f"{kind} x{count} (first: layer {index} '{short_name(name)}')" for kind, (count, index, name) in found.items()
    )
    return f"unsupported ops: {listed}" + (f"; supported: {', '.join(supported)}" if supported is not None else "")


def short_name(name: str) -> str:
    """`name`, cut to 48 characters for messages (converters write names of several hundred)."""
    return name if len(name) <= 48 else name[:45] + "..."


def check_graph(graph: Graph, file: str) -> None:
    """Raise `WorkloadError` naming the first op whose operands are inconsistent."""
    n = len(graph.tensors)
    if not graph.outputs or not n:  # nothing to read: not a network to run (an all-constant graph has no inputs)
        raise WorkloadError(f"the graph has no output tensor ({n} tensors, {len(graph.ops)} ops)", file=file)
    for index in (*graph.inputs, *graph.outputs):
        if not 0 <= index < n:
            raise WorkloadError(f"graph input/output tensor index {index} out of range 0..{n - 1}", file=file)
    for tensor in graph.tensors:
        scales = tensor.quant.scale if tensor.quant is not None else ()
        if not all(0.0 < s <= FLOAT32_MAX for s in scales):  # also False for NaN
            bad = next(s for s in scales if not 0.0 < s <= FLOAT32_MAX)
            raise WorkloadError(
                f"quantization scale {bad!r} of tensor '{short_name(tensor.name)}': expected a float32 > 0", file=file
            )
    for k, op in enumerate(graph.ops):
        where = op_label(k, op.kind.value, op.name)
        if not op.outputs or any(not 0 <= i < n for i in op.outputs) or any(not -1 <= i < n for i in op.inputs):
            raise WorkloadError("tensor index out of range", file=file, field=where)
        weights = op.inputs[1] if op.kind in MAC_OPS and len(op.inputs) > 1 else -1
        if weights >= 0 and not graph.tensor(weights).is_constant:
            raise UnsupportedOpError("non-constant weights are unsupported", file=file, field=where)
        problem = _problem(graph, op)
        if problem:
            raise WorkloadError(problem, file=file, field=where)
    _check_dataflow(graph, file)


def _check_dataflow(graph: Graph, file: str) -> None:
    """Ops run in file order: each reads only graph inputs, constants, state (variable) tensors and what an earlier
    op wrote, and each graph output is written (else the run would report whatever the arena held)."""
    ready = {i for i, t in enumerate(graph.tensors) if t.is_constant or t.variable} | set(graph.inputs)
    for k, op in enumerate(graph.ops):
        unready = next((i for i in op.inputs if i >= 0 and i not in ready), None)
        if unready is not None:
            name = short_name(graph.tensor(unready).name)
            raise WorkloadError(
                f"reads tensor {unready} '{name}' before any op writes it (ops must be in execution order)",
                file=file,
                field=op_label(k, op.kind.value, op.name),
            )
        ready.update(op.outputs)
    unwritten = next((i for i in graph.outputs if i not in ready), None)
    if unwritten is not None:
        name = short_name(graph.tensor(unwritten).name)
        raise WorkloadError(
            f"graph output tensor {unwritten} '{name}' is written by no op and is no graph input", file=file
        )


def _problem(graph: Graph, op: Op) -> str | None:
    """What is wrong with `op`'s operands, or None."""
    a = op.attrs
    if min(a.stride_h, a.stride_w, a.dilation_h, a.dilation_w, a.filter_h, a.filter_w) < 1:
        return "strides, dilations and pool sizes must be >= 1"
    ins = graph.op_inputs(op)
    need = 2 if op.kind in MAC_OPS or op.kind in BINARY_OPS else 1
    if len(ins) < need or any(t is None for t in ins[:need]):
        return f"expects at least {need} input(s), got {len(ins)}"
    x, out = ins[0], graph.tensor(op.outputs[0])
    assert x is not None
    if op.kind in (OpKind.CONCATENATION, OpKind.SPLIT, OpKind.SPLIT_V):
        return _concat_split_problem(graph, op)
    if op.kind is OpKind.FULLY_CONNECTED:
        return _fc_problem(x, ins[1], out) or _bias_problem(ins, out.shape[-1])
    if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D):
        return _conv_problem(op, x, ins[1], out) or _bias_problem(ins, out.shape[-1])
    if op.kind in (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D):
        if len(x.shape) != 4 or len(out.shape) != 4 or x.shape[3] != out.shape[3]:
            return f"pooling needs NHWC input and output with equal channels, got {x.shape} -> {out.shape}"
        return _spatial_problem(op, x, out, a.filter_h, a.filter_w)
    if op.kind in BINARY_OPS:
        y = ins[1]
        assert y is not None
        if _broadcast(x.shape, y.shape) != out.shape and out.size != max(x.size, y.size):
            shapes = f"{x.shape} + {y.shape} -> {out.shape}"
            return f"{op.kind.value} of shapes {shapes} that do not broadcast to the output"
        return None
    if op.kind in SAME_SIZE_OPS and x.size != out.size:
        return f"input has {x.size} elements but output has {out.size}"
    return None


# Ops whose output holds exactly as many elements as their first input (other kinds check their own
# shapes when the engine prepares them).
SAME_SIZE_OPS = frozenset({
    OpKind.RESHAPE, OpKind.SOFTMAX, OpKind.LEAKY_RELU, OpKind.RELU, OpKind.RELU6, OpKind.RELU_N1_TO_1,
    OpKind.QUANTIZE, OpKind.DEQUANTIZE, OpKind.CAST, OpKind.HARD_SWISH, OpKind.LOGISTIC, OpKind.TANH,
    OpKind.SQRT, OpKind.RSQRT, OpKind.EXP, OpKind.SQUEEZE, OpKind.EXPAND_DIMS,
})  # fmt: skip


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    """NumPy/TFLite broadcast shape of `a` and `b`, or None if they do not broadcast."""
    rank = max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    if any(p != q and 1 not in (p, q) for p, q in zip(a, b)):
        return None
    return tuple(max(p, q) if 0 not in (p, q) else 0 for p, q in zip(a, b))


def _concat_split_problem(graph: Graph, op: Op) -> str | None:
    """Parts must tile the whole along one axis: equal ranks, and the sizes along every other dim."""
    ins = [t for t in graph.op_inputs(op) if t is not None]
    outs = graph.op_outputs(op)
    if op.kind is OpKind.CONCATENATION:
        whole, parts = outs[0], ins
    else:
        if len(ins) < 2:
            return f"{op.kind.value} needs its data and axis inputs"
        data = ins[1] if op.kind is OpKind.SPLIT else ins[0]
        whole, parts = data, outs
    rank = len(whole.shape)
    if any(len(t.shape) != rank for t in parts) or sum(t.size for t in parts) != whole.size:
        shapes = ", ".join(str(t.shape) for t in parts)
        return f"{op.kind.value} parts {shapes} do not tile {whole.shape}"
    return None


def _fc_problem(x: Tensor, w: Tensor | None, out: Tensor) -> str | None:
    assert w is not None
    if len(w.shape) != 2 or w.shape[1] == 0 or x.size % w.shape[1] or out.shape[-1:] != w.shape[:1]:
        return f"(out, in) weights {w.shape} do not fit input {x.shape} -> output {out.shape}"
    if out.size != x.size // w.shape[1] * w.shape[0]:
        return f"output {out.shape} does not hold {x.size // w.shape[1]} rows of {w.shape[0]}"
    return None


def _conv_problem(op: Op, x: Tensor, w: Tensor | None, out: Tensor) -> str | None:
    assert w is not None
    if len(x.shape) != 4 or len(w.shape) != 4 or len(out.shape) != 4:
        return f"needs NHWC input/output and 4-D weights, got {x.shape}, {w.shape} -> {out.shape}"
    if op.kind is OpKind.CONV_2D and (w.shape[3] == 0 or x.shape[3] % w.shape[3] or out.shape[3] != w.shape[0]):
        return f"OHWI weights {w.shape} do not fit input {x.shape} -> output {out.shape}"
    if op.kind is OpKind.DEPTHWISE_CONV_2D and (
        w.shape[0] != 1 or out.shape[3] != w.shape[3] or x.shape[3] == 0 or w.shape[3] % x.shape[3]
    ):
        return f"1HW(C*M) weights {w.shape} do not fit input {x.shape} -> output {out.shape}"
    return _spatial_problem(op, x, out, w.shape[1], w.shape[2])


def _spatial_problem(op: Op, x: Tensor, out: Tensor, kh: int, kw: int) -> str | None:
    a = op.attrs
    want = (
        x.shape[0],
        conv_output_size(x.shape[1], kh, a.stride_h, a.dilation_h, a.padding),
        conv_output_size(x.shape[2], kw, a.stride_w, a.dilation_w, a.padding),
    )
    if min(want) < 1 or want != out.shape[:3]:
        return (
            f"a {kh}x{kw} window ({a.padding.value}, stride {a.stride_h}x{a.stride_w}) over {x.shape} "
            f"gives N,H,W {want}, but the output is {out.shape}"
        )
    return None


def _bias_problem(ins: list[Tensor | None], channels: int) -> str | None:
    b = ins[2] if len(ins) > 2 else None
    if b is not None and (not b.is_constant or b.size != channels):
        return f"bias must be a constant with {channels} values (one per output channel), got {b.shape}"
    return None
