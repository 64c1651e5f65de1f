"""Published die areas (die_areas.yaml) vs the area model (tinysim.cost.area): one row per chip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinysim.arch.loader import load_arch, resolve_arch_path
from tinysim.cost.area import arch_area
from tinysim.schema.fields import Bound, Where, block, expect_list, get_quantity, get_str
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension

__all__ = ["DIE_AREAS", "DieAreaRow", "compare_die_areas"]

DIE_AREAS = Path(__file__).with_name("die_areas.yaml")


@dataclass(frozen=True)
class DieAreaRow:
    arch: str
    published_m2: float
    predicted_m2: float
    blocks_m2: float  # memories + compute units, without the I/O ring
    tolerance: float
    source: str
    note: str = ""
    outside: str = ""  # why the row is known to miss the tolerance ("" = expected within)

    @property
    def error(self) -> float:
        return self.predicted_m2 / self.published_m2 - 1.0

    @property
    def within(self) -> bool:
        return abs(self.error) <= self.tolerance


def compare_die_areas(path: Path = DIE_AREAS) -> list[DieAreaRow]:
    """Each row of die_areas.yaml with the model's die area for its (shipped) architecture."""
    data = load_yaml(path)
    where = Where(file=str(path), line=line_of(data))
    top = block(data, where, allowed=("version", "tolerance", "rows"), required=("tolerance", "rows"))
    tolerance = get_quantity(top, "tolerance", where, Dimension.DIMENSIONLESS, bound=Bound.POSITIVE)
    rows = []
    items = expect_list(top["rows"], where.key(top, "rows"), "a list of published dies")
    for index, item in enumerate(items):
        at = where.key(top, "rows").item(items, index)
        m = block(item, at, allowed=("arch", "die", "area", "note", "outside"), required=("arch", "area", "source"))
        arch = load_arch(resolve_arch_path(get_str(m, "arch", at), None))
        area = arch_area(arch)
        if area is None:
            raise at.key(m, "arch").fail(f"architecture {arch.name} names no `technology:`, so it has no area")
        rows.append(
            DieAreaRow(
                arch.name,
                get_quantity(m, "area", at, Dimension.AREA, bound=Bound.POSITIVE),
                area.total_m2,
                area.blocks_m2,
                tolerance,
                get_str(m, "source", at),
                get_str(m, "note", at, ""),
                get_str(m, "outside", at, ""),
            )
        )
    return rows
