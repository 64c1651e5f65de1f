"""Quantities with units at the edges: parse "120 MHz" into SI floats, format them back."""

from __future__ import annotations

from tinysim.units.dimension import Dimension
from tinysim.units.quantity import format_quantity, format_si, parse_quantity

__all__ = ["Dimension", "format_quantity", "format_si", "parse_quantity"]
