"""The operator vocabulary: which ops exist, which do MACs, and their geometry (windows, taps, MACs).

One definition for the engine (kernels), the cost models (loop nests) and the workload (statistics).
Functions here take shapes and attributes, never a graph: they sit below every package that has one.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

import numpy as np


class OpKind(enum.Enum):
    CONV_2D = "CONV_2D"
    DEPTHWISE_CONV_2D = "DEPTHWISE_CONV_2D"
    FULLY_CONNECTED = "FULLY_CONNECTED"
    AVERAGE_POOL_2D = "AVERAGE_POOL_2D"
    MAX_POOL_2D = "MAX_POOL_2D"
    ADD = "ADD"
    RESHAPE = "RESHAPE"
    SOFTMAX = "SOFTMAX"
    SUB = "SUB"
    MUL = "MUL"
    LEAKY_RELU = "LEAKY_RELU"
    MAXIMUM = "MAXIMUM"
    MINIMUM = "MINIMUM"
    RELU = "RELU"
    RELU6 = "RELU6"
    CONCATENATION = "CONCATENATION"
    SPLIT = "SPLIT"
    SPLIT_V = "SPLIT_V"
    QUANTIZE = "QUANTIZE"
    DEQUANTIZE = "DEQUANTIZE"
    CAST = "CAST"
    RELU_N1_TO_1 = "RELU_N1_TO_1"
    PRELU = "PRELU"
    HARD_SWISH = "HARD_SWISH"
    LOGISTIC = "LOGISTIC"
    TANH = "TANH"
    SQUARED_DIFFERENCE = "SQUARED_DIFFERENCE"
    SQRT = "SQRT"
    RSQRT = "RSQRT"
    EXP = "EXP"
    DIV = "DIV"
    FLOOR_DIV = "FLOOR_DIV"
    PAD = "PAD"
    PADV2 = "PADV2"
    STRIDED_SLICE = "STRIDED_SLICE"
    SLICE = "SLICE"
    PACK = "PACK"
    UNPACK = "UNPACK"
    GATHER = "GATHER"
    GATHER_ND = "GATHER_ND"
    TRANSPOSE = "TRANSPOSE"
    SQUEEZE = "SQUEEZE"
    EXPAND_DIMS = "EXPAND_DIMS"
    RESIZE_NEAREST_NEIGHBOR = "RESIZE_NEAREST_NEIGHBOR"
    RESIZE_BILINEAR = "RESIZE_BILINEAR"
    MEAN = "MEAN"
    SUM = "SUM"
    ARG_MAX = "ARG_MAX"
    ARG_MIN = "ARG_MIN"
    BATCH_MATMUL = "BATCH_MATMUL"
    TRANSPOSE_CONV = "TRANSPOSE_CONV"
    UNIDIRECTIONAL_SEQUENCE_LSTM = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    SVDF = "SVDF"


# Quantization schemes, how an op's activations are represented (the key kernels and compute units use):
# int8 (TFLite's full-integer default), uint8 (legacy asymmetric per-tensor), int16x8 (int16 activations,
# int8 weights: audio front ends, denoisers), float32 (float ops in mixed models).
SCHEMES: tuple[str, ...] = ("int8", "uint8", "int16x8", "float32")

# Ops whose cost is dominated by multiply-accumulates with a weight tensor.
MAC_OPS = frozenset({OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED})
POOL_OPS = frozenset({OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D})
# Elementwise ops of two same-shape activations.
BINARY_OPS = frozenset({OpKind.ADD, OpKind.SUB, OpKind.MUL, OpKind.MAXIMUM, OpKind.MINIMUM})


def window(size: int, k: int, stride: int, dilation: int, same: bool) -> tuple[int, int]:
    """Output size and leading padding of a sliding window along one axis, as TFLite's
    ComputePaddingHeightWidth."""
    eff = (k - 1) * dilation + 1
    out = (size + stride - 1) // stride if same else (size - eff + stride) // stride
    total = max(0, (out - 1) * stride + eff - size)
    return out, total // 2


def tap_counts(size: int, out: int, k: int, stride: int, dilation: int, pad: int) -> np.ndarray:
    """For each window tap along one axis, the number of output positions where it falls inside the input."""
    pos = np.arange(out)[:, None] * stride - pad + np.arange(k)[None, :] * dilation
    return ((pos >= 0) & (pos < size)).sum(axis=0).astype(np.int64)


def shape_macs(kind: OpKind, output_size: int, weight_shape: Sequence[int]) -> int:
    """Multiply-accumulates of a MAC op from shapes, every kernel tap counted (padding included): CONV_2D =
    outputs x kh x kw x input channels, DEPTHWISE_CONV_2D = outputs x kh x kw, FULLY_CONNECTED = outputs x
    input features (weights OHWI, 1HW(C*M), (out, in)); 0 for other ops."""
    if kind is OpKind.CONV_2D:
        return output_size * weight_shape[1] * weight_shape[2] * weight_shape[3]
    if kind is OpKind.DEPTHWISE_CONV_2D:
        return output_size * weight_shape[1] * weight_shape[2]
    if kind is OpKind.FULLY_CONNECTED:
        return output_size * weight_shape[1]
    return 0


def inner_loop_length(kind: OpKind, weight_shape: Sequence[int]) -> int:
    """MACs per start of the innermost MAC loop, as TFLM / CMSIS-NN style kernels nest them.

    CONV_2D reduces over input channels at each filter tap; FULLY_CONNECTED over input features;
    DEPTHWISE_CONV_2D has no channel reduction, so every MAC is its own tap. Other ops: 0.
    """
    if kind in (OpKind.CONV_2D, OpKind.FULLY_CONNECTED):
        return int(weight_shape[-1])
    if kind is OpKind.DEPTHWISE_CONV_2D:
        return 1
    return 0


def loop_starts(kind: OpKind, weight_shape: Sequence[int], macs: int) -> int:
    """Innermost-loop starts ("taps") for `macs` MACs (works for counted or estimated MACs)."""
    length = inner_loop_length(kind, weight_shape)
    return macs // length if length else 0
