"""The results store of a sweep: one SQLite file, one row per (design point, workload).

The schema is the contract between the sweep engine (writer) and `tinysim report`
(reader); see `DDL`. Rows are inserted as results arrive (INSERT OR IGNORE, one
transaction per batch), so a sweep killed at any moment resumes by skipping the
(point_id, workload) pairs already present.

    with ResultStore.create("out.sqlite", meta) as store:      # or ResultStore.open(...)
        store.add_points([PointRow(...)]); store.add_results([ResultRow(...)])
    sweep = read_sweep("out.sqlite")                            # meta, points, results
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tinysim.cost.vocabulary import OUTPUT_SCHEMA_VERSION, whole_cycles
from tinysim.dataframes import pandas
from tinysim.errors import TinysimError

__all__ = [
    "DDL",
    "META_KEYS",
    "SCHEMA_VERSION",
    "PointRow",
    "ResultRow",
    "ResultStore",
    "StoreError",
    "SweepResults",
    "canonical_json",
    "point_id",
    "read_sweep",
]

# 2: area_m2 (m²) replaces version 1's area_mm2; 3: arena_bytes replaces peak_sram_bytes and cycles are whole
# (the output vocabulary, cost.vocabulary). Older files are read, and upgraded in place when resumed.
SCHEMA_VERSION = "3"
META_KEYS = (
    "schema_version",
    "sweep_name",
    "sweep_yaml",
    "sweep_path",
    "base_arch",
    "created_utc",
    "tinysim_version",
    "objectives",
    "rate_hz",
    "deadline_s",
)

DDL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS points(
    point_id TEXT PRIMARY KEY,
    point_index INTEGER NOT NULL,
    params_json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results(
    point_id TEXT NOT NULL,
    workload TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    operating_point TEXT,
    latency_s REAL, energy_j REAL, average_power_w REAL,
    cycles INTEGER, arena_bytes INTEGER, weights_bytes INTEGER,
    fits INTEGER,
    meets_deadline INTEGER,
    area_m2 REAL,
    energy_breakdown_json TEXT,
    PRIMARY KEY (point_id, workload));
"""


class StoreError(TinysimError):
    """A results file cannot be read, or belongs to another sweep."""


