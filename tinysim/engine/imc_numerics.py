"""In-memory-compute numerics: what an analog MAC array does to a layer's int8 arithmetic.

Model (one `ImcNumerics` per run, applied to CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED):

- Weights are requantized to `weight_bits` (symmetric, per output channel, scale = max|w| / qmax);
  the bias and the requantization multiplier are rescaled to the new weight scale so the graph
  still runs through the normal per-channel output stage. 8-bit weights are kept as they are.
- Inputs go in bit-serially as unsigned u = x + 128 (0..255): TFLite's accumulator
  Σ w·(x - zp) = Σ w·u - (zp + 128)·Σ w. The first term is analog; the second is a per-channel
  constant that the digital periphery folds into the bias, exactly (it is 0 after a ReLU, where
  zp = -128). Padded conv taps drive the pad value u = zp + 128, as the exact engine's im2col.
  With `input_bits` < 8, u is rounded to its top `input_bits` bits first.
- Columns. Default: one output channel is one column of multi-level (or differential) cells
  holding the signed weight. `bit_sliced=True`: one-bit cells, a weight spread over `weight_bits`
  columns in two's complement (slice j weighs 2**j, the top slice -2**(weight_bits-1)), as
  tinysim/arch/compute_imc.py's arrays; each column sum then counts one-bit products (0..rows).
- The reduction length K is split into chunks of `rows_per_array` rows; each (chunk, input
  bit-plane, column) sum is one ADC conversion: Gaussian noise (`noise_sigma_lsb` ADC LSBs,
  seeded) is added, the value is divided by the LSB, rounded, clipped to the 2**adc_bits codes
  ([-2**(b-1), 2**(b-1) - 1] for signed multi-level columns, [0, 2**b - 1] for one-bit columns).
  Codes are shifted and added digitally and scaled back by the LSB (rounded once, to the int32
  accumulator). The LSB is 2·full_scale / 2**adc_bits (signed) or full_scale / (2**adc_bits - 1)
  (unsigned), at least one unit cell current: an ADC finer than that resolves every sum exactly
  (so a bit-sliced array with rows <= 2**adc_bits - 1 is exact, as the spec's analog mode assumes).
- Full scale per column: `full_scale_fraction` × the worst case (rows × max|w| of that column;
  rows for one-bit cells; 1.0 never clips), or, with `calibrate_percentile`, that percentile of
  |column sum| seen over the layer on seeded calibration inputs run through the digital array.

`adc_bits=None` is a digital (exact) array: with 8-bit weights, bit-identical to the exact engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, activation_range, quantize_multipliers
from tinysim.engine.program import pack
from tinysim.errors import TinysimError
from tinysim.ops import OpKind, window
from tinysim.workload.graph import Graph, Op, Padding

MAC_KINDS = frozenset({OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED})
# A MAC layer's geometry as a row (ImcLayer.geometry), read by name in the kernels.
ImcGeometry = IntEnum("ImcGeometry", "n h wd c oh ow oc kh kw sh sw dh dw ph pw groups", start=0)
Geometry = ImcGeometry  # the name the kernels use; the class name shows in pack's errors


@dataclass(frozen=True)
class ImcNumerics:
    """How an in-memory-compute unit quantizes a MAC layer (see the module docstring)."""

    weight_bits: int = 8
    input_bits: int = 8
    adc_bits: int | None = None  # None: digital readout, exact
    rows_per_array: int = 64
    full_scale_fraction: float = 1.0  # of the worst case rows × max|w|
    calibrate_percentile: float | None = None  # e.g. 99.9: full scale from calibration instead
    noise_sigma_lsb: float = 0.0
    seed: int = 0
    bit_sliced: bool = False  # one-bit cells, weight_bits columns per weight (else one multi-level column)

    def __post_init__(self) -> None:
        if not 2 <= self.weight_bits <= 8:
            raise TinysimError(f"weight_bits must be 2..8, got {self.weight_bits}")
        if not 1 <= self.input_bits <= 8:
            raise TinysimError(f"input_bits must be 1..8, got {self.input_bits}")
        if self.adc_bits is not None and not 1 <= self.adc_bits <= 24:
            raise TinysimError(f"adc_bits must be 1..24 or None (digital), got {self.adc_bits}")
        if self.rows_per_array < 1:
            raise TinysimError(f"rows_per_array must be >= 1, got {self.rows_per_array}")
        if not 0.0 < self.full_scale_fraction <= 1.0:
            raise TinysimError(f"full_scale_fraction must be in (0, 1], got {self.full_scale_fraction}")
        if self.calibrate_percentile is not None and not 0.0 < self.calibrate_percentile <= 100.0:
            raise TinysimError(f"calibrate_percentile must be in (0, 100], got {self.calibrate_percentile}")
        if self.noise_sigma_lsb < 0.0:
            raise TinysimError(f"noise_sigma_lsb must be >= 0, got {self.noise_sigma_lsb}")
        if self.noise_sigma_lsb > 0.0 and self.adc_bits is None:
            raise TinysimError("noise_sigma_lsb is in ADC LSBs: it needs adc_bits")

    @property
    def exact(self) -> bool:
        return self.adc_bits is None and self.weight_bits == 8 and self.input_bits == 8


@dataclass(frozen=True, eq=False)
class ImcLayer:
    """One MAC op prepared for the IMC kernel: weights as (oc, K) columns, folded bias, output stage."""

    op_index: int
    geometry: np.ndarray  # int64 row laid out by `Geometry`
    w: np.ndarray  # (oc, K) int32, requantized to weight_bits
    bias: np.ndarray  # (oc,) int64: bias - (zp_in + 128) * sum(w)
    mult: np.ndarray  # (oc,) int32
    shift: np.ndarray  # (oc,) int32
    zero_w: np.ndarray  # (groups, K) int64: zero weights per tap among the group's channels
    zp_in: int
    zp_out: int
    lo: int
    hi: int
    mode: int  # output stage rounding (RUY / TFLITE), as the exact engine
    worst_case: np.ndarray  # (oc,) float64: largest |column sum| (rows × max|w|, or rows if bit-sliced)
    cells: np.ndarray  # (oc, slices, K) int32: what each column's cells hold (the weight, or one of its bits)
    slice_weight: np.ndarray  # (slices,) int64: digital weight of each slice's column (1; or ±2**j)

    @property
    def k(self) -> int:
        return self.w.shape[1]

    @property
    def output_elements(self) -> int:
        g = self.geometry
        return int(g[Geometry.n] * g[Geometry.oh] * g[Geometry.ow] * g[Geometry.oc])


def requantize_weights(w: np.ndarray, scales: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row requantization of int weights (rows = output channels) to `bits`.

    Returns (weights, per-row scales). 8 bits keeps the weights and scales unchanged.
    """
    w = np.asarray(w, np.int64)
    scales = np.broadcast_to(np.asarray(scales, np.float64), (w.shape[0],)).copy()
    if bits >= 8:
        return w.astype(np.int32), scales
    qmax = 2 ** (bits - 1) - 1
    peak = np.abs(w).max(axis=1)
    new_scales = np.where(peak > 0, scales * peak / qmax, scales)
    real = w * scales[:, None]
    q = np.clip(np.round(real / new_scales[:, None]), -qmax, qmax).astype(np.int32)
    return q, new_scales


