"""Cost model for kind `imc`: weight-stationary in-memory / near-memory compute arrays.

Mapping (one layer):
  FULLY_CONNECTED  a GEMM with K = input features rows and N = output features columns; one
                   "pixel" per input row.
  CONV_2D          im2col: K = kh * kw * in_ch rows, N = out_ch columns, one pixel per output position.
  DEPTHWISE        block-diagonal: each channel needs kh * kw rows and `depth_multiplier` columns, and
                   only its own block is non-zero, so an array holds min(rows // taps, columns // M)
                   channels and most of its cells idle (utilisation taps / rows at best).
  A GEMM larger than one array is tiled: ceil(K / rows) x ceil(N / weights_per_row) tiles, one array
  each (an array holds tiles of one layer only; partial sums of row tiles are added digitally).

Weights are loaded once and stay: the arrays of every layer placed on the unit are allocated in graph
order, and a layer that does not fit in the arrays left is a CostError naming it (we do not model
reloading weights per inference). Hence no weight-memory energy per inference.

Per output pixel and input bit-plane (inputs are bit-serial, `input_bits` planes), every tile is
activated once (analog mode: once per group of rows the ADC resolves exactly). Activations of
different arrays share a time slot up to `active_arrays` at a time, so
  cycles = overhead + pixels x input_bits x slots x cycles_per_activation
  energy = pixels x input_bits x (activations x E_activation + cells x E_cell
                                  + cell columns x (E_accumulate [+ E_conversion, analog]))
           + activation-buffer bytes (im2col inputs read once per pixel, outputs written) x memory energy
           + static power x latency;  dynamic terms scaled by (V / V_nominal)^2.
Cells are the crossings of the rows an activation drives and the cell columns it reads. A GEMM tile
drives the rows and reads the columns its weights occupy, so over all tiles cells = K x N x weight_bits
per pixel and plane (one per one-bit weight x one-bit input product). A tile holding g blocks on its
diagonal (depthwise) drives g x K rows and reads g x N x weight_bits columns, off-diagonal zero cells
included: K x N x weight_bits x g^2. Nothing depends on the data: zero inputs, zero input bits and zero
weights cost the same (no zero skipping; `events.zero_macs` is not used for MAC layers).
Non-MAC ops placed on the unit (pooling, add, reshape) cost `cycles_per_element` and
`energy_per_element` per element of work (events.elementwise).
Recurrent ops (LSTM, SVDF) keep their gate / feature matrices stationary too (`map_recurrent`): the
arrays price their matrix-vector products per time step, and the gate nonlinearities, cell update and
SVDF time filter are element work as above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tinysim.arch import Arch
from tinysim.arch.compute_imc import ImcMode, ImcUnit
from tinysim.cost.placement import place
from tinysim.cost.shape import Mapping, OpShape
from tinysim.errors import CostError
from tinysim.events import Events
from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload.graph import Graph, Op

KIND = "imc"


@dataclass(frozen=True)
class ArrayMapping:
    """How one MAC layer sits on the arrays, and what one output pixel at one input bit-plane costs."""

    pixels: int  # output positions (GEMM rows M)
    tiles: int  # arrays the layer's weights occupy
    weights: int  # weights stored (non-zero blocks only for depthwise)
    activations: int  # array activations per pixel per bit-plane
    slots: int  # activation time slots per pixel per bit-plane (active_arrays fire together)
    cell_columns: int  # used cell columns read per pixel per bit-plane (accumulates / ADC conversions)
    cells: int  # cells read (driven row x read column crossings) per pixel per bit-plane
    inputs: int  # input elements read from the activation buffer per pixel

    def utilisation(self, unit: ImcUnit) -> float:
        """Fraction of the allocated arrays' weight slots holding a weight of this layer."""
        return self.weights / (self.tiles * unit.rows * unit.weights_per_row)


# Recurrent ops whose weight matrices are stationary on the arrays (see `map_recurrent`).
RECURRENT_OPS = frozenset({OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM, OpKind.SVDF})


