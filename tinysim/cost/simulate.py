"""Price a whole inference: place ops, price each op's events, add up, check memory fit."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from types import MappingProxyType

import tinysim.cost
from tinysim.cost.mcu import decoded_weights
from tinysim.cost.result import LayerCost, SimResult
from tinysim.engine.events import Events
from tinysim.errors import SpecError
from tinysim.mapping import place
from tinysim.workload.graph import MAC_OPS, Graph

PriceFn = Callable[..., LayerCost]  # (graph, op, events, unit, arch, operating point) -> LayerCost

# Modules of tinysim.cost that are not cost models of a compute kind.
_NOT_KINDS = frozenset({"common", "result", "simulate"})


@cache
def cost_models() -> Mapping[str, PriceFn]:
    """`{kind: price}` for every `tinysim/cost/<kind>.py` that defines KIND and price (adding a kind = adding a file)."""
    models: dict[str, PriceFn] = {}
    for info in pkgutil.iter_modules(tinysim.cost.__path__):
        if info.name not in _NOT_KINDS and not info.name.startswith("_"):
            module = importlib.import_module(f"tinysim.cost.{info.name}")
            if hasattr(module, "KIND") and hasattr(module, "price"):
                models[module.KIND] = module.price
    return MappingProxyType(models)


def simulate(
    arch,
    graph: Graph,
    events: Sequence[Events],
    *,
    operating_point: str | None = None,
    arena_bytes: int | None = None,
    events_source: str = "shapes",
) -> SimResult:
    """Price `events` (one per op of `graph`) on `arch` at the named operating point."""
    if len(events) != len(graph.ops):
        raise ValueError(f"expected {len(graph.ops)} event records, got {len(events)}")
    op_point = arch.operating_point(operating_point)
    units = place(graph, arch)
    layers = []
    for op, ev, unit in zip(graph.ops, events, units):
        price = cost_models().get(unit.kind)
        if price is None:
            raise SpecError(f"no cost model for compute kind '{unit.kind}'", field=f"compute.{unit.name}.kind")
        layers.append(price(graph, op, ev, unit, arch, op_point))

    first = units[0] if units else arch.compute[0]
    weights_mem = arch.memory(first.weights_in)
    acts_mem = arch.memory(first.activations_in)
    if arena_bytes is None:
        arena_bytes = _naive_arena_bytes(graph)
    return SimResult(
        arch=arch.name,
        workload=graph.name,
        operating_point=op_point.name,
        voltage_v=op_point.voltage_v,
        freq_hz=op_point.freq_hz,
        layers=tuple(layers),
        sleep_power_w=arch.sleep_power_w,
        weights_bytes=stored_weight_bytes(graph, units),
        weights_encoding=weights_encoding(graph, units),
        weights_memory=weights_mem.name,
        weights_capacity_bytes=weights_mem.size_bytes,
        arena_bytes=arena_bytes,
        arena_memory=acts_mem.name,
        arena_capacity_bytes=acts_mem.size_bytes,
        events_source=events_source,
    )


def stored_weight_bytes(graph: Graph, units: Sequence) -> int:
    """Bytes of constants as stored: a compressed workload's encoded weights at their stored size where
    the placed unit declares a decoder for that encoding; a unit declaring `weight_bits` (e.g. 4-bit IMC
    cells) packs its ops' weight tensors at that width; biases and everything else keep their dtype's size."""
    total, seen = 0, set()
    for op, unit in zip(graph.ops, units):
        for position, index in enumerate(op.inputs):
            if index < 0 or index in seen or not graph.tensor(index).is_constant:
                continue
            seen.add(index)
            tensor = graph.tensor(index)
            bits = getattr(unit, "weight_bits", None)
            if position == 1 and decoded_weights(graph, op, unit) is not None:
                total += tensor.stored_bytes
            elif position == 1 and bits and op.kind in MAC_OPS:
                total += -(-tensor.size * bits // 8)
            else:
                total += tensor.nbytes
    return total


def weights_encoding(graph: Graph, units: Sequence) -> str:
    """How a compressed workload's weights are stored: '' when none is encoded, the encodings kept
    (e.g. 'huffman') where the placed units decode them, 'decoded' where no unit declares a decoder."""
    kept, decoded, seen = set(), False, set()
    for op, unit in zip(graph.ops, units):
        if op.kind not in MAC_OPS or len(op.inputs) < 2 or op.inputs[1] < 0 or op.inputs[1] in seen:
            continue
        seen.add(op.inputs[1])
        tensor = graph.tensor(op.inputs[1])
        if tensor.stored_encoding is None:
            continue
        if decoded_weights(graph, op, unit) is not None:
            kept.add(tensor.stored_encoding)
        else:
            decoded = True
    return ", ".join(sorted(kept) + (["partly decoded" if kept else "decoded"] if decoded else []))


def _naive_arena_bytes(graph: Graph) -> int:
    """Upper bound without a planner: the largest op's live inputs + outputs."""
    peak = 0
    for op in graph.ops:
        live = [t for t in graph.op_inputs(op) if t is not None and not t.is_constant] + graph.op_outputs(op)
        peak = max(peak, sum(t.nbytes for t in live))
    return peak
