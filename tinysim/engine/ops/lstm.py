"""UNIDIRECTIONAL_SEQUENCE_LSTM, fully integer (TFLite's "8x8_16" LSTM: lstm_eval.cc EvalInteger8x8_16).

int8 input, output and weights, int8 output state and int16 cell state (variable tensors kept
across invocations), int32 biases. Each gate is two int8 matrix-vector products (input, then
recurrent state), each requantized to the gate's Q3.12 scale and summed with int16 saturation
(MatrixBatchVectorMultiplyAccumulate, zero points folded into the bias once in Prepare as
PrecomputeZeroPointTimesWeightWithBias does), then gemmlowp's 16-bit sigmoid or tanh (looked up in
tables of the functions on every int16 input, built at prepare: lstm_math.gate_tables). The cell
is forget*cell >> 15 plus input*cell_gate >> (30 + log2 cell scale), saturated and clipped;
the hidden state is output_gate * tanh(cell) requantized to int8. CIFG (no input gate) and
peephole connections (int16 diagonal weights on the old cell for the input and forget gates, on
the updated cell for the output gate: VectorBatchVectorCwiseProductAccumulate) are supported;
projection and layer normalisation are refused (they need the intermediates' quantization).

Without layer norm the four gate scales are Q3.12 by definition. The hidden state's scale is the
op's fifth intermediate; `Graph` ops do not carry intermediates yet, and then the output state's
quantization is used, which is what TFLite's quantizer gives that intermediate without projection.
Checked bit-exact against LiteRT (tests/test_op_fuzz_recurrent.py, and keras_lstm_mnist_ptq with
its state carried across invocations). Under semantics="tflm" the kernel follows TFLite Micro's own
integer LSTM (see `_tflm`), checked against TFLite Micro; it has no CIFG or peephole variant.
"""

from __future__ import annotations

import math
from dataclasses import replace
from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, rdbpot, requantize
from tinysim.engine.jit import kernel
from tinysim.engine.ops.logistic_tanh import SIGMOID_Q16, interpolate16
from tinysim.engine.ops.lstm_math import gate_tables
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import DType, Op, Tensor

LstmRow = IntEnum(
    "LstmRow",
    "x y h c wx wh bx bh mult shift n_batch n_time n_input n_cell time_major cifg cell_shift clip "
    "hidden_mult hidden_shift hidden_zp zp_x zp_h zero_wx zero_wh peephole wc c_mult c_shift "
    "tflm table kept_mult kept_shift new_mult new_shift tanh_mult tanh_shift act",
    start=0,
)
Row = LstmRow
TANH_ACTIVATION = 4  # TfLiteFusedActivation kTfLiteActTanh, the only one the integer kernel applies
# input positions: input weights 1..4, recurrent 5..8, peephole 9..11, gate biases 12..15, projection 16..17,
# output / cell state 18..19, layer norm 20..23 (gate order: input, forget, cell, output)
_PEEPHOLE, _PROJECTION, _LAYER_NORM = (9, 10, 11), (16, 17), (20, 21, 22, 23)


def _present(op: Op, positions: tuple[int, ...]) -> bool:
    return any(p < len(op.inputs) and op.inputs[p] >= 0 for p in positions)


def _float32_mul_div(a: float, b: float, c: float) -> float:
    """a * b / c in float32, as TFLite computes the effective scales (float variables)."""
    return float(np.float32(np.float32(a) * np.float32(b)) / np.float32(c))


def _checked_log2(x: float) -> int | None:
    """TFLite CheckedLog2 (float32): the exponent if x is a power of two, else None."""
    lg = np.float32(np.float32(math.log(np.float32(x))) * np.float32(1.0 / math.log(2.0)))
    rounded = np.float32(np.round(lg))
    return int(rounded) if abs(float(lg - rounded)) < 1e-3 else None


