"""Sweep YAML (version 1) → `SweepSpec`, and the design points it samples.

    version: 1
    name: ndp_imc
    base: ../../archs/ndp120.yaml            # paths are relative to the sweep file
    axes:                                    # dotted paths into the architecture YAML → values
      compute.core2.arrays: [768, 1536]
      memories.act_sram.size: [128 KiB, 256 KiB]
      operating_point: [mlperf, fast]        # names of the base's operating points
    sampling: {method: grid}                 # or random / latin-hypercube with count and seed
    workloads: [../kws.yaml, ../vww.yaml]
    objectives: [latency, energy, average_power]
    rate: 1 Hz                               # inference rate for average_power
    constraints: {fits: true, deadline: 100 ms}

A design point is `{path: value}` with one value per axis; the architecture of a point is the
base YAML mapping with those paths replaced (see `design.py`). Grid sampling takes every
combination; random takes `count` distinct combinations; latin-hypercube stratifies each
axis's value list over `count` samples. Points are de-duplicated, first occurrence kept.
"""

from __future__ import annotations

import enum
import itertools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tinysim.catalog import Shipped, is_name, names, resolve
from tinysim.errors import SpecError
from tinysim.schema.collect import ErrorCollector
from tinysim.schema.fields import (
    Bound,
    Where,
    block,
    expect_list,
    expect_mapping,
    get_enum,
    get_int,
    get_quantity,
    get_str,
)
from tinysim.schema.files import is_regular_file
from tinysim.schema.jsonschema import (
    Block,
    Choice,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Number,
    OneOf,
    Quantity,
    Text,
    document,
)
from tinysim.schema.yamlio import line_of, load_yaml
from tinysim.units import Dimension, parse_quantity
from tinysim.units.dimension import dimension_of_unit
from tinysim.units.quantity import describe_value

__all__ = ["OBJECTIVES", "Axis", "Method", "SweepSpec", "load_sweep", "parse_sweep", "sample_points", "si_value"]

OBJECTIVES = ("latency", "energy", "average_power")
OPERATING_POINT = "operating_point"  # the axis choosing a named operating point (not a YAML path)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)+$")
_SAMPLING = Block(
    {
        "method": Choice(lambda: tuple(m.value for m in Method)),
        "count": Integer(bound=Bound.POSITIVE),
        "seed": Integer(bound=Bound.NONNEGATIVE),
    },
    required=("method",),
)
_CONSTRAINTS = Block({"fits": Flag(), "deadline": Quantity(Dimension.TIME, Bound.POSITIVE)})
_AXIS_KEY = f"^({OPERATING_POINT}|{_PATH.pattern[1:-1]})$"
_SWEEP = Block(
    {
        "version": Number(minimum=1, maximum=1, integer=True),
        "name": Text(),
        "description": Text(),
        "base": Text(),
        "axes": MapOf(ListOf(OneOf((Number(), Text())), min_items=1), key_pattern=_AXIS_KEY, min_items=1),
        "sampling": _SAMPLING,
        "workloads": ListOf(Text(), min_items=1),
        "objectives": ListOf(Choice(OBJECTIVES)),
        "rate": Quantity(Dimension.FREQUENCY, Bound.POSITIVE),
        "constraints": _CONSTRAINTS,
    },
    required=("version", "name", "base", "axes", "workloads"),
)
_TOP = _SWEEP.keys
_NUMBER_UNIT = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*(\S+)\s*$")


class Method(enum.Enum):
    GRID = "grid"
    RANDOM = "random"
    LATIN_HYPERCUBE = "latin-hypercube"


@dataclass(frozen=True)
class Axis:
    """One swept parameter: a dotted path (or `operating_point`) and its values as written."""

    path: str
    values: tuple[Any, ...]
    line: int | None = None


@dataclass(frozen=True)
class SweepSpec:
    name: str
    description: str
    base_arch: Path
    axes: tuple[Axis, ...]
    method: Method
    count: int | None
    seed: int
    workloads: tuple[Path, ...]
    objectives: tuple[str, ...]
    rate_hz: float | None
    fits: bool
    deadline_s: float | None
    path: str | None = None
    text: str = ""  # the sweep file's text: its identity for resuming

    @property
    def size(self) -> int:
        """Combinations of all axis values (the grid size)."""
        return math.prod(len(a.values) for a in self.axes)


def load_sweep(path: str | Path, *, errors: ErrorCollector | None = None) -> SweepSpec:
    """Read and validate the sweep YAML at `path`, or the shipped sweep of that name (a collecting `errors`: all
    errors, one per part)."""
    path = resolve(path, Shipped.SWEEPS)
    return parse_sweep(load_yaml(path), file=str(path), text=Path(path).read_text(), errors=errors)


