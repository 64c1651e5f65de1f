"""Single-op UNIDIRECTIONAL_SEQUENCE_LSTM and SVDF `.tflite` models (int8, int16 state) for the recurrent tests.

TFLite's integer LSTM reads operator intermediates (the hidden state's scale), which `op_model` passes to
`tflite_builder.single_op_model`. Parameters are plain values, so a
failing case prints what rebuilds it: `build_lstm(**params)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tflite
from tflite_builder import FLOAT32, INT8, INT16, INT32, Options, TensorSpec, single_op_model

LSTM = tflite.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
SVDF = tflite.BuiltinOperator.SVDF


def op_model(op_code: int, tensors: Sequence[TensorSpec], op_inputs: Sequence[int], op_outputs: Sequence[int],
             options: Options, intermediates: Sequence[int] = ()) -> bytes:  # fmt: skip
    """A one-operator model with the operator's intermediates (tflite_builder.single_op_model)."""
    return single_op_model(op_code, tensors, op_inputs=op_inputs, op_outputs=op_outputs, options=options,
                           intermediates=intermediates)  # fmt: skip


def _q(name, shape, dtype, s, z=0, **kw) -> TensorSpec:
    return TensorSpec(name, tuple(shape), dtype, scale=(float(np.float32(s)),), zero_point=(int(z),), **kw)


def build_lstm(n_batch: int, n_time: int, n_input: int, n_cell: int, time_major: bool, cifg: bool, cell_clip: float,
               in_scale: float, in_zp: int, h_scale: float, h_zp: int, cell_log2: int, w_scales: Sequence[float],
               w_max: int, bias_bits: int, seed: int, peephole: bool = False,
               peephole_scale: float = 2.0**-14) -> tuple[bytes, list[np.ndarray]]:  # fmt: skip
    """An 8x8_16 integer LSTM (optional CIFG and int16 peephole weights; no projection or layer norm) and one
    int8 input."""
    rng = np.random.default_rng(seed)
    x_shape = (n_time, n_batch, n_input) if time_major else (n_batch, n_time, n_input)
    t = [_q("x", x_shape, INT8, in_scale, in_zp)]
    slots = [0] + [-1] * 23
    for k in range(8):  # input weights (gates i f c o), then recurrent weights
        if cifg and k in (0, 4):
            continue
        cols = n_input if k < 4 else n_cell
        w = rng.integers(-w_max, w_max + 1, size=(n_cell, cols), dtype=np.int8)
        slots[1 + k] = len(t)
        t.append(_q(f"w{k}", (n_cell, cols), INT8, w_scales[k], data=w))
    for k in range(3 if peephole else 0):  # cell_to_input, cell_to_forget, cell_to_output
        if cifg and k == 0:
            continue
        slots[9 + k] = len(t)
        w = rng.integers(-32767, 32768, size=n_cell).astype(np.int16)
        t.append(_q(f"p{k}", (n_cell,), INT16, peephole_scale, data=w))
    for g in range(4):
        if cifg and g == 0:
            continue
        bias = rng.integers(-(1 << bias_bits), 1 << bias_bits, size=n_cell).astype(np.int32)
        slots[12 + g] = len(t)
        t.append(_q(f"b{g}", (n_cell,), INT32, float(np.float32(in_scale) * np.float32(w_scales[g])), data=bias))
    slots[18], slots[19] = len(t), len(t) + 1
    t.append(_q("h", (n_batch, n_cell), INT8, h_scale, h_zp, variable=True))
    t.append(_q("c", (n_batch, n_cell), INT16, 2.0**cell_log2, variable=True))
    y_shape = (n_time, n_batch, n_cell) if time_major else (n_batch, n_time, n_cell)
    out = len(t)
    t.append(_q("y", y_shape, INT8, h_scale, h_zp))
    mids = list(range(len(t), len(t) + 5))
    t += [TensorSpec(f"gate{g}", (0,), FLOAT32) for g in range(4)] + [_q("hidden", (0,), INT8, h_scale, h_zp)]
    options = Options("UnidirectionalSequenceLSTMOptions", {
        "FusedActivationFunction": 4, "CellClip": cell_clip, "ProjClip": 0.0, "TimeMajor": time_major,
    })  # fmt: skip
    model = op_model(LSTM, t, slots, [out], options, mids)
    return model, [np.random.default_rng(seed + 1).integers(-128, 128, size=x_shape, dtype=np.int8)]


def build_svdf(n_batch: int, n_input: int, n_filter: int, n_memory: int, rank: int, activation: int, in_scale: float,
               in_zp: int, out_scale: float, out_zp: int, w_feat_scale: float, w_time_scale: float, state_scale: float,
               with_bias: bool, seed: int) -> tuple[bytes, list[np.ndarray]]:  # fmt: skip
    """An int8 SVDF (int16 time weights and activation state) and one int8 input."""
    rng = np.random.default_rng(seed)
    n_unit = n_filter // rank
    t = [
        _q("x", (n_batch, n_input), INT8, in_scale, in_zp),
        _q("w_feature", (n_filter, n_input), INT8, w_feat_scale,
           data=rng.integers(-127, 128, size=(n_filter, n_input), dtype=np.int8)),
        _q("w_time", (n_filter, n_memory), INT16, w_time_scale,
           data=rng.integers(-32767, 32768, size=(n_filter, n_memory)).astype(np.int16)),
    ]  # fmt: skip
    bias = -1
    if with_bias:
        bias = len(t)
        t.append(
            _q(
                "b",
                (n_unit,),
                INT32,
                float(np.float32(state_scale) * np.float32(w_time_scale)),
                data=rng.integers(-(1 << 12), 1 << 12, size=n_unit).astype(np.int32),
            )
        )
    state = len(t)
    t.append(_q("state", (n_batch, n_memory * n_filter), INT16, state_scale, variable=True))
    out = len(t)
    t.append(_q("y", (n_batch, n_unit), INT8, out_scale, out_zp))
    options = Options("SVDFOptions", {"Rank": rank, "FusedActivationFunction": activation})
    model = op_model(SVDF, t, [0, 1, 2, bias, state], [out], options)
    return model, [np.random.default_rng(seed + 1).integers(-128, 128, size=(n_batch, n_input), dtype=np.int8)]
