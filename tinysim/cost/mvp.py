"""Cost model for kind `mvp`: a packed-pair matrix-vector co-processor (Silicon Labs MVP style).

Cycles = overhead (kernel dispatch on the host, by op kind)
       + programs x cycles_per_program          (host builds, starts and waits on each MVP program)
       + instructions x cycles_per_instruction  (the MVP's instruction stream), where
         instructions = MAC steps x instructions_per_step + input elements x instructions_per_input
                        + element work x instructions_per_element
         and a MAC step does `macs_per_step` MACs when the reduction dimension (input channels of a
         conv, channels of a depthwise conv, accumulation depth of a fully-connected layer) is a
         multiple of it (packed pairs), one MAC otherwise;
then stretched if a memory's bandwidth cannot feed the bytes the op moves (roofline: weights streamed
from `weights_in`, e.g. flash with wait states).
Energy = cycles x energy_per_cycle x (V / V_nominal)^2 + memory accesses + static power x latency.
"""

from __future__ import annotations

import math

from tinysim.arch.compute_mvp import MvpUnit
from tinysim.cost.common import core_shape, memory_traffic
from tinysim.cost.shape import Mapping, OpShape
from tinysim.events import Events
from tinysim.ops import OpKind, window
from tinysim.workload.graph import Graph, Op, Padding

KIND = "mvp"

_CONVS = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)


def reduction_depth(graph: Graph, op: Op) -> int | None:
    """The dimension a MAC step packs along: input channels (conv), channels (depthwise), accumulation
    depth (fully connected); None for ops without MACs."""
    if op.kind in _CONVS:
        return int(graph.tensor(op.inputs[0]).shape[-1])
    if op.kind == OpKind.FULLY_CONNECTED:
        return int(graph.tensor(op.inputs[1]).shape[-1])  # weights (out, in)
    return None


def macs_per_step(graph: Graph, op: Op, unit: MvpUnit) -> int:
    """MACs one step does: `unit.macs_per_step` when the reduction dimension packs evenly, else 1."""
    depth = reduction_depth(graph, op)
    return unit.macs_per_step if depth is not None and depth % unit.macs_per_step == 0 else 1


def _regions(size: int, k: int, stride: int, dilation: int, same: bool) -> int:
    """Distinct window clippings along one axis: each clipped output position needs its own sub-filter,
    the unclipped interior shares one."""
    out, pad = window(size, k, stride, dilation, same)
    starts = [o * stride - pad for o in range(out)]
    eff = (k - 1) * dilation + 1
    clipped = sum(1 for s in starts if s < 0 or s + eff > size)
    return clipped + (1 if clipped < out else 0)


def programs(graph: Graph, op: Op, unit: MvpUnit) -> int:
    """MVP programs the kernel builds for `op`: one per edge sub-filter region of a convolution; one per
    output of a fully-connected layer whose reduction exceeds the array dimension limit; else one."""
    if op.kind in _CONVS:
        x = graph.tensor(op.inputs[0])
        w = graph.tensor(op.inputs[1])
        a = op.attrs
        same = a.padding is Padding.SAME
        _, h, wd, _ = x.shape
        return _regions(h, w.shape[1], a.stride_h, a.dilation_h, same) * _regions(
            wd, w.shape[2], a.stride_w, a.dilation_w, same)
    if op.kind == OpKind.FULLY_CONNECTED:
        depth = int(graph.tensor(op.inputs[1]).shape[-1])
        pack = macs_per_step(graph, op, unit)
        if depth > unit.max_dimension * pack:
            out = graph.tensor(op.outputs[0])
            return max(1, out.size)
    return 1


def instructions(graph: Graph, op: Op, events: Events, unit: MvpUnit) -> float:
    """MVP instructions `op` executes (see the module docstring)."""
    kind = op.kind
    steps = math.ceil(events.macs / macs_per_step(graph, op, unit)) if events.macs else 0
    inputs = graph.tensor(op.inputs[0]).size if op.inputs and op.inputs[0] >= 0 else 0
    return (
        steps * unit.instructions_per_step.for_op(kind)
        + inputs * unit.instructions_per_input.for_op(kind)
        + events.elementwise * unit.instructions_per_element.for_op(kind)
    )


def structure(op: Op, events: Events, unit: MvpUnit, mapping: Mapping) -> OpShape:
    """One op's events on an `mvp` unit, before any operating point."""
    graph = mapping.graph
    compute_cycles = (
        unit.overhead_cycles.for_op(op.kind)
        + programs(graph, op, unit) * unit.cycles_per_program
        + instructions(graph, op, events, unit) * unit.cycles_per_instruction
    )
    reads, writes = memory_traffic(unit, events)
    return core_shape(unit, compute_cycles, reads, writes)
