"""One builder per layer op: check the shapes against the input, create seeded int8 tensors, append the IR op.

Used by the layer-list YAML front end (`layers_yaml`, which documents the keys); each builder reads
its keys from the layer's mapping and reports mistakes with the layer's `Where` (file, line, field).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tinysim.ops import OpKind
from tinysim.schema.fields import REQUIRED, Where, get_choice
from tinysim.workload.graph import Activation, DType, Op, OpAttrs, Padding, Quantization, Tensor
from tinysim.workload.synthetic import layer_params, output_quant
from tinysim.workload.validate import conv_output_size


class LayerOp(enum.Enum):
    """The `op:` values of a layer and the IR op each becomes."""

    CONV2D = "conv2d"
    DEPTHWISE_CONV2D = "depthwise_conv2d"
    FULLY_CONNECTED = "fully_connected"
    AVG_POOL2D = "avg_pool2d"
    MAX_POOL2D = "max_pool2d"
    ADD = "add"
    RESHAPE = "reshape"
    SOFTMAX = "softmax"


_WINDOW = ("stride", "padding", "activation")
LAYER_KEYS: dict[LayerOp, tuple[tuple[str, ...], tuple[str, ...]]] = {  # (required, optional) besides name/op/input
    LayerOp.CONV2D: (("filters", "kernel"), ("dilation", *_WINDOW)),
    LayerOp.DEPTHWISE_CONV2D: (("kernel",), ("depth_multiplier", "dilation", *_WINDOW)),
    LayerOp.FULLY_CONNECTED: (("units",), ("activation",)),
    LayerOp.AVG_POOL2D: (("pool",), _WINDOW),
    LayerOp.MAX_POOL2D: (("pool",), _WINDOW),
    LayerOp.ADD: (("inputs",), ("activation",)),
    LayerOp.RESHAPE: (("shape",), ()),
    LayerOp.SOFTMAX: ((), ("beta",)),
}
_ACTIVATIONS = {
    "none": Activation.NONE,
    "relu": Activation.RELU,
    "relu6": Activation.RELU6,
    "relu_n1_to_1": Activation.RELU_N1_TO_1,
}
_PADDINGS = {"same": Padding.SAME, "valid": Padding.VALID}


@dataclass(frozen=True)
class Value:
    """An activation available to later layers: its tensor and estimated RMS (for quantization)."""

    index: int
    rms: float


# The most weights a layer-list workload may describe: 16 Mi parameters (16 MiB of int8), several times the
# flash of the largest MCU here (2 MiB) and ~50x the MLPerf Tiny networks; refused before any is drawn.
MAX_WEIGHTS = 1 << 24


class GraphBuilder:
    """Accumulates tensors and ops while the layer list is read (local to one load)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.tensors: list[Tensor] = []
        self.ops: list[Op] = []
        self.values: dict[str, Value] = {}
        self.weight_count = 0  # parameters drawn so far, bounded by MAX_WEIGHTS before each draw

    def add(self, tensor: Tensor) -> int:
        self.tensors.append(tensor)
        return len(self.tensors) - 1

    def shape(self, value: Value) -> tuple[int, ...]:
        return self.tensors[value.index].shape

    def quant(self, value: Value) -> Quantization:
        quant = self.tensors[value.index].quant
        assert quant is not None
        return quant

    def rng(self, layer_index: int) -> np.random.Generator:
        # One stream per layer: editing one layer leaves the others' weights unchanged.
        return np.random.default_rng((self.seed, layer_index))


# --- the builders: one per LayerOp, then the BUILDERS table -----------------------------------------------


def _emit(
    b: GraphBuilder, kind: OpKind, name: str, inputs: list[int], out: Tensor, rms: float, attrs: OpAttrs
) -> Value:
    """Append the op; its output becomes a value later layers can read."""
    index = b.add(out)
    b.ops.append(Op(kind, name, tuple(inputs), (index,), attrs))
    return Value(index, rms)


def _nhwc(b: GraphBuilder, x: Value, where: Where, what: str) -> tuple[int, int, int, int]:
    shape = b.shape(x)
    if len(shape) != 4:
        raise where.fail(f"{what} needs an NHWC (4-D) input, got shape {list(shape)}")
    return shape


def _window(b: GraphBuilder, layer: Mapping, x: Value, where: Where, key: str, unit_stride: bool) -> OpAttrs:
    """Attributes of a sliding window (conv: stride 1 by default; pool: stride = window) that fits the input."""
    _, h, w, _ = _nhwc(b, x, where, layer["op"])
    kh, kw = read_pair(layer, key, where)
    sh, sw = read_pair(layer, "stride", where, default=(1, 1) if unit_stride else (kh, kw))
    dh, dw = read_pair(layer, "dilation", where, default=(1, 1))
    padding = Padding.VALID
    if "padding" in layer:
        padding = _PADDINGS[get_choice(layer, "padding", where, list(_PADDINGS), "a padding")]
    if min(conv_output_size(h, kh, sh, dh, padding), conv_output_size(w, kw, sw, dw, padding)) < 1:
        dilated = f", dilation {dh}x{dw}" if (dh, dw) != (1, 1) else ""
        raise where.key(layer, key).fail(
            f"a {kh}x{kw} window (padding {padding.value.lower()}{dilated}) does not fit the {h}x{w} input"
        )
    activation = read_activation(layer, where)
    return OpAttrs(padding=padding, stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw, activation=activation)


