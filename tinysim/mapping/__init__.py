"""Mapping: which compute unit of an architecture runs each op of a graph."""

from tinysim.mapping.placement import place

__all__ = ["place"]
