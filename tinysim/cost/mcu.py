"""Cost model for kind `mcu`: a Cortex-M core running CMSIS-NN / TFLM-style kernels.

Cycles = fixed per-op overhead + MACs x cycles-per-MAC (by op kind) / SIMD width
       + taps (innermost-loop starts: bounds checks, address setup) x cycles-per-tap
       + element work (requantization, pooling taps, adds, softmax terms) x cycles-per-element,
then stretched if a memory's bandwidth cannot feed the bytes the op moves (roofline).
Energy = cycles x energy-per-cycle x (V / V_nominal)^2           (core dynamic, CV^2 scaling)
       + bytes read/written x energy-per-byte of each memory     (accesses)
       + (static power of the operating point + memory leakage) x latency.
With the unit's optional flags (arch/compute_mcu.py):
  sparsity        MACs with a zero weight (counted from the op's constant weights and geometry,
                  `zero_weight_macs`) cost cycles_per_skipped_mac instead of cycles_per_mac / SIMD;
  weight_decoder  weights a compressed workload stores encoded are fetched in coded form (bytes read
                  less (decoded - stored bytes) x fetches per weight) and decoded by software or a
                  decoder beside the core: + weights x cycles_per_weight cycles, + weights x energy_per_weight.
With a kernel library (`kernels:` + `core:`), the library's dispatch picks each op's routine (CMSIS-NN's own
dispatch on the op's shape and the core's features, `tinysim/kernels/cmsis_nn.py`; ops it has no routine for
run its fallback library) and
    cycles = latency_scale x (call + MACs x mac + taps x tap + im2col elements x im2col + elements x element)
with each term's cycles the routine's instruction mix priced on the core (arch/kernel_library.py).
Every number comes from the architecture YAML or the library tables; nothing here is per-technology.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinysim.arch import Arch
from tinysim.arch.compute_mcu import McuUnit
from tinysim.arch.kernel_library import KernelLibrary, RoutineCost, load_library
from tinysim.cost.common import core_shape, memory_traffic
from tinysim.cost.placement import place
from tinysim.cost.shape import Mapping, OpShape
from tinysim.cost.weights import decoded_weights, skipped_mac_cycles, skipped_macs
from tinysim.engine.arena import ScratchRule
from tinysim.engine.persistent import scratch_buffers
from tinysim.events import Events
from tinysim.kernels import cmsis_nn
from tinysim.ops import MAC_OPS, loop_starts
from tinysim.workload.graph import Graph, Op

KIND = "mcu"


def structure(op: Op, events: Events, unit: McuUnit, mapping: Mapping) -> OpShape:
    """One op's events on an `mcu` unit, before any operating point."""
    graph, kind = mapping.graph, op.kind
    skipped = skipped_macs(graph, op, events, unit)
    coded = decoded_weights(graph, op, unit)
    weight_read, decode_cycles, decode_energy = events.weight_bytes_read, 0.0, 0.0
    if coded is not None:
        # each weight is fetched macs / weights times; its share of the fetches shrinks to the stored size
        saved = round((coded.decoded_bytes - coded.stored_bytes) * events.macs / coded.weights)
        weight_read = max(0, events.weight_bytes_read - saved)
        decode_cycles, decode_energy = coded.decode_cycles, coded.decode_energy_j
    taps = loop_taps(graph, op, events.macs)
    if unit.library is None:
        compute_cycles = (
            unit.overhead_cycles_for(kind)
            + (events.macs - skipped) * unit.cycles_per_mac_for(kind) / unit.simd_macs_per_cycle
            + skipped * skipped_mac_cycles(unit)
            + taps * unit.cycles_per_tap_for(kind)
            + events.elementwise * unit.cycles_per_element_for(kind)
        )
    else:
        choice: RoutineChoice = mapping.per_op[op.name]
        cycles = choice.cycles(unit)
        compute_cycles = choice.scale * (
            cycles["call"]
            + (events.macs - skipped) * cycles["mac"]
            + taps * cycles["tap"]
            + choice.im2col_elements * cycles["im2col"]
            + events.elementwise * cycles["element"]
        ) + skipped * skipped_mac_cycles(unit)
    compute_cycles += decode_cycles
    reads, writes = memory_traffic(unit, events, weight_bytes_read=weight_read)
    return core_shape(unit, compute_cycles, reads, writes, decode_energy)


