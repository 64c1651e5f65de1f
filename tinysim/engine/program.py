"""Prepare-time packing: constants into flat buffers, one int64 parameter row per op.

Like TFLite Micro's Prepare, everything that does not depend on the input (multipliers,
shifts, folded biases, geometry, static event counts) is computed once here; the per-op
Eval kernels then only read the flat arrays a single Numba call receives.

A row's fields are named: each op module declares its layout once, `ConvRow = IntEnum("ConvRow",
"x y w ...", start=0)` (field -> column) with `Row = ConvRow`, prepare fills the row by name with
`pack(Row, x=...)`, and the kernel reads `p[Row.x]`, which Numba folds to a constant index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from tinysim.engine.fixedpoint import RUY, TFLITE, quantize_multipliers
from tinysim.errors import UnsupportedOpError
from tinysim.events import Events
from tinysim.ops import OpKind, window
from tinysim.workload.graph import DType, Graph, Op, Padding, Tensor
from tinysim.workload.validate import short_name

ALIGN = 16
# Integer dtypes whose tensors carry (scale, zero point); float32, int32 and int64 activations may not.
QUANTIZED = frozenset({DType.INT8, DType.UINT8, DType.INT16})


class ConstPool:
    """A growing flat buffer of one dtype; `add` returns the element offset of the copy."""

    def __init__(self, dtype: type):
        self.dtype = np.dtype(dtype)
        self.parts: list[np.ndarray] = []
        self.size = 0

    def add(self, values: np.ndarray) -> int:
        arr = np.ascontiguousarray(values, dtype=self.dtype).ravel()
        pad = -self.size % ALIGN  # keep every array 16-element aligned for SIMD loads
        if pad:
            self.parts.append(np.zeros(pad, self.dtype))
        offset = self.size + pad
        self.parts.append(arr)
        self.size = offset + arr.size
        return offset

    def array(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(1, self.dtype)


@dataclass
class OpPlan:
    """What preparing one op produced: its parameter row (see `pack`) and static event counts."""

    params: np.ndarray
    events: Events
    scratch16: int = 0  # int16 scratch elements the kernel needs (im2col patch)
    scratch32: int = 0  # int32 scratch elements (accumulators)


@dataclass(frozen=True)
class OpKernel:
    """One op's implementation: `prepare` runs once per graph, `evaluate` (a kernel) once per inference."""

    prepare: Callable[[PrepareContext, Op], OpPlan]
    evaluate: Callable  # (row, arena, i16, i32, f32, s16, s32, count) -> (zero-operand MACs, output zeros)
    # The quantization schemes (interpreter.SCHEMES) `prepare` accepts for this op, each checked bit-exact
    # against LiteRT (tests/test_op_fuzz*.py); what `tinysim ops` lists. A uint8 tensor on an op without
    # "uint8" is refused before prepare; other dtypes are checked by `prepare` itself (ctx.act).
    schemes: tuple[str, ...] = ("int8",)


