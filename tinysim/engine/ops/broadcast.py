"""Broadcasting shared by the elementwise binary ops (TFLite's up-to-6-D rules, as BroadcastAdd6DSlow).

Prepare pads both input shapes to the output's rank (at most 6) from the left, checks that every
input dim equals the output's or is 1, merges adjacent dims that both inputs walk the same way
(so (1, 2, 12, 64) with (64,) is a 24 x 64 walk) and stores the plan in the i32 pool:
[expand_a, expand_b, n0..n5, sa0..sa5, sb0..sb5] (output dims and per-input element strides, 0 where
the input repeats). At run time `operand` expands a broadcast input into the int32 scratch (as bytes)
so that every op keeps its same-shape kernels (and their fast paths) unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from tinysim.engine.jit import kernel
from tinysim.engine.program import ALIGN, PrepareContext
from tinysim.events import Events
from tinysim.workload.graph import DType, Op, Tensor

RANK = 6
QUANTIZED = (DType.INT8, DType.INT16)  # the integer activations of the binary ops (uint8 is int8 in the engine)


def operands(ctx: PrepareContext, op: Op, dtypes: tuple[DType, ...] = QUANTIZED) -> tuple[Tensor, Tensor, Tensor]:
    """The two inputs (either may be a constant) and the output of a binary op, validated: inputs of one
    dtype among `dtypes`, the output of the same dtype."""
    a, b = ctx.act(op, 0, dtypes=dtypes, constant=True), ctx.act(op, 1, dtypes=dtypes, constant=True)
    y = ctx.act(op, 0, output=True, dtypes=(a.dtype,))
    if b.dtype is not a.dtype:
        raise ctx.fail(op, f"inputs are {a.dtype.value} and {b.dtype.value}")
    return a, b, y


def plan(ctx: PrepareContext, op: Op, a: Tensor, b: Tensor, y: Tensor) -> tuple[int, int]:
    """Broadcast `a` and `b` to `y`'s shape: returns (i32 offset of the plan or -1 if both already have
    y's shape, int32 scratch elements the kernel needs)."""
    if a.shape == b.shape == y.shape:
        return -1, 0
    if len(y.shape) > RANK:
        raise ctx.fail(op, f"broadcasting beyond {RANK}-D ({y.shape}) is not supported")
    dims = [1] * (RANK - len(y.shape)) + list(y.shape)
    strides = [_strides(ctx, op, t, dims) for t in (a, b)]
    dims, strides = _merge(dims, strides)
    expand = [t.size != y.size for t in (a, b)]
    item = y.dtype.itemsize
    scratch = sum(_padded(y.size * item) for e in expand if e) // 4
    return ctx.i32.add(np.array([*expand, *dims, *strides[0], *strides[1]], np.int32)), scratch


def _strides(ctx: PrepareContext, op: Op, t: Tensor, dims: list[int]) -> list[int]:
    shape = [1] * (RANK - len(t.shape)) + list(t.shape)
    if len(t.shape) > len(dims) or any(s not in (1, d) for s, d in zip(shape, dims)):
        raise ctx.fail(op, f"broadcasting {t.shape} to the output shape {tuple(dims)} (padded to 6-D) is not possible")
    out, step = [0] * RANK, 1
    for k in range(RANK - 1, -1, -1):
        out[k] = step if shape[k] > 1 else 0
        step *= shape[k]
    return out


def _merge(dims: list[int], strides: list[list[int]]) -> tuple[list[int], list[list[int]]]:
    """Fold dim k into k + 1 where every input walks both as one (contiguous or repeated); leading 1s pad."""
    d, s = [1], [[0] for _ in strides]
    for k in range(RANK - 1, -1, -1):
        if dims[k] == 1:
            continue
        if d[0] == 1:  # nothing walked yet: this dim is the innermost run
            d[0] = dims[k]
            for st, cur in zip(strides, s):
                cur[0] = st[k]
        elif all(st[k] == cur[0] * d[0] or (st[k] == 0 and cur[0] == 0) for st, cur in zip(strides, s)):
            d[0] *= dims[k]
        else:
            d.insert(0, dims[k])
            for st, cur in zip(strides, s):
                cur.insert(0, st[k])
    pad = RANK - len(d)
    return [1] * pad + d, [[0] * pad + cur for cur in s]


def _padded(nbytes: int) -> int:
    return -(-nbytes // ALIGN) * ALIGN


def events(a: Tensor, b: Tensor, y: Tensor) -> Events:
    """Each output element reads one element of each input (repeated ones again) and writes one."""
    return Events(
        act_bytes_read=y.size * (a.dtype.itemsize + b.dtype.itemsize),
        act_bytes_written=y.nbytes,
        elementwise=y.size,
        output_elements=y.size,
        act_bytes_unique_read=a.nbytes + b.nbytes,
    )


@kernel
def operand(arena, i32, s32, at, bc, which, size, item):
    """Input `which` (0: a, 1: b) as `size` output-shaped elements of `item` bytes: its bytes in the arena,
    or a copy expanded into the int32 scratch (viewed as bytes) when it broadcasts."""
    n = size * item
    if bc < 0 or i32[bc + which] == 0:
        return arena[at : at + n]
    start = 0 if which == 0 or i32[bc] == 0 else -(-n // 16) * 16
    dst = s32.view(np.int8)[start : start + n]
    expand(arena, at, i32[bc + 2 : bc + 2 + RANK], i32[bc + 2 + RANK * (1 + which) : bc + 2 + RANK * (2 + which)],
           item, dst)  # fmt: skip
    return dst


@kernel
def expand(src, at, n, s, item, dst):
    """dst = src (at byte `at`, element strides `s`) walked over the output dims `n`, innermost runs copied
    whole (stride 1) or repeated (stride 0)."""
    o = 0
    run = n[5] * item
    for i0 in range(n[0]):
        for i1 in range(n[1]):
            for i2 in range(n[2]):
                for i3 in range(n[3]):
                    for i4 in range(n[4]):
                        base = at + (i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3] + i4 * s[4]) * item
                        if s[5] != 0:
                            dst[o : o + run] = src[base : base + run]
                        else:
                            for j in range(n[5]):
                                for k in range(item):
                                    dst[o + j * item + k] = src[base + k]
                        o += run


def act_range(activation: str, scale: float, zero_point: int, bits: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 or int16 output (fused ReLU clamps)."""
    qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def q(f: float) -> int:
        r = float(np.float32(f) / np.float32(scale))  # float32 division, as TFLite
        return zero_point + int(math.copysign(math.floor(abs(r) + 0.5), r))

    if activation == "RELU":
        return max(qmin, zero_point), qmax
    if activation == "RELU6":
        return max(qmin, zero_point), min(qmax, q(6.0))
    if activation == "RELU_N1_TO_1":
        return max(qmin, q(-1.0)), min(qmax, q(1.0))
    return qmin, qmax
