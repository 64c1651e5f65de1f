"""Cost model for kind `systolic`: an R x C MAC array running each MAC op as a GEMM, SCALE-Sim style.

Every MAC op is a GEMM  (M x K inputs) x (K x N weights) -> (M x N outputs):
  CONV_2D            M = output pixels, N = output channels, K = kh * kw * in_ch
  FULLY_CONNECTED    M = rows (batch), N = output features,  K = input features
  DEPTHWISE_CONV_2D  in_ch GEMMs of M = output pixels, N = depth multiplier, K = kh * kw
                     (one single-channel conv per channel, as SCALE-Sim splits a depthwise layer).
A dataflow decides which GEMM dimension spans the array's rows, which its columns, and which streams
through time; the dimension left out of an operand is the one along which it is re-read:

  dataflow            rows  cols  time   stationary in the PEs
  output_stationary    M     N     K     outputs (partial sums accumulate in place)
  weight_stationary    K     N     M     weights
  input_stationary     K     M     N     inputs

folds = ceil(rows_dim / R) x ceil(cols_dim / C); each fold takes
  fill   = (R if a weight or input tile must first be shifted in, else 0) + (R - 1) input skew
  stream = time_dim
  drain  = C - 1 (the last result crossing the columns)
cycles = repeats x folds x (fill + stream + drain). This is the schedule SCALE-Sim v3's compute unit
builds (its demand matrices have exactly these rows; its reported count is this minus one);
benchmarks/scalesim_compare.py checks it layer by layer.

Traffic: each operand is read from its buffer once per fold of the spatial dimension it does not
index (outputs are written once per fold of K when K is spatial, as int32 partial sums read back
and re-written between folds). A buffer is filled from its backing memory once when the operand
fits, else as often as the array reads it. Energy = array MACs (padding taps included: the array
computes them) x mac_energy + R x C x cycles x pe_cycle_energy, scaled (V / V_nominal)^2,
+ bytes x energy per byte of every memory + static power x latency. Stalls only where a memory
declares a bandwidth (roofline); SCALE-Sim with InterfaceBandwidth CALC reports none either.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinysim.arch import Arch
from tinysim.arch.compute_systolic import Dataflow, SystolicUnit
from tinysim.cost.shape import Mapping, OpShape
from tinysim.errors import CostError
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph, Op

KIND = "systolic"

# GEMM dimension on the array's rows, on its columns, and streamed in time, per dataflow.
_LAYOUT = {
    Dataflow.OUTPUT_STATIONARY: ("m", "n", "k"),
    Dataflow.WEIGHT_STATIONARY: ("k", "n", "m"),
    Dataflow.INPUT_STATIONARY: ("k", "m", "n"),
}


@dataclass(frozen=True)
class Gemm:
    """(m x k) @ (k x n), run `repeats` times (once per channel for a depthwise layer)."""

    m: int
    n: int
    k: int
    repeats: int = 1

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.repeats


@dataclass(frozen=True)
class Schedule:
    """How a GEMM runs on the array: folds, per-fold timing, operand element traffic (whole op)."""

    repeats: int
    folds: int  # per repeat
    fill_cycles: int  # per fold
    stream_cycles: int
    drain_cycles: int
    ifmap_reads: int  # elements read from the ifmap buffer
    filter_reads: int  # elements read from the filter buffer
    output_passes: int  # times each output is written (folds of K across the array, else 1)

    @property
    def fold_cycles(self) -> int:
        return self.fill_cycles + self.stream_cycles + self.drain_cycles

    @property
    def cycles(self) -> int:
        return self.repeats * self.folds * self.fold_cycles


def gemm_of(graph: Graph, op: Op) -> Gemm:
    """The GEMM view of a MAC op (weights OHWI, 1HW(C*M), (out, in))."""
    out = graph.tensor(op.outputs[0]).shape
    w = graph.tensor(op.inputs[1]).shape
    if op.kind is OpKind.CONV_2D:
        return Gemm(m=out[0] * out[1] * out[2], n=w[0], k=w[1] * w[2] * w[3])
    if op.kind is OpKind.DEPTHWISE_CONV_2D:
        mult = op.attrs.depth_multiplier
        return Gemm(m=out[0] * out[1] * out[2], n=mult, k=w[1] * w[2], repeats=w[3] // mult)
    if op.kind is OpKind.FULLY_CONNECTED:
        return Gemm(m=graph.tensor(op.outputs[0]).size // w[0], n=w[0], k=w[1])
    raise CostError(f"a systolic array runs only MAC ops, not {op.kind.value} (op '{op.name}')", field="runs")


def schedule(gemm: Gemm, rows: int, cols: int, dataflow: Dataflow) -> Schedule:
    """Folds, fill / stream / drain cycles and operand reads of `gemm` on a rows x cols array."""
    size = {"m": gemm.m, "n": gemm.n, "k": gemm.k}
    row_dim, col_dim, time_dim = _LAYOUT[dataflow]
    row_folds, col_folds = _ceil_div(size[row_dim], rows), _ceil_div(size[col_dim], cols)

    def refetch(dim: str) -> int:  # folds along the spatial dimension an operand does not index
        return row_folds if dim == row_dim else col_folds if dim == col_dim else 1

    preload = 0 if dataflow is Dataflow.OUTPUT_STATIONARY else rows
    return Schedule(
        repeats=gemm.repeats,
        folds=row_folds * col_folds,
        fill_cycles=preload + rows - 1,
        stream_cycles=size[time_dim],
        drain_cycles=cols - 1,
        ifmap_reads=gemm.m * gemm.k * refetch("n") * gemm.repeats,
        filter_reads=gemm.k * gemm.n * refetch("m") * gemm.repeats,
        output_passes=refetch("k"),
    )


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _move(reads: dict[str, int], writes: dict[str, int], src: str | None, dst: str | None, nbytes: int) -> None:
    """Count `nbytes` read from `src` and written to `dst` (nothing moves between a memory and itself)."""
    if src == dst or nbytes == 0:
        return
    if src is not None:
        reads[src] = reads.get(src, 0) + nbytes
    if dst is not None:
        writes[dst] = writes.get(dst, 0) + nbytes


def traffic(graph: Graph, op: Op, sched: Schedule, unit: SystolicUnit, arch: Arch) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes read and written per memory: buffer <-> array, and backing memory <-> buffer."""
    x, w = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    out_bytes = sum(t.nbytes for t in graph.op_outputs(op))
    weight_bytes = sum(t.nbytes for t in graph.op_inputs(op)[1:] if t is not None and t.is_constant)
    ifmap_bytes = sched.ifmap_reads * x.dtype.itemsize
    filter_bytes = sched.filter_reads * w.dtype.itemsize
    psum_bytes = (sched.output_passes - 1) * (out_bytes // graph.tensor(op.outputs[0]).dtype.itemsize)
    psum_bytes *= unit.accumulator_bytes
    reads: dict[str, int] = {}
    writes: dict[str, int] = {}
    # Backing memories fill the buffers: once if the operand fits, else as often as the array reads it.
    fits_w = weight_bytes <= arch.memory(unit.filter_buffer).size_bytes
    fits_x = x.nbytes <= arch.memory(unit.ifmap_buffer).size_bytes
    _move(reads, writes, unit.weights_in, unit.filter_buffer, weight_bytes if fits_w else filter_bytes)
    _move(reads, writes, unit.activations_in, unit.ifmap_buffer, x.nbytes if fits_x else ifmap_bytes)
    # The array reads its operands, accumulates partial sums between folds of K, writes results.
    _move(reads, writes, unit.ifmap_buffer, None, ifmap_bytes)
    _move(reads, writes, unit.filter_buffer, None, filter_bytes)
    _move(reads, writes, unit.ofmap_buffer, None, psum_bytes)
    _move(reads, writes, None, unit.ofmap_buffer, psum_bytes + out_bytes)
    _move(reads, writes, unit.ofmap_buffer, unit.activations_in, out_bytes)
    return reads, writes


STRUCTURE_READS_MEMORIES = True  # whether an operand fits its buffer depends on the buffer memory's size


def structure(op: Op, events: Events, unit: SystolicUnit, mapping: Mapping) -> OpShape:
    """One MAC op on a `systolic` unit, before any operating point."""
    gemm = gemm_of(mapping.graph, op)
    sched = schedule(gemm, unit.rows, unit.cols, unit.dataflow)
    reads, writes = traffic(mapping.graph, op, sched, unit, mapping.arch)
    return OpShape(
        compute_cycles=sched.cycles,
        post_cycles=0.0,
        dynamic_j=gemm.macs * unit.mac_energy_j,
        dynamic_per_cycle_j=unit.rows * unit.cols * unit.pe_cycle_energy_j,
        nominal_voltage_v=unit.nominal_voltage_v,
        reads=reads,
        writes=writes,
    )