def _weights(
    ctx: PrepareContext, op: Op, positions: tuple[int, ...], rows: int, cols: int, cifg: bool
) -> list[Tensor | None]:
    out: list[Tensor | None] = []
    for p in positions:
        if cifg and p in (1, 5):
            out.append(None)
            continue
        w = ctx.const(op, p, DType.INT8)
        if w is None or w.quant is None or w.shape != (rows, cols) or w.quant.per_axis or w.quant.zero_point[0]:
            raise ctx.fail(op, f"input {p} must be per-tensor symmetric int8 weights of shape {(rows, cols)}")
        out.append(w)
    return out


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    if ctx.semantics == "tflm" and (not _present(op, (1,)) or _present(op, _PEEPHOLE)):
        raise ctx.fail(op, "TFLite Micro's integer LSTM has no CIFG or peephole variant")
    for what, positions in (("projection", _PROJECTION), ("layer norm", _LAYER_NORM)):
        if _present(op, positions):
            raise ctx.fail(op, f"integer LSTM with {what} is not supported")
    if op.attrs.option("FusedActivationFunction", TANH_ACTIVATION) != TANH_ACTIVATION:
        raise ctx.fail(op, "only the TANH cell activation is supported")
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    h, c = ctx.tensor(op, 18), ctx.tensor(op, 19)
    if not (h.variable and c.variable and h.dtype is DType.INT8 and c.dtype is DType.INT16):
        raise ctx.fail(op, "needs variable int8 output state and int16 cell state (the 8x8_16 integer LSTM)")
    if h.quant is None or c.quant is None or h.quant.per_axis or c.quant.per_axis:
        raise ctx.fail(op, "output and cell state need per-tensor quantization")
    time_major = bool(op.attrs.option("TimeMajor", False))
    if len(x.shape) == 3:
        n_time, n_batch = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    elif len(x.shape) == 2:
        n_time, n_batch = 1, x.shape[0]
    else:
        raise ctx.fail(op, f"input must be 2-D or 3-D, got {x.shape}")
    n_input = x.shape[-1]
    cifg = not _present(op, (1,))
    w_out = ctx.const(op, 4, DType.INT8)
    n_cell = w_out.shape[0] if w_out is not None and len(w_out.shape) == 2 else 0
    wx = _weights(ctx, op, (1, 2, 3, 4), n_cell, n_input, cifg)
    wh = _weights(ctx, op, (5, 6, 7, 8), n_cell, n_cell, cifg)
    if h.size != n_batch * n_cell or c.size != n_batch * n_cell or y.size != n_batch * n_time * n_cell:
        raise ctx.fail(op, f"state {h.shape}/{c.shape} or output {y.shape} does not match {n_batch}x{n_cell} cells")
    cell_log2 = _checked_log2(scale(c))
    if cell_log2 is None or not 0 <= 15 + cell_log2 <= 6:
        raise ctx.fail(op, f"cell state scale {scale(c)} must be a power of two in 2**-15 .. 2**-9")
    biases = []
    for g, p in enumerate((12, 13, 14, 15)):
        b = None if cifg and g == 0 else ctx.const(op, p, DType.INT32)
        if b is None and not (cifg and g == 0):
            raise ctx.fail(op, f"missing gate bias {p}")
        biases.append(np.zeros(n_cell, np.int64) if b is None else b.constant().astype(np.int64))
    plan = _plan(ctx, op, x, y, h, c, wx, wh, biases, n_batch, n_time, n_input, n_cell, cell_log2, time_major)
    if _present(op, _PEEPHOLE):
        _peephole(ctx, op, plan.params, n_cell, cell_log2, cifg)
        # a product, a requantization and a saturating add per peephole gate and cell, each step
        gates = 2 if cifg else 3
        plan.events = replace(plan.events, elementwise=plan.events.elementwise + 3 * gates * n_batch * n_time * n_cell)
    return plan


def _peephole(ctx: PrepareContext, op: Op, params: np.ndarray, n_cell: int, cell_log2: int, cifg: bool) -> None:
    """Peephole weights (int16, one per cell) and their effective scales 2**cell_log2 * w_scale / 2**-12."""
    wc = np.zeros((3, n_cell), np.int64)
    mult, shift = np.zeros(3, np.int32), np.zeros(3, np.int32)
    for k, position in enumerate(_PEEPHOLE):
        if cifg and k == 0:
            continue
        w = ctx.const(op, position, DType.INT16)
        if w is None or w.quant is None or w.size != n_cell or w.quant.per_axis:
            raise ctx.fail(op, f"peephole input {position} must be {n_cell} per-tensor quantized int16 weights")
        wc[k] = w.constant().ravel()
        real = float(np.float32(2.0**cell_log2 * float(np.float32(w.quant.scale[0])) / 2.0**-12))
        mult[k], shift[k] = quantize_multiplier(real)
    params[Row.peephole] = 1
    params[Row.wc], params[Row.c_mult], params[Row.c_shift] = ctx.i16.add(wc), ctx.i32.add(mult), ctx.i32.add(shift)


