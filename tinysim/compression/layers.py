"""The weight tensors a compression step works on, and how to put changed ones back into a Graph.

A *layer* here is one MAC op (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) with a constant int8
weight tensor. Its weights are viewed as a 2-D array (output channels, taps per channel): the
output-channel axis is the weight tensor's quantization axis (0 for conv / FC, 3 for depthwise).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload.graph import DType, Graph, Quantization, Tensor

_SHORT = {OpKind.CONV_2D: "conv", OpKind.DEPTHWISE_CONV_2D: "dw", OpKind.FULLY_CONNECTED: "fc"}


@dataclass(frozen=True)
class Layer:
    """One weighted op: where its tensors are, its output-channel axis, a short display name."""

    op_index: int
    name: str
    kind: OpKind
    weight: int  # tensor index
    bias: int  # tensor index, -1 when absent
    axis: int  # output-channel axis of the weight tensor


def weighted_layers(graph: Graph) -> list[Layer]:
    """The MAC ops with constant int8 weights, in execution order (a shared weight tensor is listed once).

    Layers keep their own names when all are short (layer-list YAML); converter names (TFLite's
    `functional_1/dense/BiasAdd;...`) become `fc0`, `conv3`, `dw1`, ... counted per kind.
    """
    found, seen = [], set()
    for i, op in enumerate(graph.ops):
        if op.kind not in MAC_OPS or len(op.inputs) < 2 or op.inputs[1] < 0:
            continue
        w = graph.tensors[op.inputs[1]]
        if not w.is_constant or w.dtype is not DType.INT8 or op.inputs[1] in seen:
            continue
        seen.add(op.inputs[1])
        found.append((i, op))
    own = all(len(op.name) <= 16 and not set("/;:") & set(op.name) for _, op in found)
    counts = dict.fromkeys(_SHORT, 0)
    layers = []
    for i, op in found:
        name = op.name if own else f"{_SHORT[op.kind]}{counts[op.kind]}"
        counts[op.kind] += 1
        axis = 3 if op.kind is OpKind.DEPTHWISE_CONV_2D else 0
        bias = op.inputs[2] if len(op.inputs) > 2 else -1
        layers.append(Layer(i, name, op.kind, op.inputs[1], bias, axis))
    return layers


def as_rows(array: np.ndarray, axis: int) -> np.ndarray:
    """(channels, taps) view of a weight tensor, output channels first."""
    return np.moveaxis(array, axis, 0).reshape(array.shape[axis], -1)


def from_rows(rows: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Inverse of `as_rows`."""
    moved = (shape[axis], *[d for a, d in enumerate(shape) if a != axis])
    return np.ascontiguousarray(np.moveaxis(rows.reshape(moved), 0, axis))


def channel_scales(tensor: Tensor, axis: int) -> np.ndarray:
    """Per-output-channel weight scales (a per-tensor scale repeated)."""
    return np.broadcast_to(np.asarray(tensor.quantized().scale, np.float64), (tensor.shape[axis],)).copy()


def real_rows(graph: Graph, layer: Layer) -> np.ndarray:
    """The layer's weights as reals, (channels, taps)."""
    w = graph.tensors[layer.weight]
    return as_rows(w.constant().astype(np.float64), layer.axis) * channel_scales(w, layer.axis)[:, None]


def frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def with_weights(graph: Graph, layer: Layer, rows: np.ndarray, scales: np.ndarray | None = None) -> dict[int, Tensor]:
    """Replacement tensors for the layer: int8 `rows` (channels, taps); new per-channel `scales` rescale the bias.

    The engine multiplies the int32 accumulator (bias included) by input scale x weight scale, so a
    bias must be re-expressed in the new weight scale to keep its real value.
    """
    w = graph.tensors[layer.weight]
    data = frozen(from_rows(np.clip(rows, -128, 127).astype(np.int8), w.shape, layer.axis))
    if scales is None:
        return {layer.weight: replace(w, data=data)}
    zeros = (0,) * len(scales)
    quant = Quantization(tuple(float(s) for s in scales), zeros, layer.axis)
    out = {layer.weight: replace(w, data=data, quant=quant)}
    if layer.bias >= 0:
        b = graph.tensors[layer.bias]
        if b.data is not None and b.quant is not None:
            old = channel_scales(w, layer.axis)
            new_bias = np.round(b.data.astype(np.float64) * old / scales)
            bias_scales = np.broadcast_to(np.asarray(b.quant.scale, np.float64), scales.shape) * scales / old
            bias_quant = Quantization(tuple(float(s) for s in bias_scales), (0,) * len(bias_scales), 0)
            data_b = frozen(np.clip(new_bias, -(2**31), 2**31 - 1).astype(np.int32))
            out[layer.bias] = replace(b, data=data_b, quant=bias_quant)
    return out


def replaced(graph: Graph, changes: dict[int, Tensor]) -> Graph:
    """A new graph with some tensors replaced (indices unchanged)."""
    tensors = tuple(changes.get(i, t) for i, t in enumerate(graph.tensors))
    return replace(graph, tensors=tensors)
