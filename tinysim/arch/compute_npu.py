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

Optional `sparsity:` and `weight_decoder:` blocks as for `kind: mcu` (compute_mcu.py). A decoder
applies to weights a compressed workload stores encoded (Tensor.stored_encoding): they stream at
their stored size and decode beside the MAC array; other weights are stored as `weight_encoding` says.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tinysim.arch.compute import ComputeContext, common_unit_fields, get_op_table, get_runs
from tinysim.arch.compute_mcu import Sparsity, WeightDecoder, parse_sparsity, parse_weight_decoder
from tinysim.arch.model import OpTable
from tinysim.ops import OpKind
from tinysim.schema.fields import Bound, Where, block, get_enum, get_int, get_quantity
from tinysim.units import Dimension

KIND = "npu"


class WeightEncoding(enum.Enum):
    """How weights are stored in `weights_in`: raw int8, or entropy-coded (Ethos-U weight compression)."""

    RAW = "raw"
    ENTROPY = "entropy"  # order-0 entropy of the weight values: an ideal coder, what Vela's encoder approaches


_KEYS = (
    "kind",
    "description",
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
    "weight_encoding",
    "scale_bias_bytes_per_channel",
    "energy_per_mac",
    "energy_per_cycle",
    "nominal_voltage",
    "weights_in",
    "activations_in",
    "runs",
    "schemes",
    "sparsity",
    "weight_decoder",
)
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


def parse(name: str, mapping: Mapping[str, Any], where: Where, ctx: ComputeContext) -> NpuUnit:
    """Build an NpuUnit from its YAML block `compute.<name>`."""
    m = block(mapping, where, allowed=_KEYS, required=_REQUIRED)

    def positive_int(key: str) -> int:
        return get_int(m, key, where, bound=Bound.POSITIVE)

    return NpuUnit(
        name=name,
        kind=KIND,
        macs_per_cycle=positive_int("macs_per_cycle"),
        ublock_width=positive_int("ublock_width"),
        ublock_height=positive_int("ublock_height"),
        ublock_depth=positive_int("ublock_depth"),
        ifm_depth_per_step=positive_int("ifm_depth_per_step"),
        kernel_elements_per_step=positive_int("kernel_elements_per_step"),
        weight_fetch_cycles=get_quantity(m, "weight_fetch_cycles", where, Dimension.CYCLES, bound=Bound.NONNEGATIVE),
        pool_tap_cycles=get_quantity(m, "pool_tap_cycles", where, Dimension.CYCLES, bound=Bound.NONNEGATIVE),
        ofm_block_outputs=positive_int("ofm_block_outputs"),
        cycles_per_output=get_op_table(m, "cycles_per_output", where),
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
    )
