"""CMSIS-NN dispatch: which routine TFLite Micro's cmsis_nn kernels run for an op, and the scratch they request.

Source: ARM-software/CMSIS-NN main as stored by the search index (one coherent tag could not be pinned there);
the file revisions read, all between the v4.1.0 and v7.0.0 tags, are named at each rule:
  arm_convolve_get_buffer_sizes_s8.c V.1.4.0 (30 Oct 2023), arm_convolve_1_x_n_s8.c V.3.3.0,
  arm_convolve_wrapper_s16.c V.2.0.1 / arm_convolve_get_buffer_sizes_s16.c V.1.0.0,
  arm_depthwise_conv_wrapper_s8.c V.2.2.0 (04 Nov 2024), arm_depthwise_conv_get_buffer_sizes_s8.c V.1.1.0,
  arm_depthwise_conv_s8_opt.c, arm_depthwise_conv_wrapper_s16.c V.1.0.2 / ..._get_buffer_sizes_s16.c V.1.0.0,
  arm_fully_connected_get_buffer_sizes_s8.c V.1.0.0, arm_avgpool_get_buffer_sizes_s8.c V.1.0.0.
TFLM side: tensorflow/tflite-micro tensorflow/lite/micro/kernels/cmsis_nn/{conv,fully_connected}.cc (which
buffer Prepare requests: only when the size is > 0) and the other cmsis_nn/*.cc kernels' type switches.

Core features: `mve` (ARM_MATH_MVEI, Cortex-M55/M85) wins over `dsp` (ARM_MATH_DSP, M4/M7/M33), as CMSIS-NN's
`#if defined(ARM_MATH_MVEI) ... #elif defined(ARM_MATH_DSP)` does; neither = pure C (M0+/M3).
Not modelled (run as REFERENCE here): TRANSPOSE_CONV, BATCH_MATMUL, PAD, TRANSPOSE, MAXIMUM/MINIMUM, which newer
TFLM builds also route to CMSIS-NN; int4 weights.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tinysim.ops import OpKind, window
from tinysim.workload.graph import DType, Graph, Op, Padding

INT16_BYTES = 2
INT32_BYTES = 4
# arm_nnsupportfunctions.h: channels per block of the MVE depthwise im2col
CH_IN_BLOCK_MVE = 124
# arm_nnsupportfunctions.h: MVE depthwise with 1 input channel and more outputs than this runs as a convolution;
# 8 under armclang, 1 under other compilers (the threshold is compiler-dependent): armclang assumed.
DW_TO_CONV_THRESHOLD = 8
CONV_S16_FAST_MAX_TAPS = 512  # arm_convolve_wrapper_s16.c: fast path when kh * kw * c_in < 512


class Routine(enum.Enum):
    """A CMSIS-NN routine (value: the C function), or TFLM's reference kernel."""

    CONV_1X1_S8_FAST = "arm_convolve_1x1_s8_fast"
    CONV_1X1_S8 = "arm_convolve_1x1_s8"
    CONV_1_X_N_S8 = "arm_convolve_1_x_n_s8"
    CONV_S8 = "arm_convolve_s8"
    CONV_FAST_S16 = "arm_convolve_fast_s16"
    CONV_S16 = "arm_convolve_s16"
    DEPTHWISE_CONV_3X3_S8 = "arm_depthwise_conv_3x3_s8"
    DEPTHWISE_CONV_S8_OPT = "arm_depthwise_conv_s8_opt"
    DEPTHWISE_CONV_S8 = "arm_depthwise_conv_s8"
    DEPTHWISE_CONV_TO_CONV_S8 = "arm_depthwise_conv_to_conv_s8"
    DEPTHWISE_CONV_FAST_S16 = "arm_depthwise_conv_fast_s16"
    DEPTHWISE_CONV_S16 = "arm_depthwise_conv_s16"
    FULLY_CONNECTED_S8 = "arm_fully_connected_s8"
    FULLY_CONNECTED_S16 = "arm_fully_connected_s16"
    AVGPOOL_S8 = "arm_avgpool_s8"
    AVGPOOL_S16 = "arm_avgpool_s16"
    MAX_POOL_S8 = "arm_max_pool_s8"
    MAX_POOL_S16 = "arm_max_pool_s16"
    SOFTMAX_S8 = "arm_softmax_s8"
    SOFTMAX_S8_S16 = "arm_softmax_s8_s16"
    SOFTMAX_S16 = "arm_softmax_s16"
    ELEMENTWISE_ADD_S8 = "arm_elementwise_add_s8"
    ELEMENTWISE_ADD_S16 = "arm_elementwise_add_s16"
    ELEMENTWISE_MUL_S8 = "arm_elementwise_mul_s8"
    ELEMENTWISE_MUL_S16 = "arm_elementwise_mul_s16"
    SVDF_S8 = "arm_svdf_s8"
    SVDF_STATE_S16_S8 = "arm_svdf_state_s16_s8"
    LSTM_S8 = "arm_lstm_unidirectional_s8"
    REFERENCE = "reference"


