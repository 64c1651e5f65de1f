"""The kinds of tinysim YAML file, and how a file's top-level keys tell which one it is.

Every kind carries `version: 1` and a `name:`, so those say nothing; each kind has keys no other
kind uses at top level. A file is the kind with the most of its keys present; a file with none (or
as many of two kinds) is refused in one line that lists the kinds and the keys naming each.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from tinysim.errors import SpecError
from tinysim.schema.yamlio import line_of

__all__ = ["KEYS", "SpecKind", "spec_kind"]


class SpecKind(enum.Enum):
    ARCH = "architecture"
    WORKLOAD = "layer-list workload"
    SCENARIO = "scenario"
    SWEEP = "sweep"


# Top-level keys only this kind has (the loaders' key lists, less those shared with another kind).
KEYS: Mapping[SpecKind, tuple[str, ...]] = {
    SpecKind.ARCH: ("compute", "memories", "extends", "operating_points", "power_states", "sources", "technology"),
    SpecKind.WORKLOAD: ("layers", "input", "outputs", "seed"),
    SpecKind.SCENARIO: (
        "sensor",
        "inference",
        "workload",
        "arch",
        "front_end",
        "events",
        "host",
        "duration",
        "power",
        "dvfs",
    ),
    SpecKind.SWEEP: ("base", "axes", "workloads", "sampling", "objectives", "constraints", "rate"),
}


def spec_kind(data: Any, *, file: str | None = None) -> SpecKind:
    """The kind of the loaded YAML `data` (a `SpecError` naming the kinds when it is none of them)."""
    keys = set(data) if isinstance(data, Mapping) else set()
    scores = {kind: len(keys.intersection(names)) for kind, names in KEYS.items()}
    best = max(scores.values())
    found = [kind for kind, score in scores.items() if score == best]
    if best and len(found) == 1:
        return found[0]
    kinds = "; ".join(f"{kind.value} ({', '.join(f'{k}:' for k in KEYS[kind][:3])})" for kind in SpecKind)
    if data is None:
        what = "empty file; tinysim files are"
    elif best:
        what = f"this file has keys of both {found[0].value} and {found[1].value}:"
    else:
        what = "this file is none of the tinysim kinds:"
    raise SpecError(f"{what} {kinds}", file=file, line=line_of(data) if data is not None else 1)