def _plan(ctx, op, x, y, h, c, wx, wh, biases, n_batch, n_time, n_input, n_cell, cell_log2, time_major) -> OpPlan:
    gate_scale = 2.0**-12  # Q3.12 gate inputs (no layer norm)
    wxk = np.zeros((4, n_cell, n_input), np.int64)
    whk = np.zeros((4, n_cell, n_cell), np.int64)
    mult, shift = np.zeros(8, np.int32), np.zeros(8, np.int32)
    for g in range(4):
        if wx[g] is None:
            continue
        wxk[g], whk[g] = wx[g].constant(), wh[g].constant()
        mult[g], shift[g] = quantize_multiplier(_float32_mul_div(wx[g].quant.scale[0], scale(x), gate_scale))
        mult[4 + g], shift[4 + g] = quantize_multiplier(_float32_mul_div(wh[g].quant.scale[0], scale(h), gate_scale))
    # effective biases: bias - zp * row sum (PrecomputeZeroPointTimesWeightWithBias), int32 wrap-around
    bx = (np.stack(biases) - zp(x) * wxk.sum(axis=2)).astype(np.int32)
    bh = (-zp(h) * whk.sum(axis=2)).astype(np.int32)
    # effective_hidden_scale = pow(2, -15) / hidden scale * pow(2, -15): double, stored in a float
    hidden_scale, hidden_zp = _hidden_quantization(ctx, op, h)
    hidden = float(np.float32(2.0**-15 / float(np.float32(hidden_scale)) * 2.0**-15))
    if ctx.semantics == "tflm":  # CreateInterGateMulParams (double) to the hidden state tensor's quantization
        hidden, hidden_zp = 2.0**-15 * 2.0**-15 / float(np.float32(scale(h))), zp(h)
    hidden_mult, hidden_shift = quantize_multiplier(hidden)
    clip_real = float(op.attrs.option("CellClip", 0.0) or 0.0)
    clip = 0
    if clip_real > 0:
        clip = int(min(max(np.float32(clip_real) / np.float32(scale(c)), np.float32(-32768)), np.float32(32767)))
    cifg = wx[0] is None
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), h=ctx.offset(op, 18), c=ctx.offset(op, 19),
        wx=ctx.i16.add(wxk), wh=ctx.i16.add(whk), bx=ctx.i32.add(bx), bh=ctx.i32.add(bh), mult=ctx.i32.add(mult),
        shift=ctx.i32.add(shift), n_batch=n_batch, n_time=n_time, n_input=n_input, n_cell=n_cell,
        time_major=int(time_major), cifg=int(cifg), cell_shift=30 + cell_log2, clip=clip,
        hidden_mult=hidden_mult, hidden_shift=hidden_shift, zp_x=zp(x), zp_h=zp(h), hidden_zp=hidden_zp,
        zero_wx=ctx.i32.add((wxk == 0).sum(axis=(0, 1)) - (n_cell if cifg else 0)),
        zero_wh=ctx.i32.add((whk == 0).sum(axis=(0, 1)) - (n_cell if cifg else 0)),
    )  # fmt: skip
    if ctx.semantics == "tflm":
        _tflm(ctx, params, cell_log2)
    else:  # gate sigmoid / tanh and the cell's tanh as lookup tables (see lstm_math.gate_tables)
        params[Row.act] = ctx.i16.add(gate_tables(15 + cell_log2))
    return OpPlan(params, _events(wx, wh, n_batch * n_time, n_input, n_cell, x, h, c), scratch16=5 * n_cell)


def _tflm(ctx: PrepareContext, params: np.ndarray, cell_log2: int) -> None:
    """TFLite Micro's LSTM (lstm_eval.h): the same gate products, but reference_integer_ops' interpolated
    int16 Logistic / Tanh (input multiplier 3 for Q3.12 gates) and MulElementwise for the cell and hidden
    products (MultiplyByQuantizedMultiplier by the scale ratio instead of a rounding shift)."""
    params[Row.tflm], params[Row.table] = 1, ctx.i32.add(SIGMOID_Q16)
    params[Row.kept_mult], params[Row.kept_shift] = quantize_multiplier(2.0**-15)
    params[Row.new_mult], params[Row.new_shift] = quantize_multiplier(2.0 ** (-30 - cell_log2))
    left = 15 + cell_log2 - 3  # the cell's tanh input, rescaled to Q3.12 times 3
    params[Row.tanh_mult], params[Row.tanh_shift] = (3 << left, 0) if left >= 0 else (3, -left)


