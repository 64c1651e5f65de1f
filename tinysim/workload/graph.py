"""The network IR: tensors, ops in execution order, and the graph that holds them.

Layouts follow TFLite so imported models need no transposes: activations NHWC,
CONV_2D weights OHWI, DEPTHWISE_CONV_2D weights 1HW(C*M), FULLY_CONNECTED weights
(out, in). Every front end (.tflite, layer-list YAML) produces exactly this.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

from tinysim.ops import OpKind


class DType(enum.Enum):
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"

    @property
    def itemsize(self) -> int:
        return np.dtype(self.value).itemsize

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)


class Padding(enum.Enum):
    SAME = "SAME"
    VALID = "VALID"


class Activation(enum.Enum):
    NONE = "NONE"
    RELU = "RELU"
    RELU6 = "RELU6"
    RELU_N1_TO_1 = "RELU_N1_TO_1"


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point); per-axis when len(scale) > 1."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_axis(self) -> bool:
        return len(self.scale) > 1


@dataclass(frozen=True, eq=False)
class Tensor:
    """A tensor of the graph; `data` is set for constants (weights, biases, shapes).

    `stored_bytes` / `stored_encoding`: set when a compressed workload stores this constant encoded
    (e.g. 27,171 bytes, 'huffman'); `data` always holds the decoded values. A cost model uses the
    stored size only where the unit declares a decoder for that encoding.
    """

    name: str
    shape: tuple[int, ...]
    dtype: DType
    quant: Quantization | None = None
    data: np.ndarray | None = None
    stored_bytes: int | None = None
    stored_encoding: str | None = None  # 'sparse', 'quantized', 'shared' or 'huffman'
    variable: bool = False  # state kept across invocations (LSTM/SVDF state): TFLM allocates it persistently

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def constant(self) -> np.ndarray:
        """`data`, for a caller that only handles constants; a ValueError names the tensor otherwise."""
        if self.data is None:
            raise ValueError(f"tensor {self.name!r} is not a constant (it has no data)")
        return self.data

    def quantized(self) -> Quantization:
        """`quant`, for a caller that only handles quantized tensors; a ValueError names the tensor otherwise."""
        if self.quant is None:
            raise ValueError(f"tensor {self.name!r} has no quantization parameters")
        return self.quant

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize


@dataclass(frozen=True)
class OpAttrs:
    """Attributes of an op; only the fields its kind uses are meaningful."""

    padding: Padding = Padding.VALID
    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    filter_h: int = 1  # pooling window
    filter_w: int = 1
    depth_multiplier: int = 1
    activation: Activation = Activation.NONE
    beta: float = 1.0  # softmax
    keep_num_dims: bool = False  # fully connected
    alpha: float = 0.0  # leaky relu: the slope below zero
    axis: int = 0  # concatenation (as written: may be negative; SPLIT's axis is a constant input)
    num_splits: int = 0  # split, split_v
    # Every other builtin option of the op, by its TFLite schema name (e.g. ("BeginMask", 0)), scalars as
    # int/float/bool and vectors as tuples: ops added later read what they need with `option`.
    options: tuple[tuple[str, object], ...] = ()

    def option(self, name: str, default: object = None) -> object:
        """The builtin option `name` (TFLite schema spelling, e.g. "BeginMask"), or `default` if absent."""
        return next((value for key, value in self.options if key == name), default)


@dataclass(frozen=True)
class Op:
    """One operator; `inputs`/`outputs` index `Graph.tensors` (-1 = optional input absent)."""

    kind: OpKind
    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    attrs: OpAttrs = field(default_factory=OpAttrs)


@dataclass(frozen=True, eq=False)
class Graph:
    """A network: tensors, ops in execution order, graph inputs and outputs."""

    name: str
    tensors: tuple[Tensor, ...]
    ops: tuple[Op, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    source: str = ""

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def op_inputs(self, op: Op) -> list[Tensor | None]:
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Op) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]
