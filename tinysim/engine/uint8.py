"""Legacy uint8 models (asymmetric per-tensor, TFLite's scheme before int8 per-channel) on the int8 engine.

A uint8 value q with zero point z is the same real number as the int8 value q - 128 with zero point
z - 128, and every integer kernel computes with (q - zero point), so shifting all uint8 tensors by
-128 leaves the arithmetic unchanged: `int8_view` is the graph the kernels prepare, `run_graph`
shifts uint8 inputs by -128 and outputs by +128. Weights keep their nonzero zero point (int8 with
zero point z - 128); conv and depthwise widen them to int16 as (w - z) at prepare time. The
caller's Graph is not touched: its uint8 tensors stay UINT8 in the IR.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tinysim.workload.graph import DType, Graph, Tensor

OFFSET = 128  # uint8 q and int8 q - 128 hold the same real value (zero points shifted alike)


def _as_int8(t: Tensor) -> Tensor:
    quant = t.quant
    if quant is not None:
        quant = replace(quant, zero_point=tuple(int(z) - OFFSET for z in quant.zero_point))
    data = None if t.data is None else (t.data.astype(np.int16) - OFFSET).astype(np.int8)
    return replace(t, dtype=DType.INT8, quant=quant, data=data)


def legacy_tensors(graph: Graph) -> frozenset[int]:
    """Indices of the graph's uint8 tensors."""
    return frozenset(i for i, t in enumerate(graph.tensors) if t.dtype is DType.UINT8)


def int8_view(graph: Graph) -> Graph:
    """`graph` with every uint8 tensor as the equivalent int8 one (the same graph if it has none)."""
    legacy = legacy_tensors(graph)
    if not legacy:
        return graph
    tensors = tuple(_as_int8(t) if i in legacy else t for i, t in enumerate(graph.tensors))
    return replace(graph, tensors=tensors)


def to_int8(a: np.ndarray) -> np.ndarray:
    """uint8 values as the int8 values of the same reals (q - 128)."""
    return (a.astype(np.int16) - OFFSET).astype(np.int8)


def to_uint8(a: np.ndarray) -> np.ndarray:
    """int8 values as the uint8 values of the same reals (q + 128)."""
    return (a.astype(np.int16) + OFFSET).astype(np.uint8)
