"""Cost model for kind `npu`: an Ethos-U-like MAC array scheduled in output micro-blocks.

Learned from the structure of Arm Vela's performance estimate (ethos-u-vela, npu_performance.py),
simplified: the whole output plane is one block, no sub-kernel splitting, no burst efficiency.

Compute cycles (per op, `unit` fields from the YAML; ceil = round up):
    n_xy = ceil(W_out / ublock_width) x ceil(H_out / ublock_height)    micro-blocks per output plane
    n_z  = ceil(C_out / ublock_depth)                                    output-channel groups
    step = ifm_depth_per_step x ublock elements / macs_per_cycle         cycles of one micro-block step
    pass = max(weight_fetch_cycles, step x n_xy)                         one step over the whole plane
  CONV_2D            n_z x pass x min(KH·KW x ceil(C_in / ifm_depth_per_step),                  depth first
                                      ceil(KH·KW / k) x ceil(C_in / (ifm_depth_per_step / k)))  part kernel
                     with k = kernel_elements_per_step (the array's better order is taken, as Vela does)
  DEPTHWISE_CONV_2D  n_z x pass x ceil(KH·KW / k)
  FULLY_CONNECTED    a 1x1 convolution over the batch rows
  pooling            n_z x n_xy x max(k, KH·KW) x pool_tap_cycles       one window tap at a time
  other ops          no array work
Output stage: output elements x cycles_per_output (by op kind). The array and the output stage work on
successive output blocks of `ofm_block_outputs` elements, so an op with N blocks takes
    npu = max(array, output) + min(array, output) / N.
Memory: compressed weights (+ scale/bias bytes per output channel) from `weights_in`, input and
output tensors once each in `activations_in` (the NPU reuses them on chip, unlike a CPU kernel), as the bus
moves them (`moved_bytes`: depth rounded to `brick_depth` between NPU ops; a graph input whose pixel is not one
IFM block depth read in short bursts, e.g. a 3-channel image at 1/4 of the bus's `burst_bytes` efficiency);
DMA overlaps compute, so
    cycles = max(npu, bytes / bandwidth of each memory) + overhead_cycles.
Not modelled: the re-reading of IFM block halos (Vela's IFM blocks overlap by the kernel; it shows on stride-2
depthwise layers: VWW's 12x12x32 one is 43 % under Vela on ethos-u65-512).
Energy = MACs x energy_per_mac + cycles x energy_per_cycle (both x (V / V_nominal)^2)
       + bytes x energy per byte of each memory + static power x latency.
Optional unit flags (arch/compute_mcu.py):
  sparsity        the MAC-proportional array time shrinks to the share of MACs with a non-zero
                  weight, plus skipped MACs x cycles_per_skipped_mac; skipped MACs cost no energy_per_mac;
  weight_decoder  weights a compressed workload stores encoded stream at their stored size (+ scale/bias
                  bytes per channel) and are decoded beside the array: npu = max(npu, weights x
                  cycles_per_weight), + weights x energy_per_weight.
"""

from __future__ import annotations

import math

import numpy as np

from tinysim.arch.compute_npu import NpuUnit, WeightEncoding
from tinysim.cost.shape import Mapping, OpShape
from tinysim.cost.weights import decoded_weights, skipped_mac_cycles, skipped_macs
from tinysim.events import Events
from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload.graph import Graph, Op, Tensor

KIND = "npu"

_POOLS = frozenset({OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D})


def structure(op: Op, events: Events, unit: NpuUnit, mapping: Mapping) -> OpShape:
    """One op's events on an `npu` unit, before any operating point."""
    graph = mapping.graph
    outputs = sum(t.size for t in graph.op_outputs(op))
    array = mac_array_cycles(graph, op, unit)
    skipped = skipped_macs(graph, op, events, unit)
    if skipped:
        array = array * (events.macs - skipped) / events.macs + skipped * skipped_mac_cycles(unit)
    npu_cycles = pipelined_cycles(array, outputs * unit.cycles_per_output_for(op.kind), outputs, unit)
    coded = decoded_weights(graph, op, unit)
    decode_energy = 0.0
    if coded is not None:
        npu_cycles = max(npu_cycles, coded.decode_cycles)
        decode_energy = coded.decode_energy_j
    weight_bytes = encoded_weight_bytes(graph, op, unit)
    act_read, act_written = activation_bytes(graph, op, unit)
    reads = {unit.weights_in: weight_bytes}
    reads[unit.activations_in] = reads.get(unit.activations_in, 0) + act_read
    return OpShape(
        compute_cycles=npu_cycles,
        post_cycles=unit.overhead_cycles_for(op.kind),
        dynamic_j=(events.macs - skipped) * unit.energy_per_mac_j + decode_energy,
        dynamic_per_cycle_j=unit.energy_per_cycle_j,
        nominal_voltage_v=unit.nominal_voltage_v,
        reads=reads,
        writes={unit.activations_in: act_written},
        weight_bytes=weight_bytes,
    )


def pipelined_cycles(array_cycles: float, output_cycles: float, outputs: int, unit: NpuUnit) -> float:
    """Array and output stage overlap across output blocks: the slower stage for every block, plus the
    faster stage's share of one block (N blocks of `ofm_block_outputs`: max + min / N)."""
    blocks = max(1, _ceil(outputs, unit.ofm_block_outputs))
    return max(array_cycles, output_cycles) + min(array_cycles, output_cycles) / blocks


