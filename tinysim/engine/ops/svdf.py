"""SVDF, int8 (TFLite reference_ops EvalIntegerSVDF): int8 input and feature weights, int16 time weights and
activation state (a variable tensor kept across invocations), optional int32 bias.

Per invocation the state (n_batch, n_filter, n_memory) shifts one step to the left, the newest column
is the feature matmul requantized to int16, each filter's memory is dotted with its time weights
(int32, wrapping as the C++ does), `rank` filters are summed per unit with the bias, and the sum is
requantized to the int8 output. Neither runtime applies the fused activation in the integer kernel
(LiteRT insists on RELU, TFLite Micro takes any), and both assume the state's zero point is 0.
Checked bit-exact against LiteRT and TFLite Micro (tests/test_op_fuzz_recurrent.py).
"""

from __future__ import annotations

from enum import IntEnum
from typing import cast

import numpy as np

from tinysim.engine.fixedpoint import TFLITE, quantize_multiplier, requantize
from tinysim.engine.jit import kernel
from tinysim.engine.program import OpPlan, PrepareContext, pack, scale, zp
from tinysim.events import Events
from tinysim.workload.graph import DType, Op

SvdfRow = IntEnum(
    "SvdfRow", "x y state wf wt bias n_batch n_input n_filter n_memory rank m1 s1 m2 s2 zp_x zp_y zero_w", start=0
)
Row = SvdfRow
RELU = 1  # TfLiteFusedActivation kTfLiteActRelu


def _scale_product(a: float, b: float, c: float) -> float:
    """a * b / c with float32 operands and arithmetic (TFLite multiplies the tensors' float scales)."""
    return float(np.float32(np.float32(a) * np.float32(b)) / np.float32(c))


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    x, y = ctx.act(op, 0), ctx.act(op, 0, output=True)
    wf, wt = ctx.const(op, 1, DType.INT8), ctx.const(op, 2, DType.INT16)
    b = ctx.const(op, 3, DType.INT32)
    state = ctx.tensor(op, 4)
    if wf is None or wt is None or wf.quant is None or wt.quant is None:
        raise ctx.fail(op, "needs quantized int8 feature weights and int16 time weights")
    if not state.variable or state.dtype is not DType.INT16 or state.quant is None or zp(state) != 0:
        raise ctx.fail(op, "needs a variable int16 activation state with zero point 0")
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2:
        raise ctx.fail(op, "input and weights must be 2-D")
    n_batch, n_input = x.shape
    n_filter, n_memory = wt.shape
    rank = cast(int, op.attrs.option("Rank", 1)) or 1
    if ctx.semantics == "litert" and op.attrs.option("FusedActivationFunction", RELU) != RELU:
        raise ctx.fail(op, "LiteRT's integer SVDF requires the RELU option (which it does not apply)")
    if wf.shape != (n_filter, n_input) or n_filter % rank or state.size != n_batch * n_filter * n_memory:
        raise ctx.fail(op, f"weights {wf.shape}/{wt.shape}, rank {rank} and state {state.shape} do not match")
    n_unit = n_filter // rank
    if y.size != n_batch * n_unit or (b is not None and b.size != n_unit):
        raise ctx.fail(op, f"output {y.shape} or bias does not match {n_batch}x{n_unit} units")
    m1, s1 = quantize_multiplier(_scale_product(scale(x), wf.quant.scale[0], scale(state)))
    m2, s2 = quantize_multiplier(_scale_product(scale(state), wt.quant.scale[0], scale(y)))
    wfk = wf.constant().astype(np.int64)
    bias = b.constant().astype(np.int64) if b is not None else np.zeros(n_unit, np.int64)
    params = pack(
        Row, x=ctx.offset(op, 0), y=ctx.offset(op, 0, output=True), state=ctx.offset(op, 4), wf=ctx.i16.add(wfk),
        wt=ctx.i16.add(wt.constant()), bias=ctx.i32.add(bias), n_batch=n_batch, n_input=n_input, n_filter=n_filter,
        n_memory=n_memory, rank=rank, m1=m1, s1=s1, m2=m2, s2=s2, zp_x=zp(x), zp_y=zp(y),
        zero_w=ctx.i32.add((wfk == 0).sum(axis=0)),
    )  # fmt: skip
    feature = n_batch * n_filter * n_input
    time = n_batch * n_filter * n_memory
    state_bytes = 2 * time
    events = Events(
        macs=feature + time, weight_bytes_read=feature + 2 * time + 4 * n_batch * n_unit * (b is not None),
        act_bytes_read=feature + 2 * state_bytes, act_bytes_written=state_bytes + y.size,
        elementwise=n_batch * n_filter + time + n_batch * (n_filter + n_unit), output_elements=y.size,
        weight_bytes_unique=wf.nbytes + wt.nbytes + (b.nbytes if b is not None else 0),
        act_bytes_unique_read=x.nbytes + state.nbytes,
    )  # fmt: skip
    return OpPlan(params, events, scratch32=n_filter)


@kernel
def evaluate(p, arena, i16, i32, f32, s16, s32, count):
    nb, ni, nf, nm, rank = p[Row.n_batch], p[Row.n_input], p[Row.n_filter], p[Row.n_memory], p[Row.rank]
    nu = nf // rank
    x = arena[p[Row.x] : p[Row.x] + nb * ni].reshape(nb, ni)
    y = arena[p[Row.y] : p[Row.y] + nb * nu].reshape(nb, nu)
    state = arena[p[Row.state] : p[Row.state] + 2 * nb * nf * nm].view(np.int16).reshape(nb, nf, nm)
    wf = i16[p[Row.wf] : p[Row.wf] + nf * ni].reshape(nf, ni)
    wt = i16[p[Row.wt] : p[Row.wt] + nf * nm].reshape(nf, nm)
    bias, zero_w = i32[p[Row.bias] : p[Row.bias] + nu], i32[p[Row.zero_w] : p[Row.zero_w] + ni]
    dots = s32[:nf]
    zp_x, zp_y = p[Row.zp_x], p[Row.zp_y]
    zero_macs = 0
    zeros = 0
    for b in range(nb):
        for f in range(nf):
            for m in range(nm - 1):
                state[b, f, m] = state[b, f, m + 1]
            acc = np.int64(0)
            for i in range(ni):
                acc += np.int64(wf[f, i]) * (np.int64(x[b, i]) - zp_x)
            state[b, f, nm - 1] = min(max(requantize(_wrap32(acc), p[Row.m1], p[Row.s1], TFLITE), -32768), 32767)
            acc = np.int64(0)
            for m in range(nm):
                acc += np.int64(wt[f, m]) * np.int64(state[b, f, m])
            dots[f] = _wrap32(acc)
        for u in range(nu):
            acc = np.int64(bias[u])
            for r in range(rank):
                acc += dots[u * rank + r]
            v = requantize(_wrap32(acc), p[Row.m2], p[Row.s2], TFLITE) + zp_y
            y[b, u] = min(max(v, -128), 127)
            zeros += y[b, u] == zp_y
        if count:
            for i in range(ni):
                zero_macs += nf if x[b, i] == zp_x else zero_w[i]
    return zero_macs, zeros


@kernel
def _wrap32(v):
    """int32 wrap-around of an int64 sum (the C++ int32 accumulators overflow silently)."""
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)
