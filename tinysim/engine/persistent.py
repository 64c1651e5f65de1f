"""TFLite Micro's persistent arena ("tail"): what the runtime keeps besides the activations.

TFLM's arena has a head (the planned activations and kernel scratch buffers, `arena.plan_arena`)
and a tail of persistent allocations that live as long as the interpreter:

- one TfLiteEvalTensor per tensor of the subgraph, constants included;
- a TfLiteTensor, its TfLiteAffineQuantization and zero-point array per graph input and output;
- one NodeAndRegistration and the parsed builtin options (TfLiteConvParams, ...) per op;
- each kernel's OpData (Init), and in Prepare the per-channel output multipliers and shifts of
  CONV_2D / DEPTHWISE_CONV_2D (int32 x output channels, twice); the interpreter's arrays of
  input/output tensor pointers — each of these a persistent buffer aligned to 16 bytes;
- the buffers of variable tensors (LSTM / SVDF state), each aligned to 16 bytes, and one
  ScratchBufferHandle per scratch buffer a kernel requests (the scratch itself is in the head);
- once per model: the allocator, memory planner and subgraph bookkeeping.

Sizes are a `TflmLayout`. `TFLM_HOST_LP64` is measured: tflite-micro 0.dev20261023 (Python
package, reference kernels) on x86-64, `print_allocations()` of the four MLPerf Tiny models and of
single-op models cut from them, and of single-op models of every op kind the engine runs; a model's
tail is then predicted from 8 bytes above to 12 bytes below TFLM's (the padding between allocations of
different alignment, which depends on TFLM's allocation order and is not replayed). `TFLM_ILP32` is the same runtime on a 32-bit MCU (Cortex-M): pointer-holding structs
recomputed for 4-byte pointers, not measured. The pipeline reports the LP64 figure, so a 'fits'
answer is conservative on a 32-bit part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tinysim.ops import OpKind
from tinysim.workload.graph import Graph

PERSISTENT_ALIGNMENT = 16  # TFLM MicroArenaBufferAlignment(): every persistent buffer starts aligned
INT32_BYTES = 4

__all__ = ["TFLM_HOST_LP64", "TFLM_ILP32", "PersistentBytes", "TflmLayout", "persistent_bytes", "scratch_buffers"]


@dataclass(frozen=True)
class TflmLayout:
    """Bytes TFLite Micro allocates in the persistent tail, per item, on one target ABI."""

    name: str
    eval_tensor_bytes: int  # sizeof(TfLiteEvalTensor), per tensor of the subgraph
    tensor_bytes: int  # sizeof(TfLiteTensor) under TF_LITE_STATIC_MEMORY, per graph input and output
    affine_quantization_bytes: int  # sizeof(TfLiteAffineQuantization), per quantized graph input and output
    node_bytes: int  # sizeof(NodeAndRegistration), per op
    pointer_bytes: int  # the interpreter's input / output TfLiteTensor* arrays
    fixed_bytes: int  # allocator, planner, subgraph allocations: once per model
    op_data_bytes: Mapping[OpKind, int]  # the kernel's OpData struct (reference kernels), per op
    builtin_data_bytes: Mapping[OpKind, int]  # the parsed builtin options, per op
    scratch_handle_bytes: int = 8  # sizeof(ScratchBufferHandle) (one data pointer), per requested scratch buffer


# source: measured as above, on single-op models (the corpus's tflm_seanet int16 models; int8 / float32 models
# built with tests/tflite_builder.py): OpData is 'Persistent buffer data' requested less the I/O pointer arrays
# (and TRANSPOSE_CONV's per-channel arrays); builtin data is the tail's remainder, as for the entries above,
# where it is 16 B or more (a remainder under 16 B is alignment padding, counted 0 as for QUANTIZE).
_MEASURED_OP_DATA = {
    OpKind.TRANSPOSE_CONV: 88,
    OpKind.BATCH_MATMUL: 172,  # OpData and the transposed-operand descriptors Prepare allocates
    OpKind.SQUARED_DIFFERENCE: 112,
    OpKind.PRELU: 28,
    OpKind.DIV: 28,
    OpKind.FLOOR_DIV: 0,
    OpKind.DEQUANTIZE: 32,
    OpKind.CAST: 0,
    OpKind.LOGISTIC: 16,
    OpKind.TANH: 16,
    OpKind.HARD_SWISH: 20,
    OpKind.SQRT: 0,
    OpKind.RSQRT: 28,
    OpKind.EXP: 0,
    OpKind.PAD: 56,
    OpKind.PADV2: 56,
    OpKind.STRIDED_SLICE: 84,
    OpKind.SLICE: 0,
    OpKind.TRANSPOSE: 0,
    OpKind.PACK: 0,
    OpKind.UNPACK: 0,
    OpKind.GATHER: 12,
    OpKind.GATHER_ND: 12,
    OpKind.SQUEEZE: 0,
    OpKind.EXPAND_DIMS: 0,
    OpKind.RESIZE_BILINEAR: 0,
    OpKind.RESIZE_NEAREST_NEIGHBOR: 0,
    OpKind.MEAN: 44,
    OpKind.SUM: 44,
    OpKind.ARG_MAX: 0,
    OpKind.ARG_MIN: 0,
    OpKind.CONCATENATION: 80,
    OpKind.SPLIT: 0,
    OpKind.SPLIT_V: 0,
}
_MEASURED_BUILTIN_DATA = {
    OpKind.TRANSPOSE_CONV: 16,  # TfLiteTransposeConvParams; remainder 8 (int8) and 24 (int16x8 seanet)
    OpKind.BATCH_MATMUL: 16,
    OpKind.SQUARED_DIFFERENCE: 0,
    OpKind.PRELU: 0,
    OpKind.DIV: 0,
    OpKind.FLOOR_DIV: 0,
    OpKind.DEQUANTIZE: 0,
    OpKind.CAST: 0,
    OpKind.LOGISTIC: 0,
    OpKind.TANH: 0,
    OpKind.HARD_SWISH: 0,
    OpKind.SQRT: 0,
    OpKind.RSQRT: 0,
    OpKind.EXP: 0,
    OpKind.PAD: 0,
    OpKind.PADV2: 0,
    OpKind.STRIDED_SLICE: 16,  # TfLiteStridedSliceParams (24), the measured remainder
    OpKind.SLICE: 0,
    OpKind.TRANSPOSE: 0,
    OpKind.PACK: 16,  # TfLitePackParams (8) and padding
    OpKind.UNPACK: 0,
    OpKind.GATHER: 16,  # TfLiteGatherParams (8) and padding
    OpKind.GATHER_ND: 0,
    OpKind.SQUEEZE: 40,  # TfLiteSqueezeParams (36) and padding
    OpKind.EXPAND_DIMS: 0,
    OpKind.RESIZE_BILINEAR: 0,
    OpKind.RESIZE_NEAREST_NEIGHBOR: 0,
    OpKind.MEAN: 0,
    OpKind.SUM: 0,
    OpKind.ARG_MAX: 0,
    OpKind.ARG_MIN: 0,
    OpKind.CONCATENATION: 16,  # TfLiteConcatenationParams (8) and padding
    OpKind.SPLIT: 0,
    OpKind.SPLIT_V: 0,
}
# assumed: TFLM (0.dev20261023) has no RELU_N1_TO_1 kernel (AllocateTensors fails), so nothing can be measured;
# counted as RELU (its requantizing OpData, 28 B; no builtin options), the kernel tinysim runs it with.
_ASSUMED_OP_DATA = {OpKind.RELU_N1_TO_1: 28}
_ASSUMED_BUILTIN_DATA = {OpKind.RELU_N1_TO_1: 0}

# source: measured, tflite-micro 0.dev20261023182759 on x86-64 (see the module docstring). Struct sizes:
# requested bytes of 'TfLiteEvalTensor data', 'Persistent TfLiteTensor data', '... quantization data'
# (24 + an 8-byte zero-point array per tensor) and 'NodeAndRegistration struct'; OpData: 'Persistent
# buffer data' of a single-op model less the two pointer arrays (and, for convolutions, 8 B x channels);
# builtin data and fixed_bytes: the tail's unrecorded remainder, fixed_bytes + sum over ops of
# builtin_data_bytes, exact on the four MLPerf Tiny models and the single-op models.
TFLM_HOST_LP64 = TflmLayout(
    name="tflm-host-lp64",
    eval_tensor_bytes=24,
    tensor_bytes=64,
    affine_quantization_bytes=24,
    node_bytes=64,
    pointer_bytes=8,
    fixed_bytes=488,
    op_data_bytes=MappingProxyType(
        {
            OpKind.CONV_2D: 80,
            OpKind.DEPTHWISE_CONV_2D: 80,
            OpKind.FULLY_CONNECTED: 72,
            OpKind.AVERAGE_POOL_2D: 32,
            OpKind.MAX_POOL_2D: 32,
            OpKind.ADD: 60,
            OpKind.SOFTMAX: 80,
            OpKind.RESHAPE: 0,
            OpKind.QUANTIZE: 32,
            OpKind.SUB: 52,
            OpKind.MUL: 36,
            OpKind.LEAKY_RELU: 24,
            OpKind.MAXIMUM: 0,
            OpKind.MINIMUM: 0,
            OpKind.RELU: 28,
            OpKind.RELU6: 8,
            # measured: single-op int8 models (tests/recurrent_builder.py), the same for every size
            OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM: 688,
            OpKind.SVDF: 36,
            **_MEASURED_OP_DATA,
            **_ASSUMED_OP_DATA,
        }
    ),
    builtin_data_bytes=MappingProxyType(
        {
            OpKind.CONV_2D: 28,
            OpKind.DEPTHWISE_CONV_2D: 28,
            OpKind.FULLY_CONNECTED: 32,
            OpKind.AVERAGE_POOL_2D: 40,
            OpKind.MAX_POOL_2D: 40,
            OpKind.ADD: 8,
            OpKind.SOFTMAX: 4,
            OpKind.RESHAPE: 36,
            OpKind.QUANTIZE: 0,
            OpKind.SUB: 8,
            OpKind.MUL: 4,
            OpKind.LEAKY_RELU: 4,
            OpKind.MAXIMUM: 0,
            OpKind.MINIMUM: 0,
            OpKind.RELU: 0,
            OpKind.RELU6: 0,
            OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM: 16,  # TfLiteUnidirectionalSequenceLSTMParams
            # TfLiteSVDFParams is 12 bytes; the measured remainder is 8 (4 fall in padding TFLM leaves anyway)
            OpKind.SVDF: 8,
            **_MEASURED_BUILTIN_DATA,
            **_ASSUMED_BUILTIN_DATA,
        }
    ),
)

# assumed: 32-bit MCU (ILP32), derived from the LP64 layout, not measured. TfLiteEvalTensor = data, dims
# pointers + type: 12; TfLiteTensor: 40 (64 less three 8->4 pointers, size_t and padding); affine
# quantization = 2 pointers + int32: 12; NodeAndRegistration = 6 pointers + int + registration pointer: 32.
# OpData, builtin data and fixed_bytes keep the LP64 figures (int32 fields; an upper bound where a
# struct holds pointers).
TFLM_ILP32 = TflmLayout(
    name="tflm-ilp32",
    eval_tensor_bytes=12,
    tensor_bytes=40,
    affine_quantization_bytes=12,
    node_bytes=32,
    pointer_bytes=4,
    fixed_bytes=TFLM_HOST_LP64.fixed_bytes,
    op_data_bytes=TFLM_HOST_LP64.op_data_bytes,
    builtin_data_bytes=TFLM_HOST_LP64.builtin_data_bytes,
    scratch_handle_bytes=4,
)

# Ops whose Prepare allocates an int32 multiplier and an int32 shift per output channel.
_PER_CHANNEL_OPS = frozenset({OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.TRANSPOSE_CONV})


def scratch_buffers(graph: Graph, k: int) -> tuple[int, ...]:
    """Bytes of each scratch buffer op `k`'s TFLM reference kernel requests (RequestScratchBufferInArena).

    The buffers live in the head, planned with the activations for the op's step (`arena.arena_usage`);
    each costs a ScratchBufferHandle in the tail. Measured as the head TFLM reports beyond the activations
    on single-op models; every other kind in the engine's table requests none (head == activation plan).
    """
    op = graph.ops[k]
    kind, ts = op.kind, graph.tensors
    if kind is OpKind.TRANSPOSE_CONV:  # the accumulators: int64 per output element for int16x8, int32 for int8
        acc = 8 if ts[op.inputs[2]].dtype.itemsize == 2 else INT32_BYTES
        return (acc * ts[op.outputs[0]].size,)
    if kind in (OpKind.MEAN, OpKind.SUM):  # index scratch (int per input dim, per axis) + int32 sums if quantized
        x, axis = ts[op.inputs[0]], ts[op.inputs[1]]
        index = (INT32_BYTES * len(x.shape), INT32_BYTES * axis.size)
        return (INT32_BYTES * ts[op.outputs[0]].size, *index) if x.dtype.itemsize <= 2 else index
    if kind is OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM:  # four int16 gate buffers of n_batch x n_cell
        out = ts[op.outputs[0]]
        time_major = bool(op.attrs.option("TimeMajor", False))
        n_batch = out.shape[1] if time_major and len(out.shape) == 3 else out.shape[0]
        n_cell = out.shape[-1]
        return (2 * n_batch * n_cell,) * 4
    if kind is OpKind.SVDF:  # int32 accumulators: batch x filters, batch x units
        x, weights = ts[op.inputs[0]], ts[op.inputs[1]]
        n_batch, n_filter = x.shape[0], weights.shape[0]
        rank_option = op.attrs.option("Rank", 1)
        rank = rank_option if isinstance(rank_option, int) and rank_option > 0 else 1
        return (INT32_BYTES * n_batch * n_filter, INT32_BYTES * n_batch * (n_filter // rank))
    return ()


@dataclass(frozen=True)
class PersistentBytes:
    """TFLM's persistent tail of one graph, by what it holds."""

    tensors: int  # TfLiteEvalTensors; the graph inputs' and outputs' TfLiteTensors and quantization
    nodes: int  # NodeAndRegistration structs and parsed builtin options
    op_data: int  # kernels' OpData, per-channel multipliers and shifts, I/O pointer arrays (16-aligned)
    fixed: int  # once per model
    state: int = 0  # variable tensors' buffers (16-aligned each) and scratch buffer handles

    @property
    def total(self) -> int:
        return self.tensors + self.nodes + self.op_data + self.fixed + self.state