def mac_array_cycles(graph: Graph, op: Op, unit: NpuUnit) -> float:
    """Cycles the MAC array is busy on `op` (see the module docstring); 0 for ops without array work."""
    if op.kind not in MAC_OPS and op.kind not in _POOLS:
        return 0.0
    out_shape = graph.op_outputs(op)[0].shape
    if op.kind == OpKind.FULLY_CONNECTED:
        k_h = k_w = 1
        rows, c_out = math.prod(out_shape[:-1]), out_shape[-1]
        c_in = graph.tensor(op.inputs[1]).shape[-1]
        n_xy = _ceil(rows, unit.ublock_width)
    else:
        _, h_out, w_out, c_out = out_shape
        n_xy = _ceil(w_out, unit.ublock_width) * _ceil(h_out, unit.ublock_height)
        if op.kind in _POOLS:
            k_h, k_w = op.attrs.filter_h, op.attrs.filter_w
        else:
            _, k_h, k_w, c_in = graph.tensor(op.inputs[1]).shape
    n_z = _ceil(c_out, unit.ublock_depth)
    taps, k = k_h * k_w, unit.kernel_elements_per_step
    if op.kind in _POOLS:
        return n_z * n_xy * max(k, taps) * unit.pool_tap_cycles
    plane_pass = max(unit.weight_fetch_cycles, unit.step_cycles * n_xy)
    if op.kind == OpKind.DEPTHWISE_CONV_2D:
        return n_z * plane_pass * _ceil(taps, k)
    depth_first = taps * _ceil(c_in, unit.ifm_depth_per_step)
    part_kernel = _ceil(taps, k) * _ceil(c_in, max(1, unit.ifm_depth_per_step // k))
    return n_z * plane_pass * min(depth_first, part_kernel)


def activation_bytes(graph: Graph, op: Op, unit: NpuUnit) -> tuple[int, int]:
    """(input, output) activation bytes the NPU moves over the bus: each tensor once (a RESHAPE is a view:
    none), in its layout and with the burst inefficiency of reading it (see `moved_bytes`)."""
    if op.kind == OpKind.RESHAPE:
        return 0, 0
    at_edge = {*graph.inputs, *graph.outputs}
    read = sum(
        moved_bytes(graph.tensors[i], i in at_edge, unit, reading=True)
        for i in op.inputs
        if i >= 0 and not graph.tensors[i].is_constant
    )
    return read, sum(moved_bytes(graph.tensors[i], i in at_edge, unit, reading=False) for i in op.outputs)


def moved_bytes(tensor: Tensor, at_edge: bool, unit: NpuUnit, *, reading: bool) -> int:
    """Bus bytes to move `tensor` once (Vela 5.2.0 regor ethos_u55_performance.cpp, MeasureElementAccess and
    EstimateMemoryTransfer). Between NPU ops a tensor is stored in bricks of `brick_depth` channels (NHCWB16),
    so its depth is rounded up to a whole brick. A graph input or output keeps the host's packed NHWC layout;
    reading it, the NPU fetches one IFM block depth (`ifm_block_depth_step` channels granules, at most
    `ifm_depth_per_step`) per pixel, so unless a pixel's channels are exactly one block depth each burst
    carries only that depth: the bus moves burst_bytes / min(burst_bytes, block depth bytes) times the data."""
    shape, item = tensor.shape or (1,), tensor.dtype.itemsize
    channels, pixels = shape[-1], math.prod(shape[:-1])
    if not at_edge:
        return pixels * _round_up(channels, unit.brick_depth) * item if unit.brick_depth else tensor.nbytes
    if not reading or not (unit.burst_bytes and unit.ifm_block_depth_step):
        return tensor.nbytes
    block_depth_bytes = _round_up(min(channels, unit.ifm_depth_per_step), unit.ifm_block_depth_step) * item
    if block_depth_bytes == channels * item:
        return tensor.nbytes
    return math.ceil(tensor.nbytes * unit.burst_bytes / min(unit.burst_bytes, block_depth_bytes))


def _round_up(a: int, b: int) -> int:
    return _ceil(a, b) * b if b else a


def encoded_weight_bytes(graph: Graph, op: Op, unit: NpuUnit) -> int:
    """Bytes of `op`'s weights as stored for the NPU: values (as the workload stores them where the unit
    decodes that encoding, else raw or entropy-coded as `weight_encoding` says) + scale/bias per channel."""
    if op.kind not in MAC_OPS:
        return 0
    weights = graph.tensor(op.inputs[1])
    channels = weights.shape[0] if op.kind != OpKind.DEPTHWISE_CONV_2D else weights.shape[-1]
    coded = decoded_weights(graph, op, unit)
    if coded is not None:
        value_bytes = coded.stored_bytes
    elif unit.weight_encoding is WeightEncoding.ENTROPY and weights.data is not None:
        value_bytes = math.ceil(weights.size * _entropy_bits(weights.data) / 8)
    else:
        value_bytes = weights.nbytes
    return value_bytes + channels * unit.scale_bias_bytes_per_channel


def _entropy_bits(values: np.ndarray) -> float:
    """Order-0 entropy of the values in bits per value (what an ideal per-tensor coder needs)."""
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def _ceil(a: int, b: int) -> int:
    return -(-a // b)
