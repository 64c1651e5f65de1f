"""Loop-nest facts of the CMSIS-NN routines, for the cost model's per-path constants (no cycle numbers here).

Read from the CMSIS-NN sources named in `cmsis_nn` (arm_nn_mat_mult_kernel_s8_s16.c, arm_depthwise_conv_s8_opt.c,
arm_convolve_1_x_n_s8.c, arm_convolve_s8.c); `widens` = operands are widened int8 -> int16 (SXTB16 / q7->q15)
before SMLAD; `outputs_per_iter` x `columns_per_iter` = the inner iteration's tile (output channels x output
pixels); `im2col` says what the scratch buffer holds and when it is refilled. Facts are for the DSP build unless
`core` says otherwise; pure-C builds run scalar loops (1 x 1, no widening).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from tinysim.kernels.cmsis_nn import Routine


@dataclass(frozen=True)
class RoutineFacts:
    widens: bool  # int8 operands widened to int16 for SMLAD (DSP)
    outputs_per_iter: int  # output channels computed per inner iteration
    columns_per_iter: int  # output pixels (im2col columns / batches) per inner iteration
    im2col: str  # what the scratch holds, and when it is filled ("" = no im2col)
    note: str = ""
    read: bool = False  # True: checked against the source in this session; False: from memory, to be verified


_F = RoutineFacts
ROUTINE_FACTS = MappingProxyType(
    {
        Routine.CONV_S8: _F(
            True,
            2,
            2,
            "q15 im2col of 2 output pixels (kh*kw*c_in each), filled per output-pixel pair",
            "DSP: arm_nn_mat_mult_kernel_s8_s16, 2 out ch x 2 columns, 4 SMLAD per 4 taps; "
            "MVE: int8 im2col of 4 columns (arm_convolve_s8_get_buffer_size_mve)",
            read=True,
        ),
        Routine.CONV_1X1_S8_FAST: _F(
            False,
            4,
            1,
            "",
            "no im2col: input rows are the lhs; arm_nn_mat_mult_nt_t_s8 (DSP: 2x2 tile, SXTB16 "
            "on the fly), MVE 4 rows x 1 column",
        ),
        Routine.CONV_1X1_S8: _F(False, 4, 1, "", "strided 1x1: per output pixel, arm_nn_mat_mult_nt_t_s8 row"),
        Routine.CONV_1_X_N_S8: _F(
            False,
            4,
            4,
            "",
            "MVE only: arm_nn_mat_mul_core_4x_s8, 4 output pixels per pass over the kernel row",
            read=True,
        ),
        Routine.CONV_FAST_S16: _F(False, 2, 2, "q15 im2col of 2 output pixels", "arm_nn_mat_mult_kernel_s16"),
        Routine.CONV_S16: _F(False, 1, 1, "", "scalar int16 x int8 loop, int64 accumulation"),
        Routine.DEPTHWISE_CONV_3X3_S8: _F(
            True, 4, 1, "", "4 channels per iteration (SXTB16 + SMLAD on DSP), padding <= 1 handled in-loop"
        ),
        Routine.DEPTHWISE_CONV_S8_OPT: _F(
            True,
            4,
            1,
            "q15 im2col of one output pixel (kh*kw*c), filled per output pixel",
            "DSP: 4 channels x 2 taps per SMLAD pair; MVE: int8 blocks of CH_IN_BLOCK_MVE channels",
            read=True,
        ),
        Routine.DEPTHWISE_CONV_S8: _F(False, 1, 1, "", "generic scalar loop (any ch_mult, dilation, batch)"),
        Routine.DEPTHWISE_CONV_TO_CONV_S8: _F(False, 4, 4, "", "MVE: filter transposed, then arm_convolve_wrapper_s8"),
        Routine.DEPTHWISE_CONV_FAST_S16: _F(False, 4, 1, "q15 im2col of one output pixel", ""),
        Routine.DEPTHWISE_CONV_S16: _F(False, 1, 1, "", "generic scalar loop"),
        Routine.FULLY_CONNECTED_S8: _F(
            True, 2, 1, "", "arm_nn_vec_mat_mult_t_s8: DSP 2 rows per pass, SXTB16 of 4 weights; MVE 4 rows"
        ),
        Routine.FULLY_CONNECTED_S16: _F(False, 2, 1, "", "arm_nn_vec_mat_mult_t_s16"),
    }
)
