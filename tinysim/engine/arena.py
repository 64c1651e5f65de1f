"""Activation memory planning: tensor lifetimes and a greedy-by-size arena, as TFLite Micro.

TFLM's GreedyMemoryPlanner places buffers largest first, each at the lowest offset that does
not overlap a placed buffer whose lifetime overlaps its own; sizes are rounded up to 16 bytes.
Lifetimes are op indices (inclusive): a graph input lives from op 0, a tensor from the op that
writes it, both until the last op that reads them (graph outputs: until the last op).

RESHAPE output aliases its input (one buffer, the union of both lifetimes) by default: the
bytes are identical, so an MCU runtime need not copy them. Pass alias_reshape=False for
TFLM's behaviour of giving the reshape output its own buffer.
The engine executes inside this plan, so a planning error shows up as wrong outputs.

This plan is the activations of TFLM's arena head. TFLM plans the kernels' scratch buffers
(RequestScratchBufferInArena: TRANSPOSE_CONV's accumulators, MEAN/SUM's, the LSTM's gates, ...;
`persistent.scratch_buffers`) in the head too, each live for its op's step: `arena_usage` places them
with the activation buffers by the same greedy rule for the head, and adds the persistent tail
(`persistent.py`) for the whole arena TFLM uses. The engine needs no such buffers.
Known gap: TFLM gives a RESHAPE / SQUEEZE / EXPAND_DIMS whose input is a graph input and whose output
is a graph output (a single-op model) two buffers; the aliased plan counts one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinysim.engine.persistent import TFLM_HOST_LP64, PersistentBytes, TflmLayout, persistent_bytes, scratch_buffers
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph

ALIGNMENT = 16  # TFLM MicroArenaBufferAlignment()
_ALIASED = (OpKind.RESHAPE, OpKind.SQUEEZE, OpKind.EXPAND_DIMS)  # ops whose output is their input's bytes


@dataclass(frozen=True)
class ArenaPlan:
    """Where each activation tensor lives in the arena and when it is live."""

    peak_bytes: int
    offsets: dict[int, int]  # tensor index -> byte offset
    lifetimes: dict[int, tuple[int, int]]  # tensor index -> (first op, last op), inclusive
    sizes: dict[int, int]  # tensor index -> aligned bytes reserved
    aliases: dict[int, int]  # tensor index -> tensor whose buffer it shares (RESHAPE output -> input)


def _align(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT


def tensor_lifetimes(graph: Graph) -> dict[int, tuple[int, int]]:
    """(first, last) op index of every non-constant tensor the graph's ops or I/O touch."""
    last_op = max(len(graph.ops) - 1, 0)
    life: dict[int, tuple[int, int]] = {}

    def touch(t: int, k: int) -> None:
        if t < 0 or graph.tensors[t].is_constant or graph.tensors[t].variable:
            return  # constants live in flash; state in TFLM's persistent tail (persistent.py)
        first, last = life.get(t, (k, k))
        life[t] = (min(first, k), max(last, k))

    for t in graph.inputs:
        touch(t, 0)
    for k, op in enumerate(graph.ops):
        for t in (*op.inputs, *op.outputs):
            touch(t, k)
    for t in graph.outputs:
        touch(t, last_op)
    return life


def _place(buffers: dict[int, list[int]]) -> tuple[dict[int, int], int]:
    """Greedy-by-size offsets of buffers {id: [first, last, size]} and the peak they reach."""
    # Equal sizes go in reverse tensor order: this reproduces TFLM's planned (head) arena size
    # exactly on the four MLPerf Tiny models (VWW: 73,728 B; tensor order would give 64,512 B).
    order = sorted(buffers, key=lambda r: (-buffers[r][2], -r))
    placed: list[tuple[int, int, int, int]] = []  # (offset, size, first, last)
    where: dict[int, int] = {}
    for r in order:
        first, last, size = buffers[r]
        live = sorted((o, s) for o, s, f, e in placed if f <= last and first <= e)
        offset = 0
        for o, s in live:
            if offset + size <= o:
                break
            offset = max(offset, o + s)
        where[r] = offset
        placed.append((offset, size, first, last))
    return where, max((o + s for o, s, _, _ in placed), default=0)


