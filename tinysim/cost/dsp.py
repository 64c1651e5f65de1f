"""Cost model for kind `dsp`: a fixed-point DSP with parallel MACs and zero-overhead loops.

Cycles = per-op overhead
       + inner loops × (ceil(L / macs_per_cycle) × cycles_per_issue + cycles_per_loop)
       + element work (requantization, pooling taps, adds, softmax terms) × cycles_per_element,
where L is the length of the loop the kernel keeps innermost and inner loops = MACs / L:
CONV_2D runs along one filter row (kernel width × input channels, contiguous in both NHWC
activations and OHWI weights), FULLY_CONNECTED along the input features, DEPTHWISE_CONV_2D across
the channels of one tap (a DSP kernel vectorises a depthwise tap over channels). Odd L wastes a MAC
slot per loop and each loop pays its setup: that, not the peak rate, is what short reductions cost. Then stretched if a
memory cannot feed the bytes (roofline).
Energy = cycles × energy-per-cycle × (V / V_nominal)² + bytes × energy-per-byte + static × latency.
"""

from __future__ import annotations

import math

from tinysim.arch.compute_dsp import DspUnit
from tinysim.cost.common import core_shape, memory_traffic
from tinysim.cost.shape import Mapping, OpShape
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph, Op

KIND = "dsp"

_REDUCING = (OpKind.CONV_2D, OpKind.FULLY_CONNECTED, OpKind.DEPTHWISE_CONV_2D)


def inner_loop_length(graph: Graph, op: Op) -> int:
    """MACs per run of the DSP kernel's innermost loop; 0 for ops without MACs.

    Weights are OHWI (conv: a filter row is W x I), 1HWC (depthwise: C channels per tap) or
    (out, in) (fully connected: the input features).
    """
    if op.kind not in _REDUCING:
        return 0
    shape = graph.tensor(op.inputs[1]).shape
    if op.kind == OpKind.CONV_2D:
        return int(shape[2] * shape[3])
    return int(shape[-1])


def mac_cycles(macs: int, loop_length: int, unit: DspUnit, kind: OpKind) -> float:
    """Cycles of the MAC loops: issues of `macs_per_cycle` MACs plus a setup per loop start."""
    if not macs or not loop_length:
        return 0.0
    loops = -(-macs // loop_length)  # padding-skipped taps leave whole loops; round up if not
    issues = loops * math.ceil(loop_length / unit.macs_per_cycle)
    return issues * unit.cycles_per_issue.for_op(kind) + loops * unit.cycles_per_loop.for_op(kind)


def structure(op: Op, events: Events, unit: DspUnit, mapping: Mapping) -> OpShape:
    """One op's events on a `dsp` unit, before any operating point."""
    graph, kind = mapping.graph, op.kind
    compute_cycles = (
        unit.overhead_cycles.for_op(kind)
        + mac_cycles(events.macs, inner_loop_length(graph, op), unit, kind)
        + events.elementwise * unit.cycles_per_element.for_op(kind)
    )
    reads, writes = memory_traffic(unit, events)
    return core_shape(unit, compute_cycles, reads, writes)
