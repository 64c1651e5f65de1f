"""Run a Graph's int8 (or legacy uint8) numerics: prepare once (TFLM's Prepare), then one Numba call per run.

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

Activations live in one int8 arena laid out by `plan_arena`, as on the device.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field, fields
from functools import cached_property

import numpy as np

from tinysim.engine.arena import ArenaPlan, plan_arena
from tinysim.engine.jit import kernel, switch
from tinysim.engine.ops import (
    add,
    concat_split,
    conv,
    depthwise,
    fully_connected,
    leaky_relu,
    minmax,
    mul,
    pooling,
    relu,
    reshape,
    softmax,
    sub,
)
from tinysim.engine.program import OpKernel, PrepareContext
from tinysim.engine.uint8 import int8_view, legacy_tensors, to_int8, to_uint8
from tinysim.errors import UnsupportedOpError, WorkloadError
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import DType, Graph
from tinysim.workload.validate import short_name, unsupported_ops

SEMANTICS = ("litert", "tflm")

# The one table of supported ops; an op's code is its position here (the order tried first to last).
KERNELS: dict[OpKind, OpKernel] = {
    OpKind.CONV_2D: OpKernel(conv.prepare, conv.evaluate),
    OpKind.DEPTHWISE_CONV_2D: OpKernel(depthwise.prepare, depthwise.evaluate),
    OpKind.FULLY_CONNECTED: OpKernel(fully_connected.prepare, fully_connected.evaluate),
    OpKind.AVERAGE_POOL_2D: OpKernel(pooling.prepare, pooling.evaluate),
    OpKind.MAX_POOL_2D: OpKernel(pooling.prepare, pooling.evaluate),
    OpKind.ADD: OpKernel(add.prepare, add.evaluate),
    OpKind.RESHAPE: OpKernel(reshape.prepare, reshape.evaluate),
    OpKind.SOFTMAX: OpKernel(softmax.prepare, softmax.evaluate),
    OpKind.SUB: OpKernel(sub.prepare, sub.evaluate),
    OpKind.MUL: OpKernel(mul.prepare, mul.evaluate),
    OpKind.LEAKY_RELU: OpKernel(leaky_relu.prepare, leaky_relu.evaluate),
    OpKind.MAXIMUM: OpKernel(minmax.prepare, minmax.evaluate),
    OpKind.MINIMUM: OpKernel(minmax.prepare, minmax.evaluate),
    OpKind.RELU: OpKernel(relu.prepare, relu.evaluate),
    OpKind.RELU6: OpKernel(relu.prepare, relu.evaluate),
    OpKind.CONCATENATION: OpKernel(concat_split.prepare, concat_split.evaluate),
    OpKind.SPLIT: OpKernel(concat_split.prepare, concat_split.evaluate),
    OpKind.SPLIT_V: OpKernel(concat_split.prepare, concat_split.evaluate),
}
# The quantization schemes `prepare` accepts: int8 activations and weights (TFLite's full-integer scheme)
# and legacy uint8 (asymmetric per-tensor, see tinysim.engine.uint8) for the ops in UINT8_OPS: those
# checked bit-exact against LiteRT on uint8 models (MAX_POOL_2D: a max commutes with the shift); a
# uint8 tensor on any other op is refused.
SCHEMES: tuple[str, ...] = ("int8", "uint8")
UINT8_OPS = frozenset({
    OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D, OpKind.ADD,
    OpKind.RESHAPE, OpKind.SOFTMAX, OpKind.CONCATENATION, OpKind.SPLIT, OpKind.SPLIT_V,
})  # fmt: skip


def op_schemes(kind: OpKind) -> tuple[str, ...]:
    """The schemes of SCHEMES that `prepare` runs op `kind` in."""
    return SCHEMES if kind in UINT8_OPS else ("int8",)


_CODES = {kind: code for code, kind in enumerate(KERNELS)}
_evaluate = switch(tuple(k.evaluate for k in KERNELS.values()))  # _evaluate(code, args) in a kernel


@kernel
def _execute(codes, params, arena, i16, i32, f32, s16, s32, count, counted):
    """Evaluate every op in order; counted[k] = (zero-operand MACs, output zeros) of op k."""
    for k in range(codes.shape[0]):
        r = _evaluate(codes[k], (params[k], arena, i16, i32, f32, s16, s32, count))
        counted[k, 0] = r[0]
        counted[k, 1] = r[1]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A graph ready to run: arena plan, packed parameters and constants, static event counts."""

    graph: Graph
    semantics: str
    arena: ArenaPlan
    codes: np.ndarray  # (ops,) int64: each op's position in KERNELS
    params: np.ndarray  # (ops, widest row) int64: each op's row, laid out by its module's `Row`
    i16: np.ndarray  # weights, widened once for the multiply
    i32: np.ndarray  # folded biases, multipliers, shifts, zero-weight counts
    f32: np.ndarray  # softmax exp tables
    scratch16: int  # int16 scratch elements per inference (im2col patch)
    scratch32: int  # int32 scratch elements per inference (accumulators)
    static_events: tuple[Events, ...]
    inputs: tuple[tuple[int, int, tuple[int, ...], str], ...] = ()  # per graph input: offset, size, shape, name
    outputs: tuple[tuple[int, int, tuple[int, ...]], ...] = ()  # per graph output: offset, size, shape
    dtypes: tuple[tuple[np.dtype, ...], tuple[np.dtype, ...]] = ((), ())  # of the graph's inputs, outputs
    # idle (arena, s16, s32) buffers: a run takes one (or allocates) and returns it; results never
    # alias them (outputs are copied), and every kernel writes arena and scratch before reading
    spare: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    def buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Fresh, uninitialised (arena, int16 scratch, int32 scratch) for one inference."""
        arena = np.empty(max(self.arena.peak_bytes, 1), np.int8)
        return arena, np.empty(self.scratch16, np.int16), np.empty(self.scratch32, np.int32)


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
        if op.kind not in UINT8_OPS and legacy.intersection(op.inputs + op.outputs):
            raise UnsupportedOpError(
                f"{op.kind.value} (layer {k} '{op.name}'): uint8 is not supported for this op (int8 only)",
                file=graph.source or None,
            )
    arena = plan_arena(graph)
    ctx = PrepareContext(int8_view(graph), arena.offsets, semantics, legacy)
    plans = [KERNELS[op.kind].prepare(ctx, op) for op in ctx.graph.ops]
    for role, t in [*(("input", t) for t in graph.inputs), *(("output", t) for t in graph.outputs)]:
        if graph.tensors[t].dtype not in (DType.INT8, DType.UINT8):
            raise UnsupportedOpError(
                f"graph {role} '{short_name(graph.tensors[t].name)}' is {graph.tensors[t].dtype.name}; tinysim runs "
                f"{', '.join(SCHEMES)} models only",
                file=graph.source or None,
            )
    params = np.zeros((len(plans), max([p.params.size for p in plans] + [1])), np.int64)
    for k, p in enumerate(plans):
        params[k, : p.params.size] = p.params
    return Prepared(
        graph=graph,
        semantics=semantics,
        arena=arena,
        codes=np.array([_CODES[op.kind] for op in graph.ops], np.int64),
        params=params,
        i16=ctx.i16.array(),
        i32=ctx.i32.array(),
        f32=ctx.f32.array(),
        scratch16=max([p.scratch16 for p in plans] + [16]),
        scratch32=max([p.scratch32 for p in plans] + [16]),
        static_events=tuple(p.events for p in plans),
        inputs=tuple(
            (arena.offsets[t], graph.tensors[t].size, tuple(graph.tensors[t].shape), graph.tensors[t].name)
            for t in graph.inputs
        ),
        outputs=tuple((arena.offsets[t], graph.tensors[t].size, tuple(graph.tensors[t].shape)) for t in graph.outputs),
        dtypes=(
            tuple(graph.tensors[t].dtype.numpy for t in graph.inputs),
            tuple(graph.tensors[t].dtype.numpy for t in graph.outputs),
        ),
    )


@dataclass(frozen=True, eq=False)
class RunResult:
    """Outputs of one inference and, if counted, the Events of each op (graph.ops order)."""

    outputs: list[np.ndarray]
    static_events: tuple[Events, ...]
    counted: np.ndarray | None  # (ops, 2): zero-operand MACs, output zeros

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
) -> RunResult:
    """One inference on `inputs` (one array per graph input, dtypes and shapes as the graph's: int8, or
    uint8 for a legacy uint8 graph, whose outputs are then uint8 too)."""
    prep = graph if type(graph) is Prepared else prepared(graph, semantics)
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(arrays) != len(prep.inputs):
        raise WorkloadError(f"{prep.graph.name}: expected {len(prep.inputs)} input(s), got {len(arrays)}")
    try:
        arena, s16, s32 = prep.spare.pop()  # list.pop is atomic: concurrent runs never share buffers
    except IndexError:
        arena, s16, s32 = prep.buffers()
    for (off, size, shape, name), dtype, a in zip(prep.inputs, prep.dtypes[0], arrays):
        if a.dtype != dtype or a.size != size:
            raise WorkloadError(
                f"{prep.graph.name}: input '{name}' must be {dtype} of shape {shape}, got {a.dtype} {a.shape}"
            )
        arena[off : off + size] = a.reshape(-1) if dtype == np.int8 else to_int8(a.reshape(-1))
    counted = np.zeros((len(prep.codes), 2), np.int64)
    _execute(prep.codes, prep.params, arena, prep.i16, prep.i32, prep.f32, s16, s32, count_events, counted)
    outputs = [
        arena[off : off + size].reshape(shape).copy()
        if dtype == np.int8
        else to_uint8(arena[off : off + size]).reshape(shape)
        for (off, size, shape), dtype in zip(prep.outputs, prep.dtypes[1])
    ]
    prep.spare.append((arena, s16, s32))
    return RunResult(outputs, prep.static_events, counted if count_events else None)


def execute_op(
    prep: Prepared, k: int, arena: np.ndarray, s16: np.ndarray, s32: np.ndarray, count: bool = True
) -> tuple[int, int]:
    """Evaluate op `k` of `prep` alone, in place on `arena` (laid out by `prep.arena`), with scratch
    s16, s32 as `prep.buffers()` makes them: for callers that run some ops their own way (imc_run).
    Returns (zero-operand MACs, outputs equal to the output zero point); (0, 0) when not counting."""
    counted = np.zeros((1, 2), np.int64)
    _execute(prep.codes[k : k + 1], prep.params[k : k + 1], arena, prep.i16, prep.i32, prep.f32, s16, s32, count,
             counted)  # fmt: skip
    return int(counted[0, 0]), int(counted[0, 1])


def random_input(graph: Graph, seed: int = 0) -> list[np.ndarray]:
    """Uniform int8 (uint8 for a uint8 input) inputs for every graph input, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.inputs:
        tensor = graph.tensors[t]
        dtype = np.uint8 if tensor.dtype is DType.UINT8 else np.int8
        info = np.iinfo(dtype)
        out.append(rng.integers(info.min, info.max + 1, size=tensor.shape, dtype=dtype))
    return out