def _hidden_quantization(ctx: PrepareContext, op: Op, h: Tensor) -> tuple[float, int]:
    """Scale and zero point of the hidden state: the op's fifth intermediate when the graph keeps intermediates,
    else the output state's (what TFLite's quantizer gives it without projection)."""
    mids: tuple[int, ...] = tuple(getattr(op, "intermediates", ()))
    if len(mids) == 5 and mids[4] >= 0 and ctx.graph.tensors[mids[4]].quant is not None:
        t = ctx.graph.tensors[mids[4]]
        return scale(t), zp(t)
    return scale(h), zp(h)


def _events(wx: list, wh: list, steps: int, n_input: int, n_cell: int, x: Tensor, h: Tensor, c: Tensor) -> Events:
    gates = sum(w is not None for w in wx)
    macs = steps * gates * n_cell * (n_input + n_cell)
    weight_unique = sum(w.nbytes for w in wx + wh if w is not None) + 4 * gates * n_cell
    # per step and cell: 2 requantizations and 1 saturating add per gate, the gate activations, the cell update
    # (2 products, add, clip), tanh of the cell and the hidden requantization (+ 1 - forget with CIFG)
    per_cell = 3 * gates + gates + 4 + 2 + (1 if gates == 3 else 0)
    cells = steps * n_cell
    return Events(
        macs=macs, weight_bytes_read=macs + 4 * gates * cells, act_bytes_read=macs + 2 * cells,
        act_bytes_written=cells + cells + 2 * cells, elementwise=per_cell * cells, output_elements=cells,
        weight_bytes_unique=weight_unique, act_bytes_unique_read=x.nbytes + h.nbytes + c.nbytes,
    )  # fmt: skip


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    nb, nt, ni, nc = p[Row.n_batch], p[Row.n_time], p[Row.n_input], p[Row.n_cell]
    x = arena[p[Row.x] : p[Row.x] + nb * nt * ni]
    y = arena[p[Row.y] : p[Row.y] + nb * nt * nc]
    h = arena[p[Row.h] : p[Row.h] + nb * nc]
    c = arena[p[Row.c] : p[Row.c] + 2 * nb * nc].view(np.int16)
    wx = i16[p[Row.wx] : p[Row.wx] + 4 * nc * ni].reshape(4, nc, ni)
    wh = i16[p[Row.wh] : p[Row.wh] + 4 * nc * nc].reshape(4, nc, nc)
    bx = i32[p[Row.bx] : p[Row.bx] + 4 * nc].reshape(4, nc)
    bh = i32[p[Row.bh] : p[Row.bh] + 4 * nc].reshape(4, nc)
    mult, shift = i32[p[Row.mult] : p[Row.mult] + 8], i32[p[Row.shift] : p[Row.shift] + 8]
    zero_wx, zero_wh = i32[p[Row.zero_wx] : p[Row.zero_wx] + ni], i32[p[Row.zero_wh] : p[Row.zero_wh] + nc]
    gates = s16[: 5 * nc].reshape(5, nc)
    first = 1 if p[Row.cifg] else 0
    peephole = p[Row.peephole] == 1
    tflm = p[Row.tflm] == 1
    table = i32[p[Row.table] : p[Row.table] + 256]
    # logistic Q3.12 at 0, tanh Q3.12 at 65536, the cell's tanh at 131072; each indexed by input + 32768
    act = i16[p[Row.act] : p[Row.act] + 3 * 65536]
    wc = i16[p[Row.wc] : p[Row.wc] + 3 * nc].reshape(3, nc)
    c_mult, c_shift = i32[p[Row.c_mult] : p[Row.c_mult] + 3], i32[p[Row.c_shift] : p[Row.c_shift] + 3]
    zero_macs = 0
    zeros = 0
    for b in range(nb):
        hb, cb = h[b * nc : (b + 1) * nc], c[b * nc : (b + 1) * nc]
        for t in range(nt):
            at = t * nb + b if p[Row.time_major] else b * nt + t
            xt = x[at * ni : (at + 1) * ni]
            for g in range(first, 4):
                if g == 3:  # the output gate sees the updated cell through its peephole
                    if tflm:
                        _update_cell_tflm(cb, gates, p[Row.kept_mult], p[Row.kept_shift], p[Row.new_mult],
                                          p[Row.new_shift], p[Row.clip])  # fmt: skip
                    else:
                        _update_cell(cb, gates, first == 1, p[Row.cell_shift], p[Row.clip])
                _gate(xt, hb, wx[g], wh[g], bx[g], bh[g], mult[g], shift[g], mult[4 + g], shift[4 + g], gates[g])
                if peephole and g != 2:
                    k = 2 if g == 3 else g
                    for r in range(nc):
                        v = requantize(np.int64(wc[k, r]) * np.int64(cb[r]), c_mult[k], c_shift[k], TFLITE)
                        gates[g, r] = min(max(v + np.int64(gates[g, r]), -32768), 32767)
                if tflm:
                    interpolate16(gates[g], gates[g], table, 3, 0, g == 2)
                    continue
                base = 65536 + 32768 if g == 2 else 32768
                for r in range(nc):
                    gates[g, r] = act[base + np.int64(gates[g, r])]
            yt = y[at * nc : (at + 1) * nc]
            if tflm:
                interpolate16(cb, gates[4], table, p[Row.tanh_mult], p[Row.tanh_shift], True)
            for r in range(nc):
                th = np.int64(gates[4, r]) if tflm else np.int64(act[2 * 65536 + 32768 + np.int64(cb[r])])
                v = requantize(np.int64(gates[3, r]) * th, p[Row.hidden_mult], p[Row.hidden_shift], TFLITE)
                yt[r] = min(max(v + p[Row.hidden_zp], -128), 127)
                zeros += yt[r] == p[Row.zp_h]
            if count:
                for i in range(ni):
                    zero_macs += (4 - first) * nc if xt[i] == p[Row.zp_x] else zero_wx[i]
                for j in range(nc):
                    zero_macs += (4 - first) * nc if hb[j] == p[Row.zp_h] else zero_wh[j]
            hb[:] = yt
    return zero_macs, zeros