def map_op(graph: Graph, op: Op, unit: ImcUnit) -> tuple[ArrayMapping, ...]:
    """The array mappings of every weight matrix of `op`: one for a MAC layer, two for an LSTM (input and
    recurrent gate matrices), one for SVDF (its feature matrix); none for ops without stationary weights."""
    if op.kind in MAC_OPS:
        return (map_layer(graph, op, unit),)
    if op.kind in RECURRENT_OPS:
        return map_recurrent(graph, op, unit)
    return ()


def map_recurrent(graph: Graph, op: Op, unit: ImcUnit) -> tuple[ArrayMapping, ...]:
    """LSTM: the four input-to-gate matrices (units x input each) side by side as one K = input, N = gates x
    units GEMM, and the recurrent ones as one K = units GEMM, each applied once per time step (one "pixel"
    per step and batch row). SVDF: its feature matrix (filters x input), once per invocation; the time
    filter (a per-filter dot product over the memory) is digital work (events.elementwise)."""
    x = graph.tensor(op.inputs[0]).shape
    steps = math.prod(x[:-1])  # batch x time (either order): one gate GEMM per step and batch row
    if op.kind is OpKind.SVDF:
        w = graph.tensor(op.inputs[1]).shape
        return (_blocks(unit, x[0], w[1], w[0], 1),)
    gates_in = [graph.tensor(i).shape for i in op.inputs[1:5] if i >= 0]
    gates_rec = [graph.tensor(i).shape for i in op.inputs[5:9] if i >= 0]
    n_units = gates_in[0][0]
    return (
        _blocks(unit, steps, x[-1], n_units * len(gates_in), 1),
        _blocks(unit, steps, gates_rec[0][1], n_units * len(gates_rec), 1),
    )


