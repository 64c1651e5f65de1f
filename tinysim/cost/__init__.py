"""Cost models: price each op's events on the unit it is placed on; one model per compute kind."""

from tinysim.cost.result import LayerCost, SimResult
from tinysim.cost.simulate import cost_models, simulate

__all__ = ["LayerCost", "SimResult", "cost_models", "simulate"]