@dataclass
class PrepareContext:
    """What an op's prepare function may use: the graph, arena offsets and constant pools."""

    graph: Graph
    offsets: dict[int, int]  # tensor index -> byte offset in the engine's buffer (see `offset`)
    semantics: str  # "litert" or "tflm" (see tinysim.engine.run)
    legacy: frozenset[int] = frozenset()  # tensors that are uint8 in the model (int8 in `graph`: tinysim.engine.uint8)
    i8: ConstPool = field(default_factory=lambda: ConstPool(np.int8))
    i16: ConstPool = field(default_factory=lambda: ConstPool(np.int16))
    i32: ConstPool = field(default_factory=lambda: ConstPool(np.int32))
    f32: ConstPool = field(default_factory=lambda: ConstPool(np.float32))
    end: int = 0  # first byte after the head and state regions: constant operands are placed from here
    schemes: dict[OpKind, tuple[str, ...]] = field(default_factory=dict)  # per op kind, the schemes it runs (errors)
    constants: dict[int, int] = field(default_factory=dict)  # constant tensor -> offset given by `offset`

    @property
    def rounding_mac(self) -> int:
        """Output stage of CONV_2D / FULLY_CONNECTED: ruy's under LiteRT, TFLite's under TFLM."""
        return RUY if self.semantics == "litert" else TFLITE

    def fail(self, op: Op, what: str) -> UnsupportedOpError:
        index = self.graph.ops.index(op)
        return UnsupportedOpError(
            f"{op.kind.value} (layer {index} '{short_name(op.name)}'): {what}", file=self.graph.source or None
        )

    def act(
        self, op: Op, position: int, *, output: bool = False, dtypes: tuple[DType, ...] = (DType.INT8,),
        constant: bool = False,
    ) -> Tensor:
        """An activation tensor of `op`, validated: its dtype one of `dtypes` (int8 unless the op says which
        others it runs), per-tensor quantized if an integer type, and not a constant unless `constant`
        (a kernel that takes `offset` of a constant operand reads it from the constants region)."""
        t = self.tensor(op, position, output=output)
        if t.dtype not in dtypes:
            names = "/".join(d.value for d in dtypes)
            schemes = self.schemes.get(op.kind)
            runs = f" here ({op.kind.value} runs {', '.join(schemes)}: `tinysim ops`)" if schemes else ""
            raise self.fail(op, f"tensor '{short_name(t.name)}' is {t.dtype.value}; only {names} activations are "
                                f"supported{runs}")  # fmt: skip
        if t.dtype in QUANTIZED and (t.quant is None or t.quant.per_axis):
            raise self.fail(op, f"tensor '{short_name(t.name)}' needs per-tensor quantization")
        if t.is_constant and not constant:
            raise self.fail(op, f"constant activation '{t.name}' is not supported")
        return t

    def tensor(self, op: Op, position: int, *, output: bool = False) -> Tensor:
        """Input (or output) `position` of `op`, whatever its dtype; fails if it is absent."""
        indices = op.outputs if output else op.inputs
        idx = indices[position] if position < len(indices) else -1
        if idx < 0:
            raise self.fail(op, f"missing {'output' if output else 'input'} {position}")
        return self.graph.tensors[idx]

    def const(self, op: Op, position: int, dtype: DType) -> Tensor | None:
        """A constant input (weights, bias) of `op` with the given dtype, or None if absent."""
        idx = op.inputs[position] if position < len(op.inputs) else -1
        if idx < 0:
            return None
        t = self.graph.tensors[idx]
        if not t.is_constant or t.dtype is not dtype:
            raise self.fail(op, f"input {position} '{t.name}' must be a constant {dtype.value} tensor")
        return t

    def offset(self, op: Op, position: int, *, output: bool = False) -> int:
        """Byte offset of the operand in the engine's buffer: an activation's place in the arena plan, a
        variable's in the state region, a constant's in the constants region (placed on first use)."""
        t = (op.outputs if output else op.inputs)[position]
        if t in self.offsets:
            return self.offsets[t]
        tensor = self.graph.tensors[t]
        if not tensor.is_constant:
            raise self.fail(op, f"tensor '{short_name(tensor.name)}' has no place in the arena")
        at = -(-self.end // ALIGN) * ALIGN
        self.end = at + tensor.nbytes
        self.offsets[t] = self.constants[t] = at
        return at


def zp(t: Tensor) -> int:
    assert t.quant is not None
    return int(t.quant.zero_point[0])


def scale(t: Tensor) -> float:
    assert t.quant is not None
    return float(t.quant.scale[0])


def pack(row: type[IntEnum], **values: int) -> np.ndarray:
    """An int64 row of `row`'s layout filled by field name; fields not given are 0 (another path's)."""
    unknown = values.keys() - row.__members__.keys()
    if unknown:
        raise ValueError(f"{row.__name__} has no field(s) {sorted(unknown)}")
    out = np.zeros(len(row), np.int64)
    for name, value in values.items():
        out[row[name]] = value
    return out


def conv_geometry(ctx, op: Op, x: Tensor, w: Tensor, y: Tensor, kh: int, kw: int, oc: int):
    """Shared by conv and depthwise prepare: output size and leading padding of the window (checked
    against the output tensor), and per-channel requantization multipliers (symmetric weights, or
    legacy uint8 per-tensor weights with their zero point, which the caller subtracts).
    Returns (oh, ph, ow, pw, mult, shift)."""
    n, h, wd, _ = x.shape
    a = op.attrs
    same = a.padding is Padding.SAME
    oh, ph = window(h, kh, a.stride_h, a.dilation_h, same)
    ow, pw = window(wd, kw, a.stride_w, a.dilation_w, same)
    if y.shape != (n, oh, ow, oc):
        raise ctx.fail(op, f"output shape {y.shape} != computed {(n, oh, ow, oc)}")
    w_quant = w.quantized()
    legacy = op.inputs[1] in ctx.legacy
    if any(z != 0 for z in w_quant.zero_point) and not (legacy and not w_quant.per_axis):
        raise ctx.fail(op, "weights must be symmetric (zero point 0)")
    if legacy:  # GetQuantizedConvolutionMultipler: the scale product in float32, then the division in double
        real = float(np.float32(scale(x)) * np.float32(scale(w))) / scale(y)
        mult, shift = quantize_multipliers(np.full(oc, real))
    else:
        w_scales = np.broadcast_to(np.asarray(w_quant.scale, np.float64), (oc,))
        mult, shift = quantize_multipliers(scale(x) * w_scales / scale(y))
    return oh, ph, ow, pw, mult, shift


def valid_taps(size: int, out: int, k: int, stride: int, dilation: int, pad: int) -> int:
    """Sum over output positions of the window taps that fall inside the input (padding skipped)."""
    pos = np.arange(out)[:, None] * stride - pad + np.arange(k)[None, :] * dilation
    return int(((pos >= 0) & (pos < size)).sum())


def pixel_tile(pixels: int, *widths: int, budget: int = 4096) -> int:
    """Output pixels per block so that each per-pixel width times the block stays within `budget`."""
    return max(1, min(pixels, budget // max(max(widths), 1)))
