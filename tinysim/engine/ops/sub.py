"""SUB of int8, legacy uint8 or int16 tensors, with broadcasting (TFLite integer_ops Sub).

TFLite's PrepareGeneralSubOp sets ADD's parameters and negates the second input's multiplier, so
SUB runs ADD's kernels (its 256 x 256 output table for large tensors, its int16 paths) on those
parameters; int16 power-of-two scales run Sub16 / BroadcastSub16POTSlow, ADD's power-of-two path with
the second input negated. float32 and int32 SUB run tinysim.engine.ops.float_binary.
"""

from __future__ import annotations

from tinysim.engine.ops.add import AddRow, evaluate, prepare_add_sub
from tinysim.engine.program import OpPlan, PrepareContext
from tinysim.workload.graph import Op

__all__ = ["evaluate", "prepare"]
Row = AddRow


def prepare(ctx: PrepareContext, op: Op) -> OpPlan:
    return prepare_add_sub(ctx, op, negate=True)