def _out_hw(shape: tuple[int, ...], kh: int, kw: int, a: OpAttrs) -> tuple[int, int]:
    return (
        conv_output_size(shape[1], kh, a.stride_h, a.dilation_h, a.padding),
        conv_output_size(shape[2], kw, a.stride_w, a.dilation_w, a.padding),
    )


@dataclass(frozen=True)
class _Weights:
    """Where a MAC layer's weights go: shape, output-channel axis, fan-in, scale granularity."""

    shape: tuple[int, ...]
    axis: int
    fan_in: int
    per_channel: bool = True


def _weighted(
    b: GraphBuilder,
    i: int,
    name: str,
    x: Value,
    wt: _Weights,
    out_shape: tuple[int, ...],
    kind: OpKind,
    attrs: OpAttrs,
    where: Where,
) -> Value:
    """A MAC op with seeded weights and bias, its output quantized for the estimated RMS."""
    b.weight_count += math.prod(wt.shape)
    if b.weight_count > MAX_WEIGHTS:  # refused before drawing: the float64 draw takes 8x the int8 size and more
        raise where.fail(
            f"the network would hold {b.weight_count:,} weights with this layer, more than the {MAX_WEIGHTS:,} "
            f"(16 MiB of int8) a layer-list workload may describe; a TinyML network holds well under that"
        )
    in_scale = b.quant(x).scale[0]
    params, pre_rms = layer_params(b.rng(i), wt.shape, wt.axis, wt.fan_in, in_scale, x.rms, per_channel=wt.per_channel)
    w = b.add(Tensor(f"{name}/weights", wt.shape, DType.INT8, params.weight_quant, params.weights))
    bias = b.add(Tensor(f"{name}/bias", params.bias.shape, DType.INT32, params.bias_quant, params.bias))
    quant, rms = output_quant(pre_rms, attrs.activation)
    return _emit(b, kind, name, [x.index, w, bias], Tensor(name, out_shape, DType.INT8, quant), rms, attrs)


