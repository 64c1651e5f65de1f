"""TFLite Micro's persistent arena ("tail"): what the runtime keeps besides the activations.

TFLM's arena has a head (the planned activations and kernel scratch buffers, `arena.plan_arena`)
and a tail of persistent allocations that live as long as the interpreter:

- one TfLiteEvalTensor per tensor of the subgraph, constants included;
- a TfLiteTensor, its TfLiteAffineQuantization and zero-point array per graph input and output;
- one NodeAndRegistration and the parsed builtin options (TfLiteConvParams, ...) per op;
- each kernel's OpData (Init), and in Prepare the per-channel output multipliers and shifts of
  CONV_2D / DEPTHWISE_CONV_2D (int32 x output channels, twice); the interpreter's arrays of
  input/output tensor pointers — each of these a persistent buffer aligned to 16 bytes;
- once per model: the allocator, memory planner and subgraph bookkeeping.

Sizes are a `TflmLayout`. `TFLM_HOST_LP64` is measured: tflite-micro 0.dev20261023 (Python
package, reference kernels) on x86-64, `print_allocations()` of the four MLPerf Tiny models and of
single-op models cut from them; a model's tail is then predicted within 12 bytes (the padding
between allocations of different alignment, which depends on TFLM's allocation order and is not
replayed). `TFLM_ILP32` is the same runtime on a 32-bit MCU (Cortex-M): pointer-holding structs
recomputed for 4-byte pointers, not measured. The pipeline reports the LP64 figure, so a 'fits'
answer is conservative on a 32-bit part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tinysim.ops import OpKind
from tinysim.workload.graph import Graph

PERSISTENT_ALIGNMENT = 16  # TFLM MicroArenaBufferAlignment(): every persistent buffer starts aligned
INT32_BYTES = 4

__all__ = ["TFLM_HOST_LP64", "TFLM_ILP32", "PersistentBytes", "TflmLayout", "persistent_bytes"]


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
            OpKind.DEQUANTIZE: 32,  # assumed: as QUANTIZE (not measured: no float single-op model built)
            OpKind.SUB: 52,
            OpKind.MUL: 36,
            OpKind.LEAKY_RELU: 24,
            OpKind.MAXIMUM: 0,
            OpKind.MINIMUM: 0,
            OpKind.RELU: 28,
            OpKind.RELU6: 8,
            # assumed (not measured): as RESHAPE
            OpKind.CONCATENATION: 0,
            OpKind.SPLIT: 0,
            OpKind.SPLIT_V: 0,
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
            OpKind.DEQUANTIZE: 0,  # assumed: no builtin options, as QUANTIZE
            OpKind.SUB: 8,
            OpKind.MUL: 4,
            OpKind.LEAKY_RELU: 4,
            OpKind.MAXIMUM: 0,
            OpKind.MINIMUM: 0,
            OpKind.RELU: 0,
            OpKind.RELU6: 0,
            # assumed (not measured): as RESHAPE
            OpKind.CONCATENATION: 36,
            OpKind.SPLIT: 36,
            OpKind.SPLIT_V: 36,
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
)

# Ops whose Prepare allocates an int32 multiplier and an int32 shift per output channel.
_PER_CHANNEL_OPS = frozenset({OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D})


@dataclass(frozen=True)
class PersistentBytes:
    """TFLM's persistent tail of one graph, by what it holds."""

    tensors: int  # TfLiteEvalTensors; the graph inputs' and outputs' TfLiteTensors and quantization
    nodes: int  # NodeAndRegistration structs and parsed builtin options
    op_data: int  # kernels' OpData, per-channel multipliers and shifts, I/O pointer arrays (16-aligned)
    fixed: int  # once per model

    @property
    def total(self) -> int:
        return self.tensors + self.nodes + self.op_data + self.fixed


def _align(n: int) -> int:
    return -(-n // PERSISTENT_ALIGNMENT) * PERSISTENT_ALIGNMENT


def _output_channels(graph: Graph, k: int) -> int:
    op = graph.ops[k]
    weights = graph.tensors[op.inputs[1]]
    return weights.shape[0] if op.kind is OpKind.CONV_2D else weights.shape[-1]


def persistent_bytes(graph: Graph, layout: TflmLayout = TFLM_HOST_LP64) -> PersistentBytes:
    """Bytes TFLite Micro keeps in the arena's persistent tail for `graph` (see the module docstring)."""
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
    return PersistentBytes(tensors=tensors, nodes=nodes, op_data=op_data, fixed=layout.fixed_bytes)