def parse_sweep(
    data: Any, *, file: str | None = None, text: str = "", errors: ErrorCollector | None = None
) -> SweepSpec:
    errors = errors or ErrorCollector()
    where = Where(file=file, line=line_of(data))
    if data is None:
        raise Where(file=file, line=1).fail("empty file: expected a sweep starting with `version: 1`")
    top = block(data, where, allowed=_TOP, required=_SWEEP.required, errors=errors)
    if "version" in top and (top["version"] != 1 or isinstance(top["version"], bool)):
        raise where.key(top, "version").fail(f"expected version 1, got {describe_value(top['version'])}")
    here = Path(file).parent if file else Path(".")
    method, count, seed = errors.value(_sampling, top, where) or (Method.GRID, None, 0)
    objectives = errors.value(_objectives, top, where) or ()
    rate = errors.value(get_quantity, top, "rate", where, Dimension.FREQUENCY, bound=Bound.POSITIVE, default=None)
    with errors.part():
        if "average_power" in objectives and rate is None and "rate" not in top:
            raise where.key(top, "rate").fail('objective "average_power" needs `rate:` (inferences per second, "1 Hz")')
    fits, deadline = errors.value(_constraints, top, where) or (True, None)
    spec = SweepSpec(
        name=errors.value(get_str, top, "name", where),
        description=errors.value(get_str, top, "description", where, default=""),
        base_arch=errors.value(_file, top, "base", where, here) if "base" in top else here,
        axes=errors.value(_axes, top, where, errors) if "axes" in top else (),
        method=method,
        count=count,
        seed=seed,
        workloads=errors.value(_workloads, top, where, here) if "workloads" in top else (),
        objectives=objectives,
        rate_hz=rate,
        fits=fits,
        deadline_s=deadline,
        path=file,
        text=text,
    )
    errors.check()
    return spec


def _constraints(top: Mapping[str, Any], where: Where) -> tuple[bool, float | None]:
    if "constraints" not in top:
        return True, None
    at = where.key(top, "constraints")
    c = block(top["constraints"], at, allowed=_CONSTRAINTS.keys)
    if "fits" in c and not isinstance(c["fits"], bool):
        raise at.key(c, "fits").fail(f"expected true or false, got {describe_value(c['fits'])}")
    return c.get("fits", True), get_quantity(c, "deadline", at, Dimension.TIME, bound=Bound.POSITIVE, default=None)


def _file(mapping: Mapping[str, Any], key: str, where: Where, here: Path, kind: Shipped = Shipped.ARCHS) -> Path:
    return _existing(get_str(mapping, key, where), where.key(mapping, key), here, kind)


def _existing(name: Any, at: Where, here: Path, kind: Shipped = Shipped.WORKLOADS) -> Path:
    """A file relative to the sweep's folder, or (a bare name) the shipped file of `kind`."""
    if not isinstance(name, str) or not name.strip():
        raise at.fail(f"expected a file name, got {describe_value(name)}")
    path = Path(os.path.normpath(here / name))  # "archs/x.yaml", not "workloads/sweeps/../../archs/x.yaml"
    if not is_regular_file(path) and is_name(name) and is_regular_file(kind.folder / f"{name}.yaml"):
        path = kind.folder / f"{name}.yaml"
    if not is_regular_file(path):
        raise at.fail(f"no such file {name!r} (paths are relative to the sweep file; or a shipped {kind.noun} "
                      f"name: {', '.join(names(kind))})")
    return path


def _axes(top: Mapping[str, Any], where: Where, errors: ErrorCollector) -> tuple[Axis, ...]:
    at = where.key(top, "axes")
    m = expect_mapping(top["axes"], at, "a mapping of dotted paths to value lists")
    if not m:
        raise at.fail("expected at least one axis")
    axes = (errors.value(_axis, m, path, at) for path in m)  # each axis one part
    return tuple(axis for axis in axes if axis is not None)