def _conv(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x = src[0]
    attrs = _window(b, layer, x, where, "kernel", unit_stride=True)
    kh, kw = read_pair(layer, "kernel", where)
    filters = read_int(layer, "filters", where)
    n, _, _, c = b.shape(x)
    out_shape = (n, *_out_hw(b.shape(x), kh, kw, attrs), filters)
    return _weighted(
        b, i, name, x, _Weights((filters, kh, kw, c), 0, kh * kw * c), out_shape, OpKind.CONV_2D, attrs, where
    )


def _depthwise(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x = src[0]
    attrs = _window(b, layer, x, where, "kernel", unit_stride=True)
    kh, kw = read_pair(layer, "kernel", where)
    m = read_int(layer, "depth_multiplier", where, default=1)
    n, _, _, c = b.shape(x)
    attrs = replace(attrs, depth_multiplier=m)
    out_shape = (n, *_out_hw(b.shape(x), kh, kw, attrs), c * m)
    return _weighted(
        b, i, name, x, _Weights((1, kh, kw, c * m), 3, kh * kw), out_shape, OpKind.DEPTHWISE_CONV_2D, attrs, where
    )


def _fully_connected(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x = src[0]
    shape = b.shape(x)
    units, features = read_int(layer, "units", where), shape[-1]
    attrs = OpAttrs(activation=read_activation(layer, where))
    rows = math.prod(shape) // features  # exact: np.prod wraps around past int64
    # Per-tensor weight scale, as the TFLite converter emits for fully-connected layers.
    wt = _Weights((units, features), 0, features, per_channel=False)
    return _weighted(b, i, name, x, wt, (rows, units), OpKind.FULLY_CONNECTED, attrs, where)


def _pool(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x = src[0]
    attrs = _window(b, layer, x, where, "pool", unit_stride=False)
    ph, pw = read_pair(layer, "pool", where)
    attrs = replace(attrs, filter_h=ph, filter_w=pw)
    n, _, _, c = b.shape(x)
    kind = OpKind.AVERAGE_POOL_2D if layer["op"] == LayerOp.AVG_POOL2D.value else OpKind.MAX_POOL_2D
    # TFLite int8 pooling keeps the input's quantization.
    out = Tensor(name, (n, *_out_hw(b.shape(x), ph, pw, attrs), c), DType.INT8, b.quant(x))
    return _emit(b, kind, name, [x.index], out, x.rms, attrs)


def _add(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x, y = src
    if b.shape(x) != b.shape(y):
        raise where.key(layer, "inputs").fail(f"cannot add shapes {list(b.shape(x))} and {list(b.shape(y))}")
    attrs = OpAttrs(activation=read_activation(layer, where))
    quant, rms = output_quant(float(np.hypot(x.rms, y.rms)), attrs.activation)
    return _emit(b, OpKind.ADD, name, [x.index, y.index], Tensor(name, b.shape(x), DType.INT8, quant), rms, attrs)


def _reshape(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x = src[0]
    shape, size = list(read_shape(layer, "shape", where, allow_minus_one=True)), math.prod(b.shape(x))
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        shape[shape.index(-1)] = size // known if known and size % known == 0 else -1
    if -1 in shape or math.prod(shape) != size:
        raise where.key(layer, "shape").fail(f"cannot reshape {list(b.shape(x))} ({size} elements) to {layer['shape']}")
    const = np.array(layer["shape"], dtype=np.int32)  # as written, -1 included, like the TFLite converter
    const.setflags(write=False)
    s = b.add(Tensor(f"{name}/shape", (len(shape),), DType.INT32, None, const))
    return _emit(
        b, OpKind.RESHAPE, name, [x.index, s], Tensor(name, tuple(shape), DType.INT8, b.quant(x)), x.rms, OpAttrs()
    )


def _softmax(b: GraphBuilder, layer: Mapping, i: int, name: str, src: list[Value], where: Where) -> Value:
    x = src[0]
    attrs = OpAttrs(beta=read_float(layer, "beta", where, default=1.0))
    quant = Quantization((1.0 / 256.0,), (-128,))  # what TFLite requires of an int8 softmax output
    out = Tensor(name, b.shape(x), DType.INT8, quant)
    return _emit(b, OpKind.SOFTMAX, name, [x.index], out, float(1.0 / np.sqrt(b.shape(x)[-1])), attrs)


BUILDERS = {
    LayerOp.CONV2D: _conv,
    LayerOp.DEPTHWISE_CONV2D: _depthwise,
    LayerOp.FULLY_CONNECTED: _fully_connected,
    LayerOp.AVG_POOL2D: _pool,
    LayerOp.MAX_POOL2D: _pool,
    LayerOp.ADD: _add,
    LayerOp.RESHAPE: _reshape,
    LayerOp.SOFTMAX: _softmax,
}


# --- typed fields --------------------------------------------------------------------------------------


# Dimensions, counts and window sizes are int32 in a .tflite; a shape holds at most MAX_ELEMENTS (as the
# .tflite importer bounds it), so sizes computed from them never wrap around int64.
INT32_MAX = 2**31 - 1
MAX_ELEMENTS = 1 << 40


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and bool(value <= INT32_MAX)


def read_int(m: Mapping, key: str, where: Where, default: Any = REQUIRED, minimum: int = 1) -> int:
    if key not in m:
        return _missing(m, key, where, default)
    value = m[key]
    if not _is_int(value) or value < minimum:
        raise where.key(m, key).fail(f"expected a whole number in {minimum}..{INT32_MAX}, got {value!r:.60}")
    return int(value)


def _missing(m: Mapping, key: str, where: Where, default: Any) -> Any:
    if default is REQUIRED:
        raise where.key(m, key).fail(f'missing required key "{key}"')
    return default


def read_float(m: Mapping, key: str, where: Where, default: Any = REQUIRED) -> float:
    if key not in m:
        return _missing(m, key, where, default)
    value = m[key]
    finite = isinstance(value, float) and math.isfinite(value) or _is_int(value)  # an int past int32 is no scale
    if isinstance(value, bool) or not finite or value <= 0:
        raise where.key(m, key).fail(f"expected a positive number, got {value!r:.60}")
    return float(value)


def read_pair(m: Mapping, key: str, where: Where, default: Any = REQUIRED) -> tuple[int, int]:
    """`3` or `[3, 5]` as (height, width), each >= 1."""
    if key not in m:
        return _missing(m, key, where, default)
    value = m[key]
    if _is_int(value) and value >= 1:
        return int(value), int(value)
    if isinstance(value, list) and len(value) == 2 and all(_is_int(v) and v >= 1 for v in value):
        return int(value[0]), int(value[1])
    raise where.key(m, key).fail(f"expected a size N or [height, width] of whole numbers >= 1, got {value!r}")


def read_shape(m: Mapping, key: str, where: Where, *, allow_minus_one: bool) -> tuple[int, ...]:
    value = m[key]
    ok = isinstance(value, list) and 1 <= len(value) <= 6 and all(_is_int(d) and d >= 1 or d == -1 for d in value)
    if not ok or (-1 in value and (not allow_minus_one or value.count(-1) > 1)):
        what = "whole numbers >= 1 (one may be -1)" if allow_minus_one else "whole numbers >= 1"
        raise where.key(m, key).fail(f"expected a shape: a list of 1 to 6 {what}, got {value!r:.80}")
    if math.prod(abs(int(d)) for d in value) > MAX_ELEMENTS:
        raise where.key(m, key).fail(f"a shape of at most {MAX_ELEMENTS:,} elements, got {value!r:.80}")
    return tuple(int(d) for d in value)


def read_activation(m: Mapping, where: Where) -> Activation:
    if "activation" not in m:
        return Activation.NONE
    return _ACTIVATIONS[get_choice(m, "activation", where, list(_ACTIVATIONS), "an activation")]