def prepare_layer(graph: Graph, index: int, numerics: ImcNumerics, semantics: str = "litert") -> ImcLayer:
    """Weights, folded bias, multipliers and geometry of MAC op `index` for the IMC kernel."""
    op = graph.ops[index]
    if op.kind not in MAC_KINDS:
        raise TinysimError(f"layer {index} '{op.name}' is {op.kind.value}, not a MAC op an IMC array runs")
    x, wt, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    bt = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
    geometry, w_cols, groups = _columns(op, x.shape, wt.constant())
    oc = w_cols.shape[0]
    w_scales = np.asarray(wt.quantized().scale, np.float64)
    wq, new_scales = requantize_weights(w_cols, w_scales, numerics.weight_bits)
    bias = bt.constant().astype(np.int64) if bt is not None else np.zeros(oc, np.int64)
    if numerics.weight_bits < 8:
        bias = np.round(bias * np.broadcast_to(w_scales, (oc,)) / new_scales).astype(np.int64)
    xq, yq = x.quantized(), y.quantized()
    sx, zx = float(xq.scale[0]), int(xq.zero_point[0])
    sy, zy = float(yq.scale[0]), int(yq.zero_point[0])
    mult, shift = quantize_multipliers(sx * new_scales / sy)
    lo, hi = activation_range(op.attrs.activation.value, sy, zy)
    mode = TFLITE if op.kind is OpKind.DEPTHWISE_CONV_2D or semantics != "litert" else RUY
    per_group = oc // groups
    zero_w = (wq == 0).reshape(groups, per_group, -1).sum(axis=1).astype(np.int64)
    rows = min(numerics.rows_per_array, wq.shape[1])
    return ImcLayer(
        op_index=index, geometry=geometry, w=np.ascontiguousarray(wq),
        bias=bias - (zx + 128) * wq.sum(axis=1, dtype=np.int64), mult=mult, shift=shift, zero_w=zero_w,
        zp_in=zx, zp_out=zy, lo=lo, hi=hi, mode=mode,
        **_cells(wq, numerics, rows),
    )  # fmt: skip