@kernel
def _gate(xt, hb, wx, wh, bx, bh, mx, sx, mh, sh, out):
    """Two MatrixBatchVectorMultiplyAccumulate into a zeroed int16 gate: each product requantized, then
    added to the gate with int16 saturation."""
    for r in range(out.shape[0]):
        acc = np.int32(bx[r])
        for i in range(xt.shape[0]):
            acc += np.int32(xt[i]) * np.int32(wx[r, i])
        v = min(max(requantize(acc, mx, sx, TFLITE), -32768), 32767)
        acc = np.int32(bh[r])
        for j in range(hb.shape[0]):
            acc += np.int32(hb[j]) * np.int32(wh[r, j])
        out[r] = min(max(requantize(acc, mh, sh, TFLITE) + v, -32768), 32767)


@kernel
def _update_cell(cell, gates, cifg, cell_shift, clip):
    """UpdateLstmCellInteger: cell = sat(forget * cell >> 15 + input * cell_gate >> cell_shift), clipped."""
    for r in range(cell.shape[0]):
        f = np.int64(gates[1, r])
        i = 32767 - f if cifg else np.int64(gates[0, r])
        kept = rdbpot(f * np.int64(cell[r]), 15)
        new = rdbpot(i * np.int64(gates[2, r]), cell_shift)
        v = min(max(kept + new, -32768), 32767)
        if clip > 0:
            v = min(max(v, -clip), clip)
        cell[r] = v


@kernel
def _update_cell_tflm(cell, gates, kept_mult, kept_shift, new_mult, new_shift, clip):
    """TFLite Micro's UpdateLstmCell: two MulElementwise (int16, saturated), a saturating add, the clip."""
    for r in range(cell.shape[0]):
        kept = requantize(np.int64(gates[1, r]) * np.int64(cell[r]), kept_mult, kept_shift, TFLITE)
        new = requantize(np.int64(gates[0, r]) * np.int64(gates[2, r]), new_mult, new_shift, TFLITE)
        v = min(max(kept, -32768), 32767) + min(max(new, -32768), 32767)
        v = min(max(v, -32768), 32767)
        if clip > 0:
            v = min(max(v, -clip), clip)
        cell[r] = v