def plan_arena(graph: Graph, *, alias_reshape: bool = True) -> ArenaPlan:
    """Greedy-by-size placement of every activation tensor (see the module docstring)."""
    life = tensor_lifetimes(graph)
    root = {t: t for t in life}
    if alias_reshape:
        for op in graph.ops:
            if op.kind in _ALIASED and op.inputs and op.inputs[0] in life and op.outputs[0] in life:
                root[op.outputs[0]] = root[op.inputs[0]]
    buffers: dict[int, list[int]] = {}  # root tensor -> [first, last, size]
    for t, (first, last) in life.items():
        r = root[t]
        b = buffers.setdefault(r, [first, last, 0])
        b[0], b[1] = min(b[0], first), max(b[1], last)
        b[2] = max(b[2], _align(graph.tensors[t].nbytes))
    where, peak = _place(buffers)
    return ArenaPlan(
        peak_bytes=peak,
        offsets={t: where[root[t]] for t in life},
        lifetimes=life,
        sizes={t: buffers[root[t]][2] for t in life},
        aliases={t: r for t, r in root.items() if r != t},
    )


@dataclass(frozen=True)
class ArenaUsage:
    """The TFLite Micro arena a graph needs: the head (activations and kernel scratch) and the persistent tail."""

    head_bytes: int  # TFLM's head: the activation plan with the kernels' scratch buffers planned in
    persistent: PersistentBytes
    activation_bytes: int = 0  # plan_arena(...).peak_bytes, the plan the engine executes in

    @property
    def scratch_bytes(self) -> int:
        """What the kernels' scratch buffers add to the head (0 where they fit in the plan's gaps)."""
        return self.head_bytes - self.activation_bytes

    @property
    def persistent_bytes(self) -> int:
        return self.persistent.total

    @property
    def total_bytes(self) -> int:
        """What must fit in SRAM: TFLM's 'Arena allocation total'."""
        return self.head_bytes + self.persistent.total


# Bytes of each scratch buffer op k's kernel requests: TFLM's reference kernels by default; a kernel library
# linked in (CMSIS-NN) requests its own (the pipeline passes the rule of the library each op runs with).
ScratchRule = Callable[[Graph, int], tuple[int, ...]]


def head_with_scratch(graph: Graph, plan: ArenaPlan, scratch_rule: ScratchRule = scratch_buffers) -> int:
    """TFLM's head: `plan`'s buffers and every scratch buffer (live for its op's step), greedy-placed together."""
    buffers: dict[int, list[int]] = {}
    for t, (first, last) in plan.lifetimes.items():
        b = buffers.setdefault(plan.aliases.get(t, t), [first, last, plan.sizes[t]])
        b[0], b[1] = min(b[0], first), max(b[1], last)
    scratch = [(k, size) for k in range(len(graph.ops)) for size in scratch_rule(graph, k)]
    if not scratch:
        return plan.peak_bytes
    for i, (k, size) in enumerate(scratch):  # ids after the tensors', as TFLM numbers its scratch requests
        buffers[len(graph.tensors) + i] = [k, k, _align(size)]
    return _place(buffers)[1]


def arena_usage(graph: Graph, *, layout: TflmLayout = TFLM_HOST_LP64, alias_reshape: bool = True,
                scratch_rule: ScratchRule = scratch_buffers) -> ArenaUsage:
    """Head (greedy plan + kernel scratch) + persistent tail of `graph` on `layout`'s ABI."""
    plan = plan_arena(graph, alias_reshape=alias_reshape)
    return ArenaUsage(head_with_scratch(graph, plan, scratch_rule), persistent_bytes(graph, layout, scratch_rule),
                      plan.peak_bytes)