def map_layer(graph: Graph, op: Op, unit: ImcUnit) -> ArrayMapping:
    """The weight-stationary mapping of MAC op `op` on `unit` (see the module docstring)."""
    w = graph.tensor(op.inputs[1]).shape
    out = graph.tensor(op.outputs[0]).shape
    if op.kind is OpKind.DEPTHWISE_CONV_2D:
        mult = op.attrs.depth_multiplier
        taps, channels = w[1] * w[2], w[3] // mult
        return _blocks(unit, math.prod(out[:-1]), taps, mult, channels)
    if op.kind is OpKind.CONV_2D:
        k, n = w[1] * w[2] * w[3], w[0]
        return _blocks(unit, math.prod(out[:-1]), k, n, 1)
    k, n = w[-1], w[0]  # FULLY_CONNECTED (out, in)
    return _blocks(unit, math.prod(out) // n, k, n, 1)


def _blocks(unit: ImcUnit, pixels: int, k: int, n: int, groups: int) -> ArrayMapping:
    """`groups` independent K x N weight blocks (1 for a GEMM, channels for depthwise) on the arrays."""
    row_tiles, col_tiles = math.ceil(k / unit.rows), math.ceil(n / unit.weights_per_row)
    per_tile = 1
    if row_tiles == col_tiles == 1:  # small blocks share an array along its diagonal
        per_tile = max(1, min(unit.rows // k, unit.weights_per_row // n))
    sets = math.ceil(groups / per_tile)  # arrays (or array tilings) the groups take, per_tile at a time
    tiles = sets * row_tiles * col_tiles
    # Analog: a column sums at most rows_per_activation products exactly -> several activations per tile.
    rows_last = k - (row_tiles - 1) * unit.rows
    rpa = unit.rows_per_activation
    acts_per_group = col_tiles * ((row_tiles - 1) * math.ceil(unit.rows / rpa) + math.ceil(rows_last / rpa))
    activations = sets * acts_per_group
    serial = math.ceil(min(k, unit.rows) / rpa)  # activations one array needs in turn
    slots = max(math.ceil(activations / unit.active_arrays), serial)
    cell_columns = groups * n * unit.weight_bits * (acts_per_group // col_tiles)
    full, rest = divmod(groups, per_tile)  # a set of g blocks on a diagonal reads (g K) x (g N bits) cells
    cells = k * n * unit.weight_bits * (full * per_tile**2 + rest**2)
    return ArrayMapping(pixels, tiles, groups * k * n, activations, slots, cell_columns, cells, groups * k)


def map_graph(graph: Graph, unit: ImcUnit, arch: Arch) -> Mapping:
    """Every MAC layer placed on `unit`, allocated arrays in graph order (CostError if the weights do not
    fit); `per_op` holds each layer's ArrayMapping. Computed once per graph and unit."""
    per_op: dict[str, tuple[ArrayMapping, ...]] = {}
    used = 0
    for op, placed in zip(graph.ops, place(graph, arch)):
        if placed is not unit:
            continue
        parts = map_op(graph, op, unit)
        for m in parts:
            if used + m.tiles > unit.arrays:
                raise _unmappable(op, m, unit, used, arch)
            used += m.tiles
        if parts:
            per_op[op.name] = parts
    return Mapping(graph, arch, per_op)


def allocation(graph: Graph, arch: Arch, unit: ImcUnit) -> dict[str, int]:
    """Arrays taken by each MAC layer placed on `unit`, in graph order; CostError if the weights do not fit."""
    return {name: sum(m.tiles for m in parts) for name, parts in map_graph(graph, unit, arch).per_op.items()}


def _unmappable(op: Op, m: ArrayMapping, unit: ImcUnit, used: int, arch: Arch) -> CostError:
    shape = f"{unit.arrays} arrays of {unit.rows} x {unit.columns} cells"
    if m.tiles > unit.arrays:
        why = f"needs {m.tiles} arrays on its own; {unit.name} has {shape}"
    else:
        why = f"needs {m.tiles} arrays but the layers before it took {used} of {shape}"
    return CostError(
        f"layer '{op.name}' ({op.kind.value}, {m.weights:,} weights of {unit.weight_bits} bits) cannot be "
        f"mapped: it {why}; weights are stationary and not reloaded per inference, so use more or larger "
        "arrays, fewer weight bits or a smaller network",
        file=str(arch.path) if getattr(arch, "path", None) else None,
        field=f"compute.{unit.name}.arrays",
    )


def structure(op: Op, events: Events, unit: ImcUnit, mapping: Mapping) -> OpShape:
    """One op on an `imc` unit, before any operating point (MAC layers as `map_graph` placed them)."""
    kind = op.kind
    parts = mapping.per_op.get(op.name, ())
    per_column = unit.energy_per_accumulate_j
    if unit.mode is ImcMode.ANALOG:
        per_column += unit.energy_per_conversion_j
    compute_cycles = float(unit.overhead_cycles.for_op(kind))
    dynamic_j = 0.0
    for m in parts:  # the weight matrices on the arrays
        planes = m.pixels * unit.input_bits
        compute_cycles += planes * m.slots * unit.cycles_per_activation
        dynamic_j += (
            planes * (m.activations * unit.energy_per_activation_j + m.cells * unit.energy_per_cell_j)
            + planes * m.cell_columns * per_column
        )
    if kind in MAC_OPS:  # im2col inputs read once per pixel
        m = parts[0]
        bytes_read = m.pixels * m.inputs * mapping.graph.tensor(op.inputs[0]).dtype.itemsize
    else:  # gate math, pooling, adds: digital element work beside the arrays
        compute_cycles += events.elementwise * unit.cycles_per_element.for_op(kind)
        dynamic_j += events.elementwise * unit.energy_per_element_j
        bytes_read = events.act_bytes_read
    act = unit.activations_in
    return OpShape(compute_cycles, 0.0, dynamic_j, 0.0, unit.nominal_voltage_v, {act: bytes_read},
                   {act: events.act_bytes_written})