def canonical_json(params: Mapping[str, Any]) -> str:
    """Key-sorted, compact JSON: the same parameters always give the same text."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"), allow_nan=False)


def point_id(params: Mapping[str, Any]) -> str:
    """Stable id of a design point: the first 16 hex digits of SHA-1 of its canonical JSON."""
    return hashlib.sha1(canonical_json(params).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PointRow:
    point_id: str
    point_index: int
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ResultRow:
    """One (design point, workload) outcome; SI units; None where not applicable."""

    point_id: str
    workload: str
    status: str  # 'ok' or 'invalid'
    reason: str | None = None
    operating_point: str | None = None
    latency_s: float | None = None
    energy_j: float | None = None
    average_power_w: float | None = None
    cycles: float | None = None  # stored as a whole number of cycles
    arena_bytes: int | None = None
    weights_bytes: int | None = None
    fits: int | None = None
    meets_deadline: int | None = None
    area_m2: float | None = None  # die area (cost/area.py); None when the arch names no technology
    energy_breakdown: Mapping[str, float] | None = None

    def to_sql(self) -> tuple[Any, ...]:
        values = [getattr(self, name) for name in _ROW_FIELDS]
        values[_CYCLES] = None if self.cycles is None or not math.isfinite(self.cycles) else whole_cycles(self.cycles)
        values.append(None if self.energy_breakdown is None else json.dumps(dict(self.energy_breakdown)))
        return tuple(None if isinstance(v, float) and not math.isfinite(v) else v for v in values)

    @classmethod
    def from_sql(cls, row: tuple[Any, ...]) -> ResultRow:
        *head, breakdown = row
        columns = dict(zip(_ROW_FIELDS, head, strict=True))
        cycles = columns["cycles"]
        if cycles is not None:  # files before version 3 hold fractional cycles as REAL
            if not math.isfinite(float(cycles)):
                raise ValueError(f"cycles {cycles} is not a finite number")
            columns["cycles"] = whole_cycles(cycles)
        return cls(**columns, energy_breakdown=None if breakdown is None else json.loads(breakdown))


_ROW_FIELDS = tuple(f.name for f in fields(ResultRow))[:-1]  # the columns before the breakdown
_CYCLES = _ROW_FIELDS.index("cycles")
_RESULT_COLUMNS = (*_ROW_FIELDS, "energy_breakdown_json")
_INSERT_RESULT = (
    f"INSERT OR IGNORE INTO results({', '.join(_RESULT_COLUMNS)}) VALUES ({', '.join('?' * len(_RESULT_COLUMNS))})"
)


@dataclass(frozen=True)
class SweepResults:
    """Everything in a results file (what `tinysim report` reads)."""

    meta: Mapping[str, str]
    points: tuple[PointRow, ...]
    results: tuple[ResultRow, ...]

    def params(self, pid: str) -> Mapping[str, Any]:
        return {p.point_id: p.params for p in self.points}[pid]

    def identity(self, r: ResultRow) -> dict[str, Any]:
        """The identity fields of a row (cost.vocabulary): the tinysim that ran the sweep, the output schema,
        the base architecture (its file's stem: every point is a variant of it), workload, operating point."""
        base = self.meta.get("base_arch")
        return {
            "tinysim_version": self.meta.get("tinysim_version"),
            "schema_version": OUTPUT_SCHEMA_VERSION,
            "arch": Path(base).stem if base else None,
            "workload": r.workload,
            "operating_point": r.operating_point,
        }

    def rows(self) -> list[dict[str, Any]]:
        """One dict per (design point, workload): the identity fields, the point's id, index and parameters
        (SI values), then the result columns (SI units in the names; None where not applicable)."""
        index = {p.point_id: p for p in self.points}
        out = []
        for r in self.results:
            point = index.get(r.point_id)
            row: dict[str, Any] = {
                **self.identity(r),
                "point_id": r.point_id,
                "point_index": point.point_index if point else None,
                "params": dict(point.params) if point else {},
            }
            row.update({name: getattr(r, name) for name in _ROW_FIELDS[1:] if name not in row})
            row["energy_breakdown_j"] = None if r.energy_breakdown is None else dict(r.energy_breakdown)
            out.append(row)
        return out

    def flat_rows(self) -> list[dict[str, Any]]:
        """`rows` flattened for a table: a column per design parameter (its dotted path; prefixed "param."
        where it would clash with a result column) and the energy breakdown as energy_<cause>_j columns."""
        flat = []
        for row in self.rows():
            params, breakdown = row.pop("params"), row.pop("energy_breakdown_j") or {}
            head = {k: row.pop(k) for k in ("tinysim_version", "schema_version", "arch", "workload",
                                              "operating_point", "point_id", "point_index")}  # fmt: skip
            named = {(f"param.{k}" if k in head or k in row else k): v for k, v in params.items()}
            flat.append({**head, **named, **row, **{f"energy_{cause}_j": e for cause, e in breakdown.items()}})
        return flat

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the sweep's metadata and one row per (design point, workload)."""
        return {"meta": dict(self.meta), "rows": self.rows()}

    def to_dataframe(self):
        """A pandas DataFrame of `flat_rows`: one row per (design point, workload), a column per design
        parameter (needs pandas)."""
        return pandas().DataFrame(self.flat_rows())


def _read_only(path: str | Path) -> sqlite3.Connection:
    """A read-only connection; the path is percent-encoded into the URI, so '#', '?' and '%' are plain name
    characters (unescaped, 'r#1.sqlite' opened 'r' and two sweeps shared one file)."""
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=60.0)


def _connect(path: str | Path) -> sqlite3.Connection:
    con = sqlite3.connect(str(path), timeout=60.0)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    return con


