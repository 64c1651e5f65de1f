"""The quantization scheme (tinysim.ops.SCHEMES) each op of a graph computes in."""

from __future__ import annotations

from tinysim.ops import SCHEMES
from tinysim.workload.graph import DType, Graph, Op

__all__ = ["SCHEMES", "op_scheme"]

_OF_DTYPE = {DType.INT8: "int8", DType.UINT8: "uint8", DType.INT16: "int16x8", DType.FLOAT32: "float32"}


def op_scheme(graph: Graph, op: Op) -> str:
    """The scheme `op` computes in: that of its first non-constant operand (inputs, then outputs) with an
    activation dtype; int8 for ops that only move indices (int32/int64)."""
    for index in (*op.inputs, *op.outputs):
        if index < 0:
            continue
        tensor = graph.tensors[index]
        if not tensor.is_constant and tensor.dtype in _OF_DTYPE:
            return _OF_DTYPE[tensor.dtype]
    return "int8"