@dataclass(frozen=True)
class _Core:
    dsp: bool
    mve: bool

    @property
    def dsp_only(self) -> bool:  # `defined(ARM_MATH_DSP) && !defined(ARM_MATH_MVEI)`
        return self.dsp and not self.mve


@dataclass(frozen=True)
class _Geometry:
    """cmsis_nn_dims and conv params as TFLM fills them (padding: TFLM's leading pad, ComputePaddingHeightWidth)."""

    batch: int
    in_h: int
    in_w: int
    in_c: int
    k_h: int
    k_w: int
    out_h: int
    out_w: int
    out_c: int
    stride_h: int
    stride_w: int
    dil_h: int
    dil_w: int
    pad_h: int
    pad_w: int


def _geometry(graph: Graph, op: Op) -> _Geometry:
    x, w, y = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]], graph.tensors[op.outputs[0]]
    a = op.attrs
    same = a.padding is Padding.SAME
    _, pad_h = window(x.shape[1], w.shape[1], a.stride_h, a.dilation_h, same)
    _, pad_w = window(x.shape[2], w.shape[2], a.stride_w, a.dilation_w, same)
    return _Geometry(
        batch=x.shape[0], in_h=x.shape[1], in_w=x.shape[2], in_c=x.shape[3], k_h=w.shape[1], k_w=w.shape[2],
        out_h=y.shape[1], out_w=y.shape[2], out_c=y.shape[3], stride_h=a.stride_h, stride_w=a.stride_w,
        dil_h=a.dilation_h, dil_w=a.dilation_w, pad_h=pad_h, pad_w=pad_w,
    )  # fmt: skip


