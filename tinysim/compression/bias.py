"""Bias correction: give back, through each layer's bias, the mean output shift its compressed weights cause.

Pruning and quantizing weights change each output's expected value by (W_new - W_old) E[x]; for
inputs with a large mean (AD's log-mel frames sit around -30) that shift, not the noise, dominates
the error. Adding -(W_new - W_old) E[x] to the bias removes it (the bias correction of Nagel et al.,
"Data-Free Quantization Through Weight Equalization and Bias Correction", ICCV 2019, there with
batch-norm statistics; here with E[x] measured by running the ORIGINAL graph on calibration
inputs). Means are per input channel (conv: averaged over positions; padding taps are ignored).
Calibrate on inputs other than those you evaluate fidelity on, or the result is optimistic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tinysim.compression.layers import Layer, frozen, replaced, weighted_layers
from tinysim.engine import run_graph
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph


@dataclass(frozen=True)
class BiasRecord:
    layer: str
    max_shift_lsb: int  # largest correction added to a bias, in bias steps


def bias_correct(original: Graph, compressed: Graph, calibration: list[np.ndarray]) -> tuple[Graph, list[BiasRecord]]:
    """`compressed` with every bias corrected for the mean shift of its layer (same tensors otherwise)."""
    changes, records = {}, []
    for layer, old in zip(weighted_layers(compressed), weighted_layers(original)):
        if layer.bias < 0 or not original.tensors[layer.bias].is_constant:
            continue
        mean_x = _input_mean(original, layer.op_index, calibration)
        shift = _shift(compressed, original, layer, old, mean_x)
        b = compressed.tensors[layer.bias]
        steps = np.round(shift / np.broadcast_to(np.asarray(b.quantized().scale, np.float64), shift.shape))
        data = frozen(
            np.clip(b.constant().astype(np.int64) + steps.astype(np.int64), -(2**31), 2**31 - 1).astype(np.int32)
        )
        changes[layer.bias] = replace(b, data=data)
        records.append(BiasRecord(layer.name, int(np.abs(steps).max(initial=0))))
    return replaced(compressed, changes), records


def _input_mean(graph: Graph, op_index: int, inputs: list[np.ndarray]) -> np.ndarray:
    """Mean real value of each input channel (last axis) of op `op_index` over the calibration inputs."""
    t = graph.ops[op_index].inputs[0]
    tensor = graph.tensors[t]
    if t in graph.inputs:
        values = list(inputs)
    else:
        head = replace(graph, ops=graph.ops[:op_index], outputs=(t,))
        values = [run_graph(head, [x], count_events=False).outputs[0] for x in inputs]
    q = tensor.quantized()
    codes = np.stack([v.reshape(-1, tensor.shape[-1]) for v in values]).astype(np.float64)
    return q.scale[0] * (codes.mean(axis=(0, 1)) - q.zero_point[0])


def _real(graph: Graph, layer: Layer) -> np.ndarray:
    w = graph.tensors[layer.weight]
    data = w.constant()
    shape = [1] * data.ndim
    shape[layer.axis] = w.shape[layer.axis]
    scales = np.broadcast_to(np.asarray(w.quantized().scale, np.float64), (w.shape[layer.axis],)).reshape(shape)
    return data.astype(np.float64) * scales


def _shift(compressed: Graph, original: Graph, layer: Layer, old: Layer, mean_x: np.ndarray) -> np.ndarray:
    """Real shift of each output channel's mean that compression caused, to add to the bias."""
    d = _real(original, old) - _real(compressed, layer)  # what was lost
    if layer.kind is OpKind.FULLY_CONNECTED:
        return d @ mean_x
    if layer.kind is OpKind.CONV_2D:  # OHWI
        return d.sum(axis=(1, 2)) @ mean_x
    multiplier = d.shape[3] // mean_x.size  # depthwise 1HW(C*M): channel c reads input c // M
    return d.sum(axis=(0, 1, 2)) * np.repeat(mean_x, multiplier)
