"""`kind: mcu` — a microcontroller core running a kernel library (e.g. TFLite Micro on a Cortex-M).

Cost per op = overhead + MACs × cycles_per_mac / simd_macs_per_cycle + taps × cycles_per_tap
+ elements × cycles_per_element cycles, where a tap is one start of the innermost MAC loop (one
filter position of one output: bounds checks and address setup in TFLM-style kernels); energy per cycle is given at `nominal_voltage` and scaled by (V / V_nominal)² by the
cost model.

Or, instead of those tables, a kernel library priced on a core:
    core: cortex-m4            one of tinysim/arch/cores.yaml (DSP / Helium features, cycles per instruction class)
    kernels: cmsis-nn          one of tinysim/arch/kernel_libraries/*.yaml (tflm-reference, cmsis-nn): per routine,
                               instruction mixes per unit of work; the library's dispatch picks each op's routine

Optional, both off by default (shared with `kind: npu`):
    sparsity: {skip_zero_weights: true, cycles_per_skipped_mac: X}
        MACs whose weight is zero cost X cycles instead of the full MAC cost.
    weight_decoder: {kind: huffman|codebook, cycles_per_weight: C, energy_per_weight: E}
        weights stay encoded in `weights_in` (footprint and bytes read = the stored size of a
        compressed workload's weights) and are decoded at C cycles and E joules per weight per
        inference. `huffman` decodes every encoding `tinysim compress` writes; `codebook` only the
        fixed-width ones (shared / quantized indices, sparse positions). Without a decoder a
        compressed workload's weights are stored decoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tinysim.arch.compute import COMMON_FIELDS, ComputeContext, common_unit_fields, get_op_table, get_runs
from tinysim.arch.core import Core, core_names, load_core
from tinysim.arch.kernel_library import KernelLibrary, library_names, load_library
from tinysim.arch.model import OpTable
from tinysim.ops import OpKind
from tinysim.schema.fields import Bound, Where, block, get_choice, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Choice, Flag, Integer, Quantity, Ref, Text
from tinysim.units import Dimension

KIND = "mcu"

SPARSITY = Block(
    {"skip_zero_weights": Flag(), "cycles_per_skipped_mac": Quantity(Dimension.CYCLES, Bound.NONNEGATIVE)},
    required=("skip_zero_weights", "cycles_per_skipped_mac"),
)


def _decoder_kinds() -> tuple[str, ...]:
    return tuple(DECODER_KINDS)


WEIGHT_DECODER = Block(
    {
        "kind": Choice(_decoder_kinds),
        "cycles_per_weight": Quantity(Dimension.CYCLES, Bound.NONNEGATIVE),
        "energy_per_weight": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    },
    required=("kind", "cycles_per_weight", "energy_per_weight"),
)
FIELDS = Block(
    {
        "kind": Text(),
        **COMMON_FIELDS,
        "simd_macs_per_cycle": Integer(bound=Bound.POSITIVE),
        "cycles_per_mac": Ref("op_table"),
        "overhead_cycles": Ref("op_table"),
        "cycles_per_element": Ref("op_table"),
        "energy_per_cycle": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
        "cycles_per_tap": Ref("op_table"),
        "sparsity": SPARSITY,
        "weight_decoder": WEIGHT_DECODER,
        "core": Choice(core_names),
        "kernels": Choice(library_names),
    },
    required=("kind", "energy_per_cycle", "nominal_voltage", "weights_in", "activations_in"),
    required_unless={"kernels": ("cycles_per_mac", "overhead_cycles", "cycles_per_element")},
)
_KEYS, _REQUIRED = FIELDS.keys, FIELDS.required
# The unit's own cycle tables; a unit naming its `kernels:` library takes them from the library instead.
_TABLES = ("cycles_per_mac", "overhead_cycles", "cycles_per_element", "cycles_per_tap", "simd_macs_per_cycle")


# Encodings (Tensor.stored_encoding) each decoder kind reads.
DECODER_KINDS = {
    "huffman": frozenset({"huffman", "shared", "quantized", "sparse"}),
    "codebook": frozenset({"shared", "quantized", "sparse"}),
}


@dataclass(frozen=True)
class Sparsity:
    """Zero-weight skipping: a MAC with a zero weight costs `cycles_per_skipped_mac` instead."""

    skip_zero_weights: bool
    cycles_per_skipped_mac: float


@dataclass(frozen=True)
class WeightDecoder:
    """Weights stored encoded, decoded on the fly at a cost per weight (see the module docstring)."""

    kind: str
    cycles_per_weight: float
    energy_per_weight_j: float

    def decodes(self, encoding: str | None) -> bool:
        return encoding is not None and encoding in DECODER_KINDS[self.kind]


def parse_sparsity(m: Mapping[str, Any], where: Where) -> Sparsity | None:
    """The optional `sparsity:` block of a compute unit."""
    if "sparsity" not in m:
        return None
    here = where.key(m, "sparsity")
    b = block(m["sparsity"], here, allowed=SPARSITY.keys, required=SPARSITY.required)
    skip = b["skip_zero_weights"]
    if not isinstance(skip, bool):
        raise here.key(b, "skip_zero_weights").fail(f"expected true or false, got {skip!r}")
    cycles = get_quantity(b, "cycles_per_skipped_mac", here, Dimension.CYCLES, bound=Bound.NONNEGATIVE)
    return Sparsity(skip, cycles) if skip else None


def parse_weight_decoder(m: Mapping[str, Any], where: Where) -> WeightDecoder | None:
    """The optional `weight_decoder:` block of a compute unit."""
    if "weight_decoder" not in m:
        return None
    here = where.key(m, "weight_decoder")
    b = block(m["weight_decoder"], here, allowed=WEIGHT_DECODER.keys, required=WEIGHT_DECODER.required)
    return WeightDecoder(
        get_choice(b, "kind", here, tuple(DECODER_KINDS), "a decoder kind"),
        get_quantity(b, "cycles_per_weight", here, Dimension.CYCLES, bound=Bound.NONNEGATIVE),
        get_quantity(b, "energy_per_weight", here, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
    )


@dataclass(frozen=True)
class McuUnit:
    """A scalar/SIMD core; op tables give cycles per MAC, fixed cycles per op, cycles per element."""

    name: str
    kind: str
    simd_macs_per_cycle: int
    cycles_per_mac: OpTable
    overhead_cycles: OpTable
    cycles_per_element: OpTable
    energy_per_cycle_j: float
    nominal_voltage_v: float
    weights_in: str
    activations_in: str
    description: str = ""
    runs: frozenset[OpKind] = frozenset()
    schemes: frozenset[str] = frozenset()  # quantization schemes it computes in; empty means all
    cycles_per_tap: OpTable = field(default_factory=lambda: OpTable(default=0.0))
    sparsity: Sparsity | None = None
    weight_decoder: WeightDecoder | None = None
    core: Core | None = None  # with `library`: the core the library's instruction mixes are priced on
    library: KernelLibrary | None = None  # the kernel library (cost/mcu.py prices its routines)

    def cycles_per_mac_for(self, kind: OpKind) -> float:
        return self.cycles_per_mac.for_op(kind)

    def overhead_cycles_for(self, kind: OpKind) -> float:
        return self.overhead_cycles.for_op(kind)

    def cycles_per_element_for(self, kind: OpKind) -> float:
        return self.cycles_per_element.for_op(kind)

    def cycles_per_tap_for(self, kind: OpKind) -> float:
        return self.cycles_per_tap.for_op(kind)


def parse_library(m: Mapping[str, Any], where: Where) -> tuple[Core | None, KernelLibrary | None]:
    """`core:` and `kernels:`: a library priced on a core, or neither (the unit's own cycle tables)."""
    if "kernels" not in m:
        if "core" in m:
            _core(m, where)  # still checked: a misspelt core is an error even where nothing uses it
        return None, None
    if "core" not in m:
        raise where.key(m, "kernels").fail(f'a kernel library needs the unit\'s "core:" ({", ".join(core_names())})')
    for key in _TABLES:
        if key in m:
            raise where.key(m, key).fail(f'not with "kernels:": the library {m["kernels"]!r} gives the cycles; remove {key}')
    core = _core(m, where)
    library = load_library(get_choice(m, "kernels", where, library_names(), "a kernel library"))
    for lib in (library, *([load_library(library.fallback)] if library.fallback else [])):
        missing = lib.missing_classes(core)
        if missing:
            raise where.key(m, "core").fail(
                f"{core.name} has no cycles for {', '.join(missing)}, which kernel library {lib.name} uses"
            )
    return core, library


def _core(m: Mapping[str, Any], where: Where) -> Core:
    name = get_choice(m, "core", where, core_names(), "a core")
    core = load_core(name)
    assert core is not None  # get_choice checked the name
    return core


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> McuUnit:
    """Build an McuUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)
    core, library = parse_library(m, where)
    tables = library is None
    if tables:
        for key in ("cycles_per_mac", "overhead_cycles", "cycles_per_element"):
            if key not in m:
                raise where.key(m, key).fail(f'missing required key "{key}" (or name a library with "kernels:")')
    zero = OpTable(default=0.0)
    return McuUnit(
        name=name,
        kind=KIND,
        core=core,
        library=library,
        simd_macs_per_cycle=get_int(m, "simd_macs_per_cycle", where, bound=Bound.POSITIVE, default=1),
        cycles_per_mac=get_op_table(m, "cycles_per_mac", where) if tables else zero,
        overhead_cycles=get_op_table(m, "overhead_cycles", where) if tables else zero,
        cycles_per_element=get_op_table(m, "cycles_per_element", where) if tables else zero,
        energy_per_cycle_j=get_quantity(m, "energy_per_cycle", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        **common_unit_fields(m, where, ctx),
        runs=get_runs(m, "runs", where),
        cycles_per_tap=get_op_table(m, "cycles_per_tap", where) if "cycles_per_tap" in m else OpTable(default=0.0),
        sparsity=parse_sparsity(m, where),
        weight_decoder=parse_weight_decoder(m, where),
    )