def _axis(m: Mapping[str, Any], path: Any, at: Where) -> Axis:
    here = at.key(m, path)
    if path != OPERATING_POINT and not (isinstance(path, str) and _PATH.match(path)):
        raise here.fail(
            f'expected a dotted path into the architecture ("compute.npu.macs_per_cycle") or '
            f'"{OPERATING_POINT}", got {describe_value(path)}'
        )
    values = expect_list(m[path], here, "a list of values")
    if not values:
        raise here.fail("expected at least one value, got an empty list")
    for index, value in enumerate(values):
        if isinstance(value, (Mapping, list)) or value is None:
            raise here.item(values, index).fail(f"expected a number or text, got {describe_value(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise here.item(values, index).fail(f"expected a finite number, got {describe_value(value)}")
    return Axis(path, tuple(values), line_of(m, path))


def _sampling(top: Mapping[str, Any], where: Where) -> tuple[Method, int | None, int]:
    if "sampling" not in top:
        return Method.GRID, None, 0
    at = where.key(top, "sampling")
    m = block(top["sampling"], at, allowed=_SAMPLING.keys, required=_SAMPLING.required)
    method = get_enum(m, "method", at, Method)
    count = get_int(m, "count", at, bound=Bound.POSITIVE, default=None)
    if method is not Method.GRID and count is None:
        raise at.key(m, "count").fail(f'missing required key "count" (how many points {method.value} draws)')
    seed = get_int(m, "seed", at, bound=Bound.NONNEGATIVE, default=0)
    return method, count, seed


def _workloads(top: Mapping[str, Any], where: Where, here: Path) -> tuple[Path, ...]:
    at = where.key(top, "workloads")
    items = expect_list(top["workloads"], at, "a list of workload files")
    if not items:
        raise at.fail("expected at least one workload")
    paths = [_existing(item, at.item(items, i), here) for i, item in enumerate(items)]
    stems = [p.stem for p in paths]
    for i, stem in enumerate(stems):
        if stems.index(stem) != i:
            raise at.item(items, i).fail(f'two workloads named "{stem}" (results are keyed by file stem)')
    return tuple(paths)


def _objectives(top: Mapping[str, Any], where: Where) -> tuple[str, ...]:
    if "objectives" not in top:
        return ("latency", "energy")
    at = where.key(top, "objectives")
    items = expect_list(top["objectives"], at, "a list of objectives")
    for index, item in enumerate(items):
        if item == "area":  # the rule: an area model outside 30 % of a published die is not an objective
            raise at.item(items, index).fail(
                "area is not an objective: the die-area estimate misses the NDP100's published die by -39 % (a lower "
                f"bound; area_m2 is still stored in every row); expected one of {', '.join(OBJECTIVES)}")
        if item not in OBJECTIVES:
            raise at.item(items, index).fail(f"expected one of {', '.join(OBJECTIVES)}, got {describe_value(item)}")
    return tuple(items)


def si_value(value: Any) -> Any:
    """An axis value in SI base units for the results store ("256 KiB" → 262144); names stay text."""
    if isinstance(value, str):
        match = _NUMBER_UNIT.match(value)
        dim = dimension_of_unit(match.group(3)) if match else None
        if dim is not None:
            number = parse_quantity(value, dim, field="axes")
            return round(number) if number == round(number) and abs(number) < 2**53 else number
    return value


def _random_combinations(sizes: list[int], count: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """`count` distinct index combinations drawn uniformly (all of them, shuffled, if there are fewer)."""
    total = math.prod(sizes)
    if total <= 4 * count:  # small space: a permutation of all of it
        flat = rng.permutation(total)[:count]
        return list(zip(*np.unravel_index(flat, sizes))) if sizes else []
    chosen: dict[tuple[int, ...], None] = {}
    while len(chosen) < count:  # large space: draw and drop repeats (rare: fewer than 1 in 4)
        draw = np.stack([rng.integers(0, n, count) for n in sizes], axis=1)
        for row in map(tuple, draw.tolist()):
            chosen.setdefault(row, None)
            if len(chosen) == count:
                break
    return list(chosen)


MAX_POINTS = 10_000_000  # design points in one sweep (a grid of 10^9 was enumerated for a minute, then MemoryError)


def check_point_count(spec: SweepSpec, point_limit: float = 1.0) -> None:
    """Refuse a sweep of more points than MAX_POINTS x `point_limit` (a grid's size, or the sampled count)."""
    if spec.method is Method.GRID:
        points = spec.size if spec.count is None else min(spec.count, spec.size)
    else:
        points = spec.count or 0
    limit = MAX_POINTS * point_limit
    if points > limit:
        field = "sampling.count" if spec.method is not Method.GRID or spec.count is not None else "axes"
        raise SpecError(f"{points:.3g} design points, beyond the {limit:.3g} accepted (fewer values per axis, random "
                        "or latin-hypercube sampling with a smaller count, or --point-limit FACTOR)",
                        file=spec.path, field=field)


def sample_points(spec: SweepSpec, point_limit: float = 1.0) -> list[dict[str, Any]]:
    """The design points in sampling order, each `{path: value as written}`, duplicates dropped. More than
    MAX_POINTS (times `point_limit`) is refused in one line, with the count, before any is enumerated."""
    sizes = [len(a.values) for a in spec.axes]
    check_point_count(spec, point_limit)
    if spec.method is Method.GRID:
        indices: Any = itertools.product(*(range(n) for n in sizes))
        if spec.count is not None:
            indices = itertools.islice(indices, spec.count)
    elif spec.count is None:  # load_sweep requires it; a SweepSpec built in code may lack it
        raise SpecError(f"{spec.method.value} sampling needs a count", file=spec.path, field="sampling.count")
    elif spec.method is Method.RANDOM:
        indices = _random_combinations(sizes, spec.count, np.random.default_rng(spec.seed))
    else:
        rng = np.random.default_rng(spec.seed)
        columns = []
        for n in sizes:
            strata = (rng.permutation(spec.count) + rng.random(spec.count)) / spec.count
            columns.append(np.minimum((strata * n).astype(int), n - 1))
        indices = zip(*columns)
    points, seen = [], set()
    for combo in indices:
        key = tuple(int(i) for i in combo)
        if key not in seen:
            seen.add(key)
            points.append({a.path: a.values[i] for a, i in zip(spec.axes, key)})
    return points


def json_schema() -> dict[str, Any]:
    """The JSON Schema of sweep YAML, from the blocks this module reads."""
    return document("sweep", _SWEEP, description=__doc__.splitlines()[0])