def _align(n: int) -> int:
    return -(-n // PERSISTENT_ALIGNMENT) * PERSISTENT_ALIGNMENT


def _output_channels(graph: Graph, k: int) -> int:
    op = graph.ops[k]
    weights = graph.tensors[op.inputs[1]]
    return weights.shape[-1] if op.kind is OpKind.DEPTHWISE_CONV_2D else weights.shape[0]  # 1HWO vs OHWI


def persistent_bytes(graph: Graph, layout: TflmLayout = TFLM_HOST_LP64,
                     scratch_rule: Callable[[Graph, int], tuple[int, ...]] | None = None) -> PersistentBytes:
    """Bytes TFLite Micro keeps in the arena's persistent tail for `graph` (see the module docstring);
    `scratch_rule` gives each op's scratch buffers (default: the reference kernels'), one handle each."""
    rule = scratch_rule or scratch_buffers
    io = [*graph.inputs, *graph.outputs]
    quant = 0
    for t in io:  # TfLiteAffineQuantization + its zero-point TfLiteIntArray (size + one int32 per point)
        q = graph.tensors[t].quant
        if q is not None:
            quant += layout.affine_quantization_bytes + INT32_BYTES * (1 + len(q.zero_point))
    tensors = layout.eval_tensor_bytes * len(graph.tensors) + layout.tensor_bytes * len(io) + quant
    nodes = sum(layout.node_bytes + layout.builtin_data_bytes[op.kind] for op in graph.ops)
    op_data = _align(layout.pointer_bytes * len(graph.inputs)) + _align(layout.pointer_bytes * len(graph.outputs))
    for k, op in enumerate(graph.ops):
        size = layout.op_data_bytes[op.kind]
        op_data += _align(size) if size else 0
        if op.kind in _PER_CHANNEL_OPS:
            op_data += 2 * _align(INT32_BYTES * _output_channels(graph, k))
    state = sum(_align(t.nbytes) for t in graph.tensors if t.variable)
    state += layout.scratch_handle_bytes * sum(len(rule(graph, k)) for k in range(len(graph.ops)))
    return PersistentBytes(tensors=tensors, nodes=nodes, op_data=op_data, fixed=layout.fixed_bytes, state=state)
