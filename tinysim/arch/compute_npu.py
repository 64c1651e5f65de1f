"""`kind: npu` — an Ethos-U-like neural processing unit: a MAC array fed block by block, DMA beside it.

The MAC array computes one output micro-block (`ublock_width` x `ublock_height` pixels x
`ublock_depth` output channels) at a time, reducing over `ifm_depth_per_step` input channels (or,
for depthwise convolution, over `kernel_elements_per_step` filter taps) in one step of
`ifm_depth_per_step x ublock elements / macs_per_cycle` cycles. A step for a new group of output
channels cannot be shorter than `weight_fetch_cycles` (the weight decoder feeds one output-channel
group at a time), so small feature maps and fully-connected layers leave the array mostly idle.
Pooling walks the window one tap at a time, `pool_tap_cycles` per tap per micro-block. An output
stage (requantize, activation, write) takes `cycles_per_output` cycles per output element and
overlaps the array across output blocks of `ofm_block_outputs` elements. Weights stream from
`weights_in` (stored as `weight_encoding` says, plus `scale_bias_bytes_per_channel`), activations
live in `activations_in`; DMA overlaps compute, so an op takes max(compute, memory transfers) +
`overhead_cycles`. Energy: `energy_per_mac` per executed MAC and `energy_per_cycle` per active
cycle (clocking, control), both at `nominal_voltage`.

Activation traffic (optional, 0 = tensors move packed at full bus efficiency): between NPU ops tensors are
stored in bricks of `brick_depth` channels; the graph input is read in bursts of one IFM block depth (a
multiple of `ifm_block_depth_step` channels), each of which fills a `burst_bytes` bus burst only if it is that
long (cost/npu.py `moved_bytes`, after Vela's EstimateMemoryTransfer).

Optional `sparsity:` and `weight_decoder:` blocks as for `kind: mcu` (compute_mcu.py). A decoder
applies to weights a compressed workload stores encoded (Tensor.stored_encoding): they stream at
their stored size and decode beside the MAC array; other weights are stored as `weight_encoding` says.

`config: ethos-u55-128` (any name in tinysim/arch/ethos_u_configs.yaml: ethos-u55-64/128/256,
ethos-u65-256/512) sets every field that table has for that size, as Arm's Vela models it: MAC count,
micro-block shape, step and weight-fetch cycles, output-stage cycles per element, OFM block size, activation
layout and burst length.
Fields written in the unit itself override the table, so a sweep over `compute.<unit>.config` moves all of
them together while an explicit `macs_per_cycle:` still wins. The bus bandwidth is the memories' (as in
Vela, whose system config sets it, not the NPU size).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tinysim.arch.compute import COMMON_FIELDS, ComputeContext, common_unit_fields, get_op_table, get_runs
from tinysim.arch.compute_mcu import (
    SPARSITY,
    WEIGHT_DECODER,
    Sparsity,
    WeightDecoder,
    parse_sparsity,
    parse_weight_decoder,
)
from tinysim.arch.model import OpTable
from tinysim.ops import OpKind
from tinysim.schema.fields import Bound, Where, block, get_choice, get_enum, get_int, get_quantity
from tinysim.schema.jsonschema import Block, Choice, Field, Integer, Quantity, Ref, Text
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension

KIND = "npu"
CONFIGS_FILE = Path(__file__).with_name("ethos_u_configs.yaml")


class WeightEncoding(enum.Enum):
    """How weights are stored in `weights_in`: raw int8, or entropy-coded (Ethos-U weight compression)."""

    RAW = "raw"
    ENTROPY = "entropy"  # order-0 entropy of the weight values: an ideal coder, what Vela's encoder approaches


def _config_names() -> tuple[str, ...]:
    return tuple(configs())


_TYPES: dict[str, Field] = {
    "kind": Text(),
    **COMMON_FIELDS,
    "config": Choice(_config_names),
    "macs_per_cycle": Integer(bound=Bound.POSITIVE),
    "ublock_width": Integer(bound=Bound.POSITIVE),
    "ublock_height": Integer(bound=Bound.POSITIVE),
    "ublock_depth": Integer(bound=Bound.POSITIVE),
    "ifm_depth_per_step": Integer(bound=Bound.POSITIVE),
    "kernel_elements_per_step": Integer(bound=Bound.POSITIVE),
    "weight_fetch_cycles": Quantity(Dimension.CYCLES, Bound.NONNEGATIVE),
    "pool_tap_cycles": Quantity(Dimension.CYCLES, Bound.NONNEGATIVE),
    "ofm_block_outputs": Integer(bound=Bound.POSITIVE),
    "cycles_per_output": Ref("op_table"),
    "overhead_cycles": Ref("op_table"),
    "brick_depth": Integer(bound=Bound.NONNEGATIVE),
    "ifm_block_depth_step": Integer(bound=Bound.NONNEGATIVE),
    "burst_bytes": Integer(Dimension.SIZE, Bound.NONNEGATIVE),
    "weight_encoding": Choice(tuple(e.value for e in WeightEncoding)),
    "scale_bias_bytes_per_channel": Integer(Dimension.SIZE, Bound.NONNEGATIVE),
    "energy_per_mac": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    "energy_per_cycle": Quantity(Dimension.ENERGY, Bound.NONNEGATIVE),
    "sparsity": SPARSITY,
    "weight_decoder": WEIGHT_DECODER,
}
_KEYS = tuple(_TYPES)
_REQUIRED = (
    "macs_per_cycle",
    "ublock_width",
    "ublock_height",
    "ublock_depth",
    "ifm_depth_per_step",
    "kernel_elements_per_step",
    "weight_fetch_cycles",
    "pool_tap_cycles",
    "ofm_block_outputs",
    "cycles_per_output",
    "overhead_cycles",
    "energy_per_mac",
    "energy_per_cycle",
    "nominal_voltage",
    "weights_in",
    "activations_in",
)
# What a `config:` entry may set (the unit's own fields override it).
_CONFIG_KEYS = (
    "macs_per_cycle",
    "ublock_width",
    "ublock_height",
    "ublock_depth",
    "ifm_depth_per_step",
    "kernel_elements_per_step",
    "weight_fetch_cycles",
    "pool_tap_cycles",
    "ofm_block_outputs",
    "cycles_per_output",
    "brick_depth",
    "ifm_block_depth_step",
    "burst_bytes",
)
# The unit's keys for the JSON Schema: those a `config:` entry sets are required only without one.
FIELDS = Block(
    _TYPES,
    required=("kind", *(k for k in _REQUIRED if k not in _CONFIG_KEYS)),
    required_unless={"config": tuple(k for k in _REQUIRED if k in _CONFIG_KEYS)},
)


@dataclass(frozen=True)
class NpuUnit:
    """A block-scheduled MAC array with an output stage and DMA; see the module docstring."""

    name: str
    kind: str
    macs_per_cycle: int
    ublock_width: int
    ublock_height: int
    ublock_depth: int
    ifm_depth_per_step: int
    kernel_elements_per_step: int
    weight_fetch_cycles: float
    pool_tap_cycles: float
    ofm_block_outputs: int
    cycles_per_output: OpTable
    overhead_cycles: OpTable
    energy_per_mac_j: float
    energy_per_cycle_j: float
    nominal_voltage_v: float
    weights_in: str
    activations_in: str
    description: str = ""
    runs: frozenset[OpKind] = frozenset()
    schemes: frozenset[str] = frozenset()  # quantization schemes it computes in; empty means all
    weight_encoding: WeightEncoding = WeightEncoding.RAW
    scale_bias_bytes_per_channel: int = 0
    sparsity: Sparsity | None = None
    weight_decoder: WeightDecoder | None = None
    config: str | None = None  # the ethos_u_configs.yaml entry the fields not written in the unit came from
    # Activation layout and bus bursts (0 = not modelled: tensors move as packed bytes, at full bus efficiency).
    brick_depth: int = 0  # channels of the on-chip brick layout (Ethos-U NHCWB16: 16); graph I/O stays NHWC
    ifm_block_depth_step: int = 0  # an IFM block's depth is a multiple of this many channels
    burst_bytes: int = 0  # burst length of the activation memory's bus

    @property
    def ublock_elements(self) -> int:
        return self.ublock_width * self.ublock_height * self.ublock_depth

    @property
    def step_cycles(self) -> float:
        """Cycles for one micro-block step: ublock outputs x ifm_depth_per_step MACs at the peak rate."""
        return self.ifm_depth_per_step * self.ublock_elements / self.macs_per_cycle

    def cycles_per_output_for(self, kind: OpKind) -> float:
        return self.cycles_per_output.for_op(kind)

    def overhead_cycles_for(self, kind: OpKind) -> float:
        return self.overhead_cycles.for_op(kind)


@cache
def configs() -> Mapping[str, Any]:
    """The entries of ethos_u_configs.yaml by name (read once; shipped with the package)."""
    data = load_yaml(CONFIGS_FILE)
    where = Where(file=str(CONFIGS_FILE), line=line_of(data))
    top = block(data, where, allowed=("version", "configs"), required=("version", "configs"))
    return block(top["configs"], where.key(top, "configs"), allowed=tuple(top["configs"]), what="named configs")


def _config(m: Mapping[str, Any], where: Where) -> tuple[Mapping[str, Any], Where]:
    """The `config:` entry the unit names (validated) and where it is; empty when the unit names none."""
    if "config" not in m:
        return {}, where
    name = get_choice(m, "config", where, tuple(configs()), "an Ethos-U configuration of ethos_u_configs.yaml")
    entry = configs()[name]
    at = Where(file=str(CONFIGS_FILE), path=where.path, line=line_of(entry), error=where.error, notes=where.notes)
    return block(entry, at, allowed=_CONFIG_KEYS), at


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> NpuUnit:
    """Build an NpuUnit from its YAML block `compute.<name>` (+ the `config:` entry it names)."""
    m = block(mapping, where, allowed=_KEYS)
    preset, preset_at = _config(m, where)
    for key in _REQUIRED:
        if key not in m and key not in preset:
            raise where.key(m, key).fail(f'missing required key "{key}" in {where.path} (or a `config:` that sets it)')

    def src(key: str) -> tuple[Mapping[str, Any], str, Where]:
        """Where `key` is read from: the unit's own block, else its config entry."""
        return (preset, key, preset_at) if key not in m and key in preset else (m, key, where)

    def positive_int(key: str) -> int:
        return get_int(*src(key), bound=Bound.POSITIVE)

    def optional_int(key: str, dim: Dimension = Dimension.DIMENSIONLESS) -> int:
        return int(get_int(*src(key), dim, bound=Bound.NONNEGATIVE, default=0))

    def cycles(key: str) -> float:
        return get_quantity(*src(key), Dimension.CYCLES, bound=Bound.NONNEGATIVE)

    return NpuUnit(
        name=name,
        kind=KIND,
        macs_per_cycle=positive_int("macs_per_cycle"),
        ublock_width=positive_int("ublock_width"),
        ublock_height=positive_int("ublock_height"),
        ublock_depth=positive_int("ublock_depth"),
        ifm_depth_per_step=positive_int("ifm_depth_per_step"),
        kernel_elements_per_step=positive_int("kernel_elements_per_step"),
        weight_fetch_cycles=cycles("weight_fetch_cycles"),
        pool_tap_cycles=cycles("pool_tap_cycles"),
        ofm_block_outputs=positive_int("ofm_block_outputs"),
        cycles_per_output=get_op_table(*src("cycles_per_output")),
        overhead_cycles=get_op_table(m, "overhead_cycles", where),
        energy_per_mac_j=get_quantity(m, "energy_per_mac", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        energy_per_cycle_j=get_quantity(m, "energy_per_cycle", where, Dimension.ENERGY, bound=Bound.NONNEGATIVE),
        **common_unit_fields(m, where, ctx),
        runs=get_runs(m, "runs", where),
        weight_encoding=get_enum(m, "weight_encoding", where, WeightEncoding)
        if "weight_encoding" in m
        else WeightEncoding.RAW,
        scale_bias_bytes_per_channel=get_int(
            m, "scale_bias_bytes_per_channel", where, Dimension.SIZE, bound=Bound.NONNEGATIVE, default=0
        ),
        sparsity=parse_sparsity(m, where),
        weight_decoder=parse_weight_decoder(m, where),
        config=str(m["config"]) if "config" in m else None,
        brick_depth=optional_int("brick_depth"),
        ifm_block_depth_step=optional_int("ifm_block_depth_step"),
        burst_bytes=optional_int("burst_bytes", Dimension.SIZE),
    )
