"""Kernel libraries: which routine of a library runs an op, and the scratch buffers it requests."""

from __future__ import annotations

from tinysim.kernels.cmsis_nn import Routine, routine, scratch_buffers
from tinysim.kernels.cmsis_nn_facts import ROUTINE_FACTS, RoutineFacts

__all__ = ["ROUTINE_FACTS", "Routine", "RoutineFacts", "routine", "scratch_buffers"]