def loop_taps(graph: Graph, op: Op, macs: int) -> int:
    """Innermost-loop starts of `op`'s kernel for `macs` MACs (0 for ops without a weight tensor)."""
    if op.kind not in MAC_OPS:
        return 0
    return loop_starts(op.kind, graph.tensor(op.inputs[1]).shape, macs)


@dataclass(frozen=True)
class RoutineChoice:
    """The library routine that runs one op, the scale of its library, and the op's im2col work."""

    name: str  # the routine (a CMSIS-NN function name, or the op kind in a reference library)
    library: str
    cost: RoutineCost
    scale: float
    im2col_elements: int

    def cycles(self, unit: McuUnit) -> dict[str, float]:
        assert unit.core is not None
        return {q: self.cost.cycles_per(q, unit.core) for q in ("call", "mac", "tap", "im2col", "element")}


def map_graph(graph: Graph, unit: McuUnit, arch: Arch) -> Mapping:
    """Each op's routine in the unit's kernel library (none for a unit with its own cycle tables)."""
    if unit.library is None or unit.core is None:
        return Mapping(graph, arch)
    per_op = {op.name: choose_routine(graph, k, unit.library, unit) for k, op in enumerate(graph.ops)}
    return Mapping(graph, arch, per_op)


def choose_routine(graph: Graph, k: int, library: KernelLibrary, unit: McuUnit) -> RoutineChoice:
    """The routine the library's dispatch picks for op `k`, or its fallback library's routine."""
    assert unit.core is not None
    op = graph.ops[k]
    if library.dispatch == "cmsis-nn":
        name = cmsis_nn.routine(graph, k, dsp=unit.core.dsp, mve=unit.core.mve).value
        im2col = im2col_elements(graph, op)
    else:
        name, im2col = op.kind.value, 0
    cost = library.routine(name)
    if cost is None or name == cmsis_nn.Routine.REFERENCE.value:
        if library.fallback is None:
            cost, name = library.routines["default"], "default"
        else:
            return choose_routine(graph, k, load_library(library.fallback), unit)
    return RoutineChoice(name, library.name, cost, library.latency_scale, im2col)


def im2col_elements(graph: Graph, op: Op) -> int:
    """Elements an im2col routine copies for `op`: one filter window of input per output pixel."""
    if op.kind not in MAC_OPS or op.kind.value == "FULLY_CONNECTED":
        return 0
    weights, out = graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if len(weights.shape) != 4 or len(out.shape) != 4:
        return 0
    pixels = out.shape[0] * out.shape[1] * out.shape[2]
    window = weights.shape[1] * weights.shape[2]
    channels = graph.tensor(op.inputs[0]).shape[-1]
    return pixels * window * channels


def scratch_rule(graph: Graph, arch: Arch) -> ScratchRule | None:
    """The scratch buffers each op requests when the kernel library of the unit it runs on differs from
    TFLM's reference kernels (CMSIS-NN's `*_get_buffer_size` rules); None where every op runs reference
    kernels, whose scratch the engine's arena plan already counts."""
    units = place(graph, arch)
    linked = [isinstance(u, McuUnit) and u.library is not None and u.library.dispatch == "cmsis-nn" for u in units]
    if not any(linked):
        return None

    def rule(g: Graph, k: int) -> tuple[int, ...]:
        unit = units[k]
        if not linked[k] or not isinstance(unit, McuUnit) or unit.core is None:
            return scratch_buffers(g, k)
        core = unit.core
        if cmsis_nn.routine(g, k, dsp=core.dsp, mve=core.mve) is cmsis_nn.Routine.REFERENCE:
            return scratch_buffers(g, k)
        return cmsis_nn.scratch_buffers(g, k, dsp=core.dsp, mve=core.mve)

    return rule
