"""Execute a Graph with TFLite int8 semantics, count Events per op, plan the activation arena."""

from __future__ import annotations

from tinysim.engine.arena import ArenaPlan, plan_arena, tensor_lifetimes
from tinysim.engine.interpreter import (
    KERNELS,
    SEMANTICS,
    Prepared,
    RunResult,
    prepare,
    random_input,
    run_graph,
    runnable_ops,
)
from tinysim.events import Events

__all__ = [
    "KERNELS",
    "SEMANTICS",
    "ArenaPlan",
    "Events",
    "Prepared",
    "RunResult",
    "plan_arena",
    "prepare",
    "random_input",
    "run_graph",
    "runnable_ops",
    "tensor_lifetimes",
]