def _conv_s8_buffer(in_c: int, k_h: int, k_w: int, core: _Core) -> int:
    """arm_convolve_s8_get_buffer_size (arm_convolve_get_buffer_sizes_s8.c V.1.4.0)."""
    cols = in_c * k_h * k_w
    if core.mve:  # 4 im2col columns of int8, each rounded up to whole 8-lane vectors
        return 4 * ((cols + 7) // 8) * 8
    return 2 * (-(-cols // 4) * 4) * INT16_BYTES  # 2 im2col columns of int16, rounded up to 4


def _conv_s8(g: _Geometry, core: _Core) -> tuple[Routine, int]:
    """arm_convolve_wrapper_s8 and its get_buffer_size (arm_convolve_get_buffer_sizes_s8.c V.1.4.0)."""
    if g.pad_h == 0 and g.pad_w == 0 and g.k_h == 1 and g.k_w == 1 and g.dil_h == 1 and g.dil_w == 1:
        fast = g.stride_h == 1 and g.stride_w == 1
        return (Routine.CONV_1X1_S8_FAST if fast else Routine.CONV_1X1_S8), 0
    one_by_n = g.in_h == 1 and g.dil_w == 1 and g.k_h == 1 and (g.stride_w * g.in_c) % 4 == 0
    if one_by_n and core.mve:  # arm_convolve_1_x_n_s8_get_buffer_size_mve: 0
        return Routine.CONV_1_X_N_S8, 0
    # a 1xN conv without MVE: arm_convolve_1_x_n_s8.c V.3.3.0 calls arm_convolve_s8, with arm_convolve_s8's buffer
    return Routine.CONV_S8, _conv_s8_buffer(g.in_c, g.k_h, g.k_w, core)


def _conv_s16(g: _Geometry, core: _Core, bias_int64: bool) -> tuple[Routine, int]:
    """arm_convolve_wrapper_s16.c V.2.0.1; buffer: arm_convolve_get_buffer_sizes_s16.c V.1.0.0, requested by TFLM's
    cmsis_nn/conv.cc Prepare only for an int64 or absent bias."""
    if core.dsp_only and g.k_h * g.k_w * g.in_c < CONV_S16_FAST_MAX_TAPS and g.dil_h == 1 and g.dil_w == 1:
        size = 2 * g.in_c * g.k_h * g.k_w * INT16_BYTES
        return Routine.CONV_FAST_S16, size if bias_int64 else 0
    return Routine.CONV_S16, 0


def _depthwise_s8(g: _Geometry, core: _Core) -> tuple[Routine, int]:
    """arm_depthwise_conv_wrapper_s8.c V.2.2.0; buffers: arm_depthwise_conv_get_buffer_sizes_s8.c V.1.1.0."""
    if core.mve and g.in_c == 1 and g.out_c > DW_TO_CONV_THRESHOLD:
        # runs arm_convolve_wrapper_s8 on the transposed filter, placed in ctx->buf after the conv's own buffer
        # (derived from the wrapper's code: the stored get_buffer_sizes revision predates this route)
        _, conv_buf = _conv_s8(g, core)
        return Routine.DEPTHWISE_CONV_TO_CONV_S8, conv_buf + g.k_h * g.k_w * g.out_c
    if g.in_c == g.out_c and g.batch == 1 and g.dil_h == 1 and g.dil_w == 1:  # ch_mult == 1
        if not core.mve and g.k_h == 3 and g.k_w == 3 and g.pad_h <= 1 and g.pad_w <= 1:
            return Routine.DEPTHWISE_CONV_3X3_S8, 0
        if core.mve:
            return Routine.DEPTHWISE_CONV_S8_OPT, 4 * CH_IN_BLOCK_MVE * g.k_h * g.k_w
        if core.dsp:
            return Routine.DEPTHWISE_CONV_S8_OPT, g.in_c * g.k_h * g.k_w * INT16_BYTES
        # arm_depthwise_conv_s8_opt.c: pure C builds call arm_depthwise_conv_s8 (no buffer requested)
        return Routine.DEPTHWISE_CONV_S8, 0
    return Routine.DEPTHWISE_CONV_S8, 0


def _depthwise_s16(g: _Geometry, core: _Core) -> tuple[Routine, int]:
    """arm_depthwise_conv_wrapper_s16.c V.1.0.2 (USE_FAST_DW_CONV_FUNCTION); buffer: ..._get_buffer_sizes_s16.c."""
    taps = g.k_h * g.k_w * g.in_c
    if g.in_c == g.out_c and g.dil_h == 1 and g.dil_w == 1 and taps < CONV_S16_FAST_MAX_TAPS:
        if core.mve:  # + 8: worst-case over-read of the *_nt_t_* lhs
            return Routine.DEPTHWISE_CONV_FAST_S16, 4 * taps * INT16_BYTES + 8
        return Routine.DEPTHWISE_CONV_FAST_S16, taps * INT16_BYTES if core.dsp else 0
    return Routine.DEPTHWISE_CONV_S16, 0


def _plan(graph: Graph, k: int, core: _Core) -> tuple[Routine, tuple[int, ...]]:
    op = graph.ops[k]
    ts = graph.tensors
    act = ts[op.inputs[0]].dtype
    mac = op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED)
    if mac and (ts[op.inputs[1]].dtype is not DType.INT8 or act not in (DType.INT8, DType.INT16)):
        return Routine.REFERENCE, ()  # float, uint8, hybrid: TFLM's reference kernel
    if op.kind is OpKind.CONV_2D:
        g = _geometry(graph, op)
        if act is DType.INT8:
            routine, size = _conv_s8(g, core)
        else:
            bias = ts[op.inputs[2]].dtype if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
            routine, size = _conv_s16(g, core, bias_int64=bias in (None, DType.INT64))
        return routine, _nonzero(size)
    if op.kind is OpKind.DEPTHWISE_CONV_2D:
        g = _geometry(graph, op)
        routine, size = _depthwise_s8(g, core) if act is DType.INT8 else _depthwise_s16(g, core)
        return routine, _nonzero(size)
    if op.kind is OpKind.FULLY_CONNECTED:
        # arm_fully_connected_get_buffer_sizes_s8.c V.1.0.0: 0 on every core (s16 likewise)
        return (Routine.FULLY_CONNECTED_S8 if act is DType.INT8 else Routine.FULLY_CONNECTED_S16), ()
    return _plan_other(graph, op, core)


def _plan_other(graph: Graph, op: Op, core: _Core) -> tuple[Routine, tuple[int, ...]]:
    ts = graph.tensors
    x, y = ts[op.inputs[0]], ts[op.outputs[0]]
    act = x.dtype
    s8, s16 = act is DType.INT8, act is DType.INT16
    if op.kind is OpKind.AVERAGE_POOL_2D and (s8 or s16):
        # arm_avgpool_s8_get_buffer_size: int32 per channel on DSP-only cores, 0 on MVE and pure C (s16 likewise)
        size = INT32_BYTES * y.shape[-1] if core.dsp_only else 0
        return (Routine.AVGPOOL_S8 if s8 else Routine.AVGPOOL_S16), _nonzero(size)
    if op.kind is OpKind.MAX_POOL_2D and (s8 or s16):
        return (Routine.MAX_POOL_S8 if s8 else Routine.MAX_POOL_S16), ()
    if op.kind is OpKind.SOFTMAX:  # cmsis_nn/softmax.cc: by input -> output type
        pair = (act, y.dtype)
        table = {
            (DType.INT8, DType.INT8): Routine.SOFTMAX_S8,
            (DType.INT8, DType.INT16): Routine.SOFTMAX_S8_S16,
            (DType.INT16, DType.INT16): Routine.SOFTMAX_S16,
        }
        return table.get(pair, Routine.REFERENCE), ()
    if op.kind in (OpKind.ADD, OpKind.MUL) and (s8 or s16):
        # cmsis_nn/add.cc, mul.cc: a broadcast (inputs of different shapes) runs TFLM's reference broadcast kernel
        if ts[op.inputs[0]].shape != ts[op.inputs[1]].shape:
            return Routine.REFERENCE, ()
        if op.kind is OpKind.ADD:
            return (Routine.ELEMENTWISE_ADD_S8 if s8 else Routine.ELEMENTWISE_ADD_S16), ()
        return (Routine.ELEMENTWISE_MUL_S8 if s8 else Routine.ELEMENTWISE_MUL_S16), ()
    if op.kind is OpKind.SVDF and s8:
        # cmsis_nn/svdf.cc: int32 scratch of batch x filters and batch x units, as the reference kernel requests
        state = ts[op.inputs[4]] if len(op.inputs) > 4 and op.inputs[4] >= 0 else None
        routine = Routine.SVDF_STATE_S16_S8 if state is not None and state.dtype is DType.INT16 else Routine.SVDF_S8
        return routine, _svdf_scratch(graph, op)
    if op.kind is OpKind.UNIDIRECTIONAL_SEQUENCE_LSTM and s8:
        return Routine.LSTM_S8, _lstm_scratch(graph, op)
    return Routine.REFERENCE, ()


def _svdf_scratch(graph: Graph, op: Op) -> tuple[int, ...]:
    x, weights = graph.tensors[op.inputs[0]], graph.tensors[op.inputs[1]]
    n_batch, n_filter = x.shape[0], weights.shape[0]
    rank = op.attrs.option("Rank", 1)
    rank = rank if isinstance(rank, int) and rank > 0 else 1
    return (INT32_BYTES * n_batch * n_filter, INT32_BYTES * n_batch * (n_filter // rank))


def _lstm_scratch(graph: Graph, op: Op) -> tuple[int, ...]:
    """assumed: TFLM's cmsis_nn LSTM requests the reference kernel's four int16 gate buffers (batch x cells);
    cmsis_nn/unidirectional_sequence_lstm.cc was not read."""
    out = graph.tensors[op.outputs[0]]
    time_major = bool(op.attrs.option("TimeMajor", False))
    n_batch = out.shape[1] if time_major and len(out.shape) == 3 else out.shape[0]
    return (INT16_BYTES * n_batch * out.shape[-1],) * 4


def _nonzero(size: int) -> tuple[int, ...]:
    """TFLM requests a scratch buffer only when the get_buffer_size answer is > 0."""
    return (size,) if size > 0 else ()


def routine(graph: Graph, k: int, *, dsp: bool, mve: bool) -> Routine:
    """The CMSIS-NN routine TFLM's cmsis_nn kernel runs for op `k` on a core with these features."""
    return _plan(graph, k, _Core(dsp=dsp, mve=mve))[0]


def scratch_buffers(graph: Graph, k: int, *, dsp: bool, mve: bool) -> tuple[int, ...]:
    """Bytes of each scratch buffer TFLM's cmsis_nn kernel for op `k` requests in Prepare (none: ())."""
    return _plan(graph, k, _Core(dsp=dsp, mve=mve))[1]
