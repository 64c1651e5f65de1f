"""Run a Graph's quantized (int8, int16x8, legacy uint8) and float numerics: prepare once (TFLM's Prepare), then one Numba call per run.

Semantics. Two reference runtimes compute the four MLPerf Tiny models slightly differently,
so `semantics` picks which one tinysim reproduces bit for bit:
- "litert" (default): LiteRT's builtin kernels without delegates (ai-edge-litert,
  BUILTIN_WITHOUT_DEFAULT_DELEGATES) on x86. Its CONV_2D and FULLY_CONNECTED run through
  ruy, whose output stage rounds negative ties toward +inf; its int8 SOFTMAX uses a float
  exp table. Everything else is TFLite's reference integer arithmetic.
- "tflm": TFLite Micro's reference kernels, what a microcontroller runs: TFLite's
  double-rounding MultiplyByQuantizedMultiplier everywhere and gemmlowp's fixed-point softmax.
The two differ only on negative ties after a conv/FC without ReLU (IC's residual branches,
AD's last layer) and rarely in softmax; tests/test_engine_models.py records the bound.

Activations live in one byte buffer laid out by `plan_arena`, as on the device (kernels view their
operands' bytes as int8, int16, int32 or float32); after the planned head come the state of stateful
ops (variable tensors, kept across invocations as TFLM's persistent allocations) and the constant
operands of ops that take data from a constant (PAD's values, a constant addend, ...).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from tinysim.engine.arena import ArenaPlan, plan_arena
from tinysim.engine.ops import (
    add,
    arg_minmax,
    batch_matmul,
    cast,
    concat_split,
    conv,
    depthwise,
    float_binary,
    float_unary,
    fully_connected,
    gather,
    hard_swish,
    leaky_relu,
    logistic_tanh,
    lstm,
    minmax,
    mul,
    pack,
    pad,
    pooling,
    prelu,
    quantize,
    reduce,
    relu,
    reshape,
    resize,
    slicing,
    softmax,
    squared_difference,
    strided_copy,
    sub,
    svdf,
    transpose,
    transpose_conv,
)
from tinysim.engine.program import ALIGN, OpKernel, PrepareContext
from tinysim.engine.uint8 import int8_view, legacy_tensors, to_int8, to_uint8
from tinysim.errors import UnsupportedOpError, WorkloadError
from tinysim.events import Events
from tinysim.ops import SCHEMES, OpKind
from tinysim.workload.graph import DType, Graph, Tensor
from tinysim.workload.validate import unsupported_ops

SEMANTICS = ("litert", "tflm")

_U8 = ("int8", "uint8")  # schemes (tinysim.ops.SCHEMES) of ops that also run legacy uint8
_BINARY = ("int8", "uint8", "int16x8", "float32")  # the elementwise binary ops (also int32)

# The one table of supported ops; an op's code is its position here. Each group of ops is registered
# below its own marker line (kept so that parallel work adds lines without touching the others').
KERNELS: dict[OpKind, OpKernel] = {
    OpKind.CONV_2D: OpKernel(conv.prepare, conv.evaluate, (*_U8, "int16x8")),
    OpKind.DEPTHWISE_CONV_2D: OpKernel(depthwise.prepare, depthwise.evaluate, (*_U8, "int16x8")),
    OpKind.FULLY_CONNECTED: OpKernel(fully_connected.prepare, fully_connected.evaluate, (*_U8, "int16x8")),
    OpKind.AVERAGE_POOL_2D: OpKernel(pooling.prepare, pooling.evaluate, _U8),
    OpKind.MAX_POOL_2D: OpKernel(pooling.prepare, pooling.evaluate, _U8),
    OpKind.ADD: OpKernel(add.prepare, add.evaluate, _BINARY),
    OpKind.RESHAPE: OpKernel(reshape.prepare, reshape.evaluate, strided_copy.SCHEMES),
    OpKind.SOFTMAX: OpKernel(softmax.prepare, softmax.evaluate, (*_U8, "int16x8")),
    OpKind.SUB: OpKernel(sub.prepare, sub.evaluate, _BINARY),
    OpKind.MUL: OpKernel(mul.prepare, mul.evaluate, _BINARY),
    OpKind.LEAKY_RELU: OpKernel(leaky_relu.prepare, leaky_relu.evaluate, (*_U8, "int16x8")),
    OpKind.MAXIMUM: OpKernel(minmax.prepare, minmax.evaluate, _BINARY),
    OpKind.MINIMUM: OpKernel(minmax.prepare, minmax.evaluate, _BINARY),
    OpKind.RELU: OpKernel(relu.prepare, relu.evaluate, _U8),
    OpKind.RELU6: OpKernel(relu.prepare, relu.evaluate, _U8),
    OpKind.CONCATENATION: OpKernel(concat_split.prepare, concat_split.evaluate, strided_copy.SCHEMES),
    OpKind.SPLIT: OpKernel(concat_split.prepare, concat_split.evaluate, strided_copy.SCHEMES),
    OpKind.SPLIT_V: OpKernel(concat_split.prepare, concat_split.evaluate, strided_copy.SCHEMES),
    # -- group: MAC ops (int16x8, transpose conv, batch matmul) --
    OpKind.TRANSPOSE_CONV: OpKernel(transpose_conv.prepare, transpose_conv.evaluate, ("int8", "int16x8")),
    OpKind.BATCH_MATMUL: OpKernel(batch_matmul.prepare, batch_matmul.evaluate),
    # -- group: elementwise binary ops --
    OpKind.SQUARED_DIFFERENCE: OpKernel(squared_difference.prepare, squared_difference.evaluate),
    OpKind.PRELU: OpKernel(prelu.prepare, prelu.evaluate, _U8),
    OpKind.DIV: OpKernel(float_binary.prepare, float_binary.evaluate, ("float32",)),
    OpKind.FLOOR_DIV: OpKernel(float_binary.prepare, float_binary.evaluate, ("float32",)),
    # -- group: unary ops, quantize, float math --
    OpKind.QUANTIZE: OpKernel(quantize.prepare, quantize.evaluate, (*_U8, "int16x8", "float32")),
    OpKind.DEQUANTIZE: OpKernel(quantize.prepare, quantize.evaluate, (*_U8, "int16x8", "float32")),
    OpKind.CAST: OpKernel(cast.prepare, cast.evaluate, (*_U8, "int16x8", "float32")),
    OpKind.LOGISTIC: OpKernel(logistic_tanh.prepare, logistic_tanh.evaluate, (*_U8, "int16x8")),
    OpKind.TANH: OpKernel(logistic_tanh.prepare, logistic_tanh.evaluate, (*_U8, "int16x8")),
    OpKind.RELU_N1_TO_1: OpKernel(relu.prepare, relu.evaluate, _U8),
    OpKind.HARD_SWISH: OpKernel(hard_swish.prepare, hard_swish.evaluate, _U8),
    OpKind.SQRT: OpKernel(float_unary.prepare, float_unary.evaluate, ("float32",)),
    OpKind.RSQRT: OpKernel(float_unary.prepare, float_unary.evaluate, ("float32",)),
    OpKind.EXP: OpKernel(float_unary.prepare, float_unary.evaluate, ("float32",)),
    # -- group: data movement and reductions --
    OpKind.PAD: OpKernel(pad.prepare, pad.evaluate, strided_copy.SCHEMES),
    OpKind.PADV2: OpKernel(pad.prepare, pad.evaluate, strided_copy.SCHEMES),
    OpKind.STRIDED_SLICE: OpKernel(slicing.prepare, slicing.evaluate, strided_copy.SCHEMES),
    OpKind.SLICE: OpKernel(slicing.prepare, slicing.evaluate, strided_copy.SCHEMES),
    OpKind.TRANSPOSE: OpKernel(transpose.prepare, transpose.evaluate, strided_copy.SCHEMES),
    OpKind.PACK: OpKernel(pack.prepare, pack.evaluate, strided_copy.SCHEMES),
    OpKind.UNPACK: OpKernel(pack.prepare, pack.evaluate, strided_copy.SCHEMES),
    OpKind.GATHER: OpKernel(gather.prepare, gather.evaluate, strided_copy.SCHEMES),
    OpKind.GATHER_ND: OpKernel(gather.prepare, gather.evaluate, strided_copy.SCHEMES),
    OpKind.SQUEEZE: OpKernel(reshape.prepare, reshape.evaluate, strided_copy.SCHEMES),
    OpKind.EXPAND_DIMS: OpKernel(reshape.prepare, reshape.evaluate, strided_copy.SCHEMES),
    OpKind.RESIZE_BILINEAR: OpKernel(resize.prepare, resize.evaluate, SCHEMES),
    OpKind.RESIZE_NEAREST_NEIGHBOR: OpKernel(resize.prepare, resize.evaluate, SCHEMES),
    # int16 MEAN/SUM and uint8 SUM: LiteRT's rounding there is not reproduced yet (refused in prepare);
    # LiteRT has no int16 ARG_MAX/ARG_MIN
    OpKind.MEAN: OpKernel(reduce.prepare, reduce.evaluate, ("int8", "uint8", "float32")),
    OpKind.SUM: OpKernel(reduce.prepare, reduce.evaluate, ("int8", "float32")),
    OpKind.ARG_MAX: OpKernel(arg_minmax.prepare, arg_minmax.evaluate, ("int8", "uint8", "float32")),
    OpKind.ARG_MIN: OpKernel(arg_minmax.prepare, arg_minmax.evaluate, ("int8", "uint8", "float32")),
    # -- group: recurrent ops --
    OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM: OpKernel(lstm.prepare, lstm.evaluate),
    OpKind.SVDF: OpKernel(svdf.prepare, svdf.evaluate),
}


def op_schemes(kind: OpKind) -> tuple[str, ...]:
    """The schemes of SCHEMES that `prepare` runs op `kind` in."""
    return KERNELS[kind].schemes if kind in KERNELS else ()


_CODES = {kind: code for code, kind in enumerate(KERNELS)}
_SCHEMES = {kind: k.schemes for kind, k in KERNELS.items()}  # for refusals that name them
# One Numba call per op: a kernel compiles the first time a graph uses it (a model pays only for its
# own ops), and a kernel that fails to compile breaks only the models that use it.
_EVALUATE = tuple(k.evaluate for k in KERNELS.values())


def _execute(prep: Prepared, first: int, stop: int, arena, s16, s32, count: bool, counted) -> None:
    """Evaluate ops first..stop-1 in order; counted[k] = (zero-operand MACs, output zeros) of op k."""
    i16, i32, f32, kernels, rows = prep.i16, prep.i32, prep.f32, prep.kernels, prep.rows
    # one assignment of all pairs: numpy's per-row tuple assignment costs more than a small kernel's call
    counted[first:stop] = [kernels[k](rows[k], arena, i16, i32, f32, s16, s32, count) for k in range(first, stop)]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A graph ready to run: arena plan, packed parameters and constants, static event counts."""

    graph: Graph
    semantics: str
    arena: ArenaPlan
    codes: np.ndarray  # (ops,) int64: each op's position in KERNELS
    params: np.ndarray  # (ops, widest row) int64: each op's row, laid out by its module's `Row`
    buffer_bytes: int  # the engine's buffer: arena head, then state (variable tensors), then constant operands
    i16: np.ndarray  # weights, widened once for the multiply
    i32: np.ndarray  # folded biases, multipliers, shifts, zero-weight counts
    f32: np.ndarray  # softmax exp tables
    scratch16: int  # int16 scratch elements per inference (im2col patch)
    scratch32: int  # int32 scratch elements per inference (accumulators)
    static_events: tuple[Events, ...]
    inputs: tuple[tuple[int, int, tuple[int, ...], str], ...] = ()  # per graph input: offset, size, shape, name
    outputs: tuple[tuple[int, int, tuple[int, ...]], ...] = ()  # per graph output: offset, size, shape
    dtypes: tuple[tuple[np.dtype, ...], tuple[np.dtype, ...]] = ((), ())  # of the graph's inputs, outputs
    legacy_io: tuple[tuple[bool, ...], tuple[bool, ...]] = ((), ())  # which inputs, outputs are legacy uint8
    state: tuple[tuple[int, np.ndarray], ...] = ()  # per variable tensor: offset, initial bytes
    constants: tuple[tuple[int, np.ndarray], ...] = ()  # per constant operand: offset, bytes
    # idle (arena, s16, s32) buffers: a run takes one (or allocates) and returns it; results never
    # alias them (outputs are copied), and every kernel writes arena and scratch before reading
    spare: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    def buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fresh (arena, int16 scratch, int32 scratch) for one inference: activations uninitialised, state at
        its initial value, constant operands in place (no kernel writes there)."""
        arena = np.empty(max(self.buffer_bytes, 1), np.int8)
        for offset, data in (*self.state, *self.constants):
            arena[offset : offset + data.size] = data
        return arena, np.empty(self.scratch16, np.int16), np.empty(self.scratch32, np.int32)

    @cached_property
    def kernels(self) -> tuple:
        return tuple(_EVALUATE[c] for c in self.codes.tolist())

    @cached_property
    def rows(self) -> tuple[np.ndarray, ...]:
        return tuple(self.params)


def runnable_ops() -> tuple[str, ...]:
    """The op kinds the engine executes (KERNELS), by name."""
    return tuple(kind.value for kind in KERNELS)


def prepare(graph: Graph, semantics: str = "litert") -> Prepared:
    """Validate every op and precompute its parameters; UnsupportedOpError names op and layer."""
    if semantics not in SEMANTICS:
        raise ValueError(f"semantics must be one of {SEMANTICS}, got {semantics!r}")
    names = list(runnable_ops())
    problem = unsupported_ops(((op.kind.value, op.name) for op in graph.ops), names.__contains__, names)
    if problem:
        raise UnsupportedOpError(problem, file=graph.source or None)
    legacy = legacy_tensors(graph)
    if legacy and semantics != "litert":  # TFLite Micro has dropped its uint8 kernels
        raise UnsupportedOpError(f"{graph.name}: uint8 models run under semantics='litert' only",
                                 file=graph.source or None)  # fmt: skip
    for k, op in enumerate(graph.ops):
        if "uint8" not in KERNELS[op.kind].schemes and legacy.intersection(op.inputs + op.outputs):
            raise UnsupportedOpError(
                f"{op.kind.value} (layer {k} '{op.name}'): uint8 is not supported for this op (int8 only)",
                file=graph.source or None,
            )
    arena = plan_arena(graph)
    view = int8_view(graph)
    offsets = dict(arena.offsets)
    end = arena.peak_bytes
    state = []
    for t, tensor in enumerate(view.tensors):
        if tensor.variable:  # TFLM allocates state outside the planned head, so it survives every op
            end = -(-end // ALIGN) * ALIGN
            offsets[t] = end
            state.append((end, _initial_state(tensor)))
            end += tensor.nbytes
    ctx = PrepareContext(view, offsets, semantics, legacy, end=end, schemes=_SCHEMES)
    plans = [KERNELS[op.kind].prepare(ctx, op) for op in ctx.graph.ops]
    params = np.zeros((len(plans), max([p.params.size for p in plans] + [1])), np.int64)
    for k, p in enumerate(plans):
        params[k, : p.params.size] = p.params
    constants = tuple((at, np.ascontiguousarray(view.tensors[t].constant()).view(np.int8).ravel())
                      for t, at in ctx.constants.items())  # fmt: skip
    ins, outs = [graph.tensors[t] for t in graph.inputs], [graph.tensors[t] for t in graph.outputs]
    return Prepared(
        graph=graph,
        semantics=semantics,
        arena=arena,
        codes=np.array([_CODES[op.kind] for op in graph.ops], np.int64),
        params=params,
        buffer_bytes=ctx.end,
        i16=ctx.i16.array(),
        i32=ctx.i32.array(),
        f32=ctx.f32.array(),
        scratch16=max([p.scratch16 for p in plans] + [16]),
        scratch32=max([p.scratch32 for p in plans] + [16]),
        static_events=tuple(p.events for p in plans),
        inputs=tuple((offsets[t], graph.tensors[t].size, tuple(graph.tensors[t].shape), graph.tensors[t].name)
                     for t in graph.inputs),
        outputs=tuple((offsets[t], graph.tensors[t].size, tuple(graph.tensors[t].shape)) for t in graph.outputs),
        dtypes=(tuple(t.dtype.numpy for t in ins), tuple(t.dtype.numpy for t in outs)),
        legacy_io=(tuple(t in legacy for t in graph.inputs), tuple(t in legacy for t in graph.outputs)),
        state=tuple(state),
        constants=constants,
    )


def _initial_state(t: Tensor) -> np.ndarray:
    """A variable tensor's bytes after TFLite's ResetVariableTensors: int8 at its zero point, else 0."""
    fill = t.quant.zero_point[0] if t.dtype is DType.INT8 and t.quant is not None else 0
    return np.full(t.size, fill, t.dtype.numpy).view(np.int8)


@dataclass(frozen=True, eq=False)
class RunResult:
    """Outputs of one inference and, if counted, the Events of each op (graph.ops order)."""

    outputs: list[np.ndarray]
    static_events: tuple[Events, ...]
    counted: np.ndarray | None  # (ops, 2): zero-operand MACs, output zeros
    state: list[np.ndarray] = field(default_factory=list)  # variable tensors' bytes after the inference

    @cached_property
    def events(self) -> tuple[Events, ...]:
        if self.counted is None:
            return ()
        return tuple(_with_counts(e, int(z), int(o)) for e, (z, o) in zip(self.static_events, self.counted.tolist()))

    @property
    def total(self) -> Events:
        return sum(self.events, Events())


def _with_counts(e: Events, zero_macs: int, output_zeros: int) -> Events:
    values = {f.name: getattr(e, f.name) for f in fields(e)}
    values.update(zero_macs=zero_macs, output_zeros=output_zeros)
    return Events(**values)


_CACHE: weakref.WeakKeyDictionary[Graph, dict[str, Prepared]] = weakref.WeakKeyDictionary()


def prepared(graph: Graph | Prepared, semantics: str = "litert") -> Prepared:
    """`prepare(graph)`, memoised per graph object (a Prepared passes through)."""
    if isinstance(graph, Prepared):
        return graph
    per_graph = _CACHE.setdefault(graph, {})
    if semantics not in per_graph:
        per_graph[semantics] = prepare(graph, semantics)
    return per_graph[semantics]


def run_graph(
    graph: Graph | Prepared,
    inputs: list[np.ndarray] | np.ndarray,
    *,
    count_events: bool = True,
    semantics: str = "litert",
    state: list[np.ndarray] | None = None,
) -> RunResult:
    """One inference on `inputs` (one array per graph input, dtypes and shapes as the graph's). A stateful
    graph (LSTM, SVDF) starts from `state` (a previous RunResult.state) or, if None, from TFLite's reset
    values; RunResult.state holds the state after this inference."""
    prep = graph if type(graph) is Prepared else prepared(graph, semantics)
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(arrays) != len(prep.inputs):
        raise WorkloadError(f"{prep.graph.name}: expected {len(prep.inputs)} input(s), got {len(arrays)}")
    if state is not None and len(state) != len(prep.state):
        raise WorkloadError(f"{prep.graph.name}: expected {len(prep.state)} state array(s), got {len(state)}")
    try:
        arena, s16, s32 = prep.spare.pop()  # list.pop is atomic: concurrent runs never share buffers
    except IndexError:
        arena, s16, s32 = prep.buffers()
    for (off, size, shape, name), dtype, legacy, a in zip(prep.inputs, prep.dtypes[0], prep.legacy_io[0], arrays):
        if a.dtype != dtype or a.size != size:
            raise WorkloadError(
                f"{prep.graph.name}: input '{name}' must be {dtype} of shape {shape}, got {a.dtype} {a.shape}"
            )
        flat = to_int8(a.reshape(-1)) if legacy else np.ascontiguousarray(a).reshape(-1)
        arena[off : off + flat.nbytes] = flat.view(np.int8)
    for (off, initial), values in zip(prep.state, state if state is not None else [None] * len(prep.state)):
        arena[off : off + initial.size] = initial if values is None else np.ascontiguousarray(values).view(np.int8).ravel()
    counted = np.zeros((len(prep.codes), 2), np.int64)
    _execute(prep, 0, len(prep.codes), arena, s16, s32, count_events, counted)
    outputs = []
    for (off, size, shape), dtype, legacy in zip(prep.outputs, prep.dtypes[1], prep.legacy_io[1]):
        raw = arena[off : off + size * dtype.itemsize]
        outputs.append((to_uint8(raw) if legacy else raw.view(dtype).copy()).reshape(shape))
    final_state = [arena[off : off + initial.size].copy() for off, initial in prep.state]
    prep.spare.append((arena, s16, s32))
    return RunResult(outputs, prep.static_events, counted if count_events else None, final_state)


def execute_op(
    prep: Prepared, k: int, arena: np.ndarray, s16: np.ndarray, s32: np.ndarray, count: bool = True
) -> tuple[int, int]:
    """Evaluate op `k` of `prep` alone, in place on `arena` (laid out by `prep.arena`), with scratch
    s16, s32 as `prep.buffers()` makes them: for callers that run some ops their own way (imc_run).
    Returns (zero-operand MACs, outputs equal to the output zero point); (0, 0) when not counting."""
    counted = np.zeros((len(prep.codes), 2), np.int64)
    _execute(prep, k, k + 1, arena, s16, s32, count, counted)
    return int(counted[k, 0]), int(counted[k, 1])


# Inputs that carry the shape of an op's output (TRANSPOSE_CONV's output_shape, RESHAPE's new shape): a
# model may feed them as graph inputs, and random values there are not a valid model input.
SHAPE_OPERANDS = {OpKind.TRANSPOSE_CONV: 0, OpKind.RESHAPE: 1}


def random_input(graph: Graph, seed: int = 0) -> list[np.ndarray]:
    """Inputs for every graph input, reproducible from `seed`: integers uniform over their dtype's range
    (int32/int64: -128..127), float32 uniform in [-1, 1); a shape operand (SHAPE_OPERANDS) holds the shape
    of its op's output."""
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.inputs:
        tensor = graph.tensors[t]
        dtype = tensor.dtype.numpy
        shape = _shape_fed_by(graph, t)
        if shape is not None and dtype.kind == "i" and len(shape) == tensor.size:
            out.append(np.array(shape, dtype).reshape(tensor.shape))
        elif dtype.kind == "f":
            out.append(rng.uniform(-1.0, 1.0, size=tensor.shape).astype(dtype))
        else:
            info = np.iinfo(dtype) if dtype.itemsize <= 2 else np.iinfo(np.int8)
            out.append(rng.integers(info.min, info.max + 1, size=tensor.shape, dtype=dtype))
    return out


def _shape_fed_by(graph: Graph, t: int) -> tuple[int, ...] | None:
    """The output shape of the op that takes tensor `t` as its shape operand, if one does."""
    for op in graph.ops:
        position = SHAPE_OPERANDS.get(op.kind)
        if position is not None and position < len(op.inputs) and op.inputs[position] == t:
            return tuple(graph.tensors[op.outputs[0]].shape)
    return None
