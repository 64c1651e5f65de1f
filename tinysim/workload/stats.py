"""Per-op statistics from shapes alone: MACs, parameters, bytes; and shape-based `Events` estimates.

MACs count every kernel tap, padding included (the usual convention, e.g. MLPerf Tiny's published
figures): CONV_2D = output elements x kh x kw x input channels per group, DEPTHWISE_CONV_2D =
output elements x kh x kw, FULLY_CONNECTED = output elements x input features.

`estimate_events` is the seam between a workload and the cost model when no real run is wanted:
it assumes reference kernels (each MAC fetches one weight and one activation; no reuse in
registers) and leaves data-dependent counts (zero operands, post-ReLU zeros, ADC conversions) at 0
for the engine to fill from real runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

from tinysim.events import Events
from tinysim.ops import MAC_OPS, OpKind, shape_macs
from tinysim.workload.graph import Graph, Op, Tensor


@dataclass(frozen=True)
class OpStats:
    """Shape-derived size of one op (or, summed, of a network)."""

    macs: int = 0
    params: int = 0  # weight + bias elements
    weight_bytes: int = 0  # bytes of constant weight and bias tensors
    input_bytes: int = 0  # bytes of non-constant (activation) inputs
    output_bytes: int = 0

    def __add__(self, other: OpStats) -> OpStats:
        return OpStats(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


def op_macs(graph: Graph, op: Op) -> int:
    """Multiply-accumulates of `op` (0 for ops without a weight tensor)."""
    if op.kind not in MAC_OPS:
        return 0
    return shape_macs(op.kind, graph.tensor(op.outputs[0]).size, graph.tensor(op.inputs[1]).shape)


def _parameters(graph: Graph, op: Op) -> list[Tensor]:
    """Weight and bias of a MAC op (constants among its inputs after the activation)."""
    if op.kind not in MAC_OPS:
        return []
    return [t for t in graph.op_inputs(op)[1:] if t is not None and t.is_constant]


def _activations(graph: Graph, op: Op) -> list[Tensor]:
    return [t for t in graph.op_inputs(op) if t is not None and not t.is_constant]


def op_stats(graph: Graph, op: Op) -> OpStats:
    params = _parameters(graph, op)
    return OpStats(
        macs=op_macs(graph, op),
        params=sum(t.size for t in params),
        weight_bytes=sum(t.nbytes for t in params),
        input_bytes=sum(t.nbytes for t in _activations(graph, op)),
        output_bytes=sum(t.nbytes for t in graph.op_outputs(op)),
    )


def graph_stats(graph: Graph) -> list[OpStats]:
    """One `OpStats` per op, in execution order; `total_stats` sums them."""
    return [op_stats(graph, op) for op in graph.ops]


def total_stats(stats: Iterable[OpStats]) -> OpStats:
    return sum(stats, OpStats())


def estimate_events(graph: Graph, op: Op) -> Events:
    """Action counts of `op` on reference kernels, from shapes only (see module docstring)."""
    out = graph.tensor(op.outputs[0])
    written = sum(t.nbytes for t in graph.op_outputs(op))
    acts = _activations(graph, op)
    if op.kind in MAC_OPS:
        macs = op_macs(graph, op)
        w = graph.tensor(op.inputs[1])
        x = graph.tensor(op.inputs[0])
        return Events(
            macs=macs,
            weight_bytes_read=macs * w.dtype.itemsize,
            act_bytes_read=macs * x.dtype.itemsize,
            act_bytes_written=written,
            elementwise=out.size,  # one requantization per output
            output_elements=out.size,
        )
    if op.kind in (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D):
        taps = out.size * op.attrs.filter_h * op.attrs.filter_w
        read = taps * graph.tensor(op.inputs[0]).dtype.itemsize
        return Events(act_bytes_read=read, act_bytes_written=written, elementwise=taps, output_elements=out.size)
    # RESHAPE is a copy on reference kernels (TFLM memcpy's into a separate buffer) but computes nothing.
    if op.kind in (OpKind.CONCATENATION, OpKind.SPLIT, OpKind.SPLIT_V):  # data movement only (a requantizing
        # CONCATENATION input: one rescale per element)
        scaled = [t for t in acts if op.kind is OpKind.CONCATENATION and t.quant != out.quant]
        return Events(
            act_bytes_read=sum(t.nbytes for t in acts),
            act_bytes_written=written,
            elementwise=sum(t.size for t in scaled),
            output_elements=sum(t.size for t in graph.op_outputs(op)),
        )
    elementwise = 0 if op.kind is OpKind.RESHAPE else out.size
    return Events(
        act_bytes_read=sum(t.nbytes for t in acts),
        act_bytes_written=written,
        elementwise=elementwise,
        output_elements=out.size,
    )