class ResultStore:
    """A results file open for writing. Use `create` (new file) or `open` (resume)."""

    def __init__(self, con: sqlite3.Connection, path: str | Path) -> None:
        self._con = con
        self.path = Path(path)

    @classmethod
    def create(cls, path: str | Path, meta: Mapping[str, str]) -> ResultStore:
        """A new store at `path` (which must not hold a sweep) with `meta` written."""
        con = _connect(path)
        rows = {"schema_version": SCHEMA_VERSION, **{k: str(v) for k, v in meta.items()}}
        # Tables and meta in one transaction: a kill leaves an empty database or a whole store, never half.
        script = "".join(
            f"INSERT OR REPLACE INTO meta(key, value) VALUES ({_quote(k)}, {_quote(v)});\n" for k, v in rows.items()
        )
        con.executescript(f"BEGIN;\n{DDL}\n{script}COMMIT;")
        return cls(con, path)

    @staticmethod
    def is_empty(path: str | Path) -> bool:
        """Whether `path` is a database without tables (e.g. a sweep killed while creating it)."""
        if Path(path).is_file() and Path(path).stat().st_size == 0:
            return True
        con = _read_only(path)
        try:
            return con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.DatabaseError:
            return False
        finally:
            con.close()

    @classmethod
    def open(cls, path: str | Path) -> ResultStore:
        """An existing store, to resume writing into."""
        if not Path(path).is_file():
            raise StoreError("no such results file", file=str(path))
        probe = _read_only(path)  # ours or not, decided without changing the file (no WAL switch on a stranger's)
        try:
            version = _check_schema(probe, path)
        finally:
            probe.close()
        con = _connect(path)
        _upgrade(con, version)
        return cls(con, path)

    def meta(self) -> dict[str, str]:
        return dict(self._con.execute("SELECT key, value FROM meta"))

    def add_points(self, rows: Iterable[PointRow]) -> None:
        with self._con:
            self._con.executemany(
                "INSERT OR IGNORE INTO points(point_id, point_index, params_json) VALUES (?, ?, ?)",
                ((r.point_id, r.point_index, canonical_json(r.params)) for r in rows),
            )

    def add_results(self, rows: Iterable[ResultRow]) -> None:
        """Insert a batch in one transaction; pairs already present are kept as they are."""
        with self._con:
            self._con.executemany(_INSERT_RESULT, (r.to_sql() for r in rows))

    def done(self) -> set[tuple[str, str]]:
        """The (point_id, workload) pairs already stored."""
        return set(self._con.execute("SELECT point_id, workload FROM results"))

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ResultStore:  # noqa: PYI034 (Python 3.10 has no typing.Self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_V1 = "1"  # the tables of version 2 with area_mm2 (always NULL: no architecture had an area model then)
_V2 = "2"  # the tables of version 3 with peak_sram_bytes for arena_bytes, and cycles REAL
# What each older version calls a result column, as a SELECT expression.
_OLD_COLUMNS = {
    _V1: {"area_m2": "r.area_mm2 * 1e-6", "arena_bytes": "r.peak_sram_bytes"},
    _V2: {"arena_bytes": "r.peak_sram_bytes"},
}


def _check_schema(con: sqlite3.Connection, path: str | Path) -> str:
    """The file's schema version (this one or an older one this module reads); StoreError otherwise."""
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = (
            con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if ({"meta", "points", "results"} <= tables)
            else None
        )
        name = con.execute("SELECT value FROM meta WHERE key = 'sweep_name'").fetchone() if version else None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"not a tinysim sweep results file ({exc})", file=str(path)) from None
    if version is None or name is None:
        raise StoreError(
            "not a tinysim sweep results file (another program's database?); left unchanged", file=str(path)
        )
    if version[0] not in (SCHEMA_VERSION, *_OLD_COLUMNS):
        raise StoreError(
            f"results schema version {version[0] if version else 'missing'}, expected {SCHEMA_VERSION}", file=str(path)
        )
    return version[0]


def _upgrade(con: sqlite3.Connection, version: str) -> None:
    """Resuming an older file: rename its columns to this version's (mm² → m² for version 1), whole cycles,
    and mark it with this version, in one transaction."""
    if version == SCHEMA_VERSION:
        return
    with con:
        if version == _V1:
            con.execute("ALTER TABLE results RENAME COLUMN area_mm2 TO area_m2")
            con.execute("UPDATE results SET area_m2 = area_m2 * 1e-6 WHERE area_m2 IS NOT NULL")
        con.execute("ALTER TABLE results RENAME COLUMN peak_sram_bytes TO arena_bytes")
        con.execute("UPDATE results SET cycles = ROUND(cycles) WHERE cycles IS NOT NULL")
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION,))


def read_sweep(path: str | Path) -> SweepResults:
    """Read a whole results file (points ordered by index, results by point index then workload)."""
    if not Path(path).is_file():
        raise StoreError("no such results file", file=str(path))
    con = _read_only(path)
    try:
        version = _check_schema(con, path)
        meta = dict(con.execute("SELECT key, value FROM meta"))
        points = tuple(
            PointRow(pid, index, json.loads(params))
            for pid, index, params in con.execute(
                "SELECT point_id, point_index, params_json FROM points ORDER BY point_index"
            )
        )
        old = _OLD_COLUMNS.get(version, {})
        columns = [old.get(c, "r." + c) for c in _RESULT_COLUMNS]
        query = (
            f"SELECT {', '.join(columns)} FROM results r "
            "LEFT JOIN points p ON p.point_id = r.point_id ORDER BY p.point_index, r.workload"
        )
        results = tuple(ResultRow.from_sql(row) for row in con.execute(query))
    except (sqlite3.DatabaseError, json.JSONDecodeError, TypeError, ValueError) as exc:  # a damaged file
        raise StoreError(f"damaged results file: {type(exc).__name__}: {exc}", file=str(path)) from None
    finally:
        con.close()
    return SweepResults(meta=meta, points=points, results=results)