def _cells(wq: np.ndarray, numerics: ImcNumerics, rows: int) -> dict[str, np.ndarray]:
    if not numerics.bit_sliced:
        return {
            "cells": np.ascontiguousarray(wq[:, None, :]),
            "slice_weight": np.ones(1, np.int64),
            "worst_case": rows * np.abs(wq).max(axis=1).astype(np.float64),
        }
    wb = numerics.weight_bits
    twos = wq.astype(np.int64) & ((1 << wb) - 1)
    bits = np.stack([(twos >> j) & 1 for j in range(wb)], axis=1).astype(np.int32)
    weights = np.array([1 << j for j in range(wb - 1)] + [-(1 << (wb - 1))], np.int64)
    return {"cells": bits, "slice_weight": weights, "worst_case": np.full(wq.shape[0], float(rows))}


def _columns(op: Op, x_shape: tuple[int, ...], w: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(geometry, weights as (oc, K) columns, groups): FC is a 1x1 conv; depthwise has one group per channel."""
    a = op.attrs
    if op.kind is OpKind.FULLY_CONNECTED:
        n_out, n_in = w.shape
        batches = int(np.prod(x_shape)) // n_in
        geo = pack(Geometry, n=batches, h=1, wd=1, c=n_in, oh=1, ow=1, oc=n_out, kh=1, kw=1, sh=1, sw=1, dh=1, dw=1,
                   ph=0, pw=0, groups=1)  # fmt: skip
        return geo, w.astype(np.int32), 1
    n, h, wd, c = x_shape
    same = a.padding is Padding.SAME
    if op.kind is OpKind.CONV_2D:
        oc, kh, kw, _ = w.shape
        cols, groups = w.reshape(oc, kh * kw * c), 1
    else:
        _, kh, kw, oc = w.shape
        cols, groups = w.reshape(kh * kw, oc).T, c
    oh, ph = window(h, kh, a.stride_h, a.dilation_h, same)
    ow, pw = window(wd, kw, a.stride_w, a.dilation_w, same)
    geo = pack(Geometry, n=n, h=h, wd=wd, c=c, oh=oh, ow=ow, oc=oc, kh=kh, kw=kw, sh=a.stride_h, sw=a.stride_w,
               dh=a.dilation_h, dw=a.dilation_w, ph=ph, pw=pw, groups=groups)  # fmt: skip
    return geo, np.ascontiguousarray(cols, np.int32), groups


def adc_lsb(layer: ImcLayer, numerics: ImcNumerics, calibrated_full_scale: float | None = None) -> np.ndarray:
    """Per-column ADC LSB in unit cell currents (>= 1); ones when the readout is digital."""
    oc = layer.w.shape[0]
    if numerics.adc_bits is None:
        return np.ones(oc, np.float64)
    if calibrated_full_scale is not None:
        fs = np.full(oc, calibrated_full_scale, np.float64)
    else:
        fs = numerics.full_scale_fraction * layer.worst_case
    levels = 2.0**numerics.adc_bits - 1.0 if numerics.bit_sliced else 2.0**numerics.adc_bits / 2.0
    return np.maximum(fs / levels, 1.0)


def adc_codes(numerics: ImcNumerics) -> tuple[int, int]:
    """Lowest and highest ADC output code: unsigned for one-bit columns, two's complement otherwise."""
    if numerics.adc_bits is None:
        return 0, 0
    if numerics.bit_sliced:
        return 0, 2**numerics.adc_bits - 1
    return -(2 ** (numerics.adc_bits - 1)), 2 ** (numerics.adc_bits - 1) - 1


def conversions(layer: ImcLayer, numerics: ImcNumerics) -> int:
    """ADC conversions of one inference: output elements × input bit-planes × row chunks × columns per weight."""
    if numerics.adc_bits is None:
        return 0
    chunks = -(-layer.k // numerics.rows_per_array)
    return layer.output_elements * numerics.input_bits * chunks * layer.cells.shape[1]
