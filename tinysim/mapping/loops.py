"""Loop-nest facts a cost model needs about how a kernel walks an op."""

from __future__ import annotations

from tinysim.workload.graph import Graph, Op, OpKind


def inner_loop_length(graph: Graph, op: Op) -> int:
    """MACs per start of the innermost MAC loop, as TFLM / CMSIS-NN style kernels nest them.

    CONV_2D reduces over input channels at each filter tap; FULLY_CONNECTED over input features;
    DEPTHWISE_CONV_2D has no channel reduction, so every MAC is its own tap. Other ops: 0.
    """
    if op.kind == OpKind.CONV_2D:
        return graph.tensor(op.inputs[1]).shape[-1]
    if op.kind == OpKind.FULLY_CONNECTED:
        return graph.tensor(op.inputs[1]).shape[-1]
    if op.kind == OpKind.DEPTHWISE_CONV_2D:
        return 1
    return 0


def taps(graph: Graph, op: Op, macs: int) -> int:
    """Innermost-loop starts for `macs` MACs of `op` (works for counted or estimated MACs)."""
    length = inner_loop_length(graph, op)
    return macs // length if length else 0
