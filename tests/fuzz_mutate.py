"""Seeded mutators of the fuzzed inputs (tests/fuzz_inputs.py): YAML trees and text, raw bytes of a
`.tflite`, `.npy` inputs, and sweep results files. Each takes a `random.Random` and is deterministic in it."""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
import struct
from pathlib import Path
from typing import Any

import yaml

HUGE_INT = 10**40
EXTREME_NUMBERS: tuple[Any, ...] = (
    1e308,
    -1e308,
    5e-324,
    -5e-324,
    -1,
    0,
    1,
    float("inf"),
    float("-inf"),
    float("nan"),
    HUGE_INT,
    -HUGE_INT,
    2**63,
    2**31,
    -(2**31),
    1e-300,
    0.5,
    65536,
)
WRONG_TYPES: tuple[Any, ...] = (
    None,
    True,
    "",
    "abc",
    [],
    {},
    [1, 2],
    {"value": 1},
    "x" * 5000,
    "µW\u2028",
    "\u2028",
    "1\u20282",
    "ünïcödé 名前",
    "\x00",
    "${HOME}",
    "../../../../etc/passwd",
    "-",
    "1e308 MHz",
    "nan V",
    "inf KiB",
)
UNITS = (
    "Hz",
    "MHz",
    "GHz",
    "pJ",
    "nJ",
    "J",
    "KiB",
    "MiB",
    "B",
    "bytes",
    "V",
    "mV",
    "uW",
    "mW",
    "W",
    "s",
    "ms",
    "us",
    "mAh",
    "MB/s",
    "furlong",
    "",
)
_QUANTITY = re.compile(r"^\s*(-?[\d.]+(?:e-?\d+)?)\s*([A-Za-zµ/%]+)\s*$")


def mutate_yaml(text: str, rng: random.Random) -> str:
    """A shipped YAML file with a few of its values, keys or text broken."""
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError:
        tree = None
    if isinstance(tree, dict) and rng.random() < 0.85:
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            _mutate_tree(tree, rng)
        text = yaml.safe_dump(tree, allow_unicode=rng.random() < 0.5, sort_keys=False, width=1 << 20)
        text = re.sub(r"__deep_(\d+)__", lambda m: _deep(int(m.group(1)), rng), text)
    if rng.random() < 0.3:
        text = _mutate_text(text, rng)
    return text


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path from the root to a value (dict keys and list indices)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


def _get(tree: Any, path: tuple) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _mutate_tree(tree: dict, rng: random.Random) -> None:
    paths = _paths(tree)
    if not paths:
        return
    path = rng.choice(paths)
    parent, key = _get(tree, path[:-1]), path[-1]
    value = parent[key]
    roll = rng.random()
    if roll < 0.45:
        parent[key] = _extreme_like(value, rng)
    elif roll < 0.6:
        parent[key] = rng.choice(WRONG_TYPES)
    elif roll < 0.7 and isinstance(parent, dict):
        del parent[key]
    elif roll < 0.75 and isinstance(parent, dict):
        parent[rng.choice((f"{key}x", str(key).upper(), "unknown_key", "µ\u2028"))] = parent.pop(key)
    elif roll < 0.82:
        parent[key] = f"__deep_{rng.randrange(50, 3000)}__"  # nested in the text: too deep for the dumper
    elif roll < 0.9 and isinstance(value, list) and value:
        parent[key] = value * rng.choice((2, 10, 200))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        parent[key] = value * rng.choice((-1, 0, 1000, 1e6, 1e-6, 1e300))
    else:
        parent[key] = _extreme_like(value, rng)


def _extreme_like(value: Any, rng: random.Random) -> Any:
    """An extreme number; for a quantity string ("48 MHz") the same unit, a wrong one or none."""
    number = rng.choice(EXTREME_NUMBERS)
    if isinstance(value, dict) and "value" in value:
        return {**value, "value": _extreme_like(value["value"], rng)}
    match = _QUANTITY.match(value) if isinstance(value, str) else None
    if match:
        unit = match.group(2) if rng.random() < 0.6 else rng.choice(UNITS)
        shown = repr(number) if isinstance(number, float) else str(number)
        return f"{shown} {unit}".strip()
    return number


def _deep(depth: int, rng: random.Random) -> str:
    """`depth` nested flow lists or mappings around a 1."""
    opens = ["[" if rng.random() < 0.5 else "{a: " for _ in range(depth)]
    return "".join(opens) + "1" + "".join("]" if o == "[" else "}" for o in reversed(opens))


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or ["\n"]
    i = rng.randrange(len(lines))
    roll = rng.random()
    if roll < 0.25:
        lines.insert(i, lines[i])  # a duplicated key (or list item)
    elif roll < 0.4:
        lines[i] = lines[i].replace(" ", "\u2028", 1)
    elif roll < 0.55:
        return text[: rng.randrange(len(text) + 1)]
    elif roll < 0.65:
        lines[i] = "\t" + lines[i]
    elif roll < 0.75:
        lines.insert(i, "[" * 5000 + "\n")
    elif roll < 0.85:
        lines.insert(
            i, "a: &a [" + ",".join(["*a"] * 3) + "]\n" if rng.random() < 0.5 else "!!python/object:os.system {}\n"
        )
    else:
        lines[i] = "".join(chr(rng.randrange(1, 0x3000)) for _ in range(rng.randrange(1, 40))) + "\n"
    return "".join(lines)


def corrupt_bytes(data: bytes, rng: random.Random) -> bytes:
    """Byte flips, truncation, or a 32-bit field (an offset, an index, a length) set to an extreme."""
    buf = bytearray(data)
    roll = rng.random()
    if roll < 0.2:
        return bytes(buf[: rng.randrange(len(buf))])
    if roll < 0.5:
        for _ in range(rng.choice((1, 2, 4, 16))):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf)
    for _ in range(rng.choice((1, 1, 2, 3))):
        at = rng.randrange(0, len(buf) - 4) & ~3
        old = struct.unpack_from("<i", buf, at)[0]
        new = rng.choice((0, -1, 1, 0x7FFFFFFF, -0x80000000, len(buf), old + 1, old - 1, old * 2, 1 << 20))
        struct.pack_into("<i", buf, at, max(-(2**31), min(2**31 - 1, new)))
    return bytes(buf)


def corrupt_npy(path: Path, shape: tuple[int, ...], rng: random.Random) -> int:
    """Write a bad (or occasionally good) input for a model input of `shape` (int8); return --frames or 0."""
    import numpy as np

    roll = rng.randrange(12)
    frames = 0
    good = np.zeros(shape, np.int8)
    if roll == 0:
        arr: Any = good.astype(rng.choice((np.float32, np.float64, np.int64, np.uint8, np.int16, np.bool_)))
        if arr.dtype.kind == "f":
            arr[..., 0] = rng.choice((np.nan, np.inf, 1e308 if arr.dtype == np.float64 else 3e38))
    elif roll == 1:
        arr = np.zeros(
            rng.choice(((shape[-1],), (1, shape[-1] + 1), (0, shape[-1]), (2, *shape[1:]), (), (1, 1, 1, 1))), np.int8
        )
    elif roll == 2:
        arr = np.array([{"a": 1}, None], dtype=object)
    elif roll == 3:
        arr = good.astype(">i2") if rng.random() < 0.5 else np.asfortranarray(np.zeros((*shape, 2), np.int8))
    elif roll == 4:
        frames = rng.choice((1, 2, 3, 0, 10**6))
        arr = np.zeros((max(frames, 1) if frames < 100 else 2, *shape), np.int8)
        frames = frames if frames else -1
    elif roll == 5:
        arr = np.zeros(shape, dtype=[("a", np.int8), ("b", np.float32)])
    elif roll == 6:
        arr = good.astype(np.complex64)
    else:
        arr = good
    np.save(path, arr, allow_pickle=True)
    if roll >= 7:
        data = bytearray(path.read_bytes())
        if roll == 7:  # a header that claims a huge (or negative) shape
            import io

            head = io.BytesIO()
            huge = rng.choice(((1, 10**13), (10**11, 1600), (-1, 1600), (2**62, 2**62)))
            np.lib.format.write_array_header_1_0(head, {"descr": "|i1", "fortran_order": False, "shape": huge})
            data = bytearray(head.getvalue() + bytes(64))
        elif roll == 8:
            data = data[: rng.randrange(len(data))]
        elif roll == 9:
            for _ in range(rng.choice((1, 3, 8))):
                data[rng.randrange(min(len(data), 128))] = rng.randrange(256)
        elif roll == 10:
            data = bytearray(rng.randbytes(rng.randrange(0, 4000)))
        else:
            data = bytearray(b"PK\x03\x04" + bytes(data[4:]))
        path.write_bytes(bytes(data))
    return max(frames, 0) if frames != -1 else 0


def corrupt_results(source: Path, dest: Path, rng: random.Random) -> None:
    """A copy of a valid sweep results file with its bytes or its rows broken."""
    shutil.copyfile(source, dest)
    if rng.random() < 0.35:
        dest.write_bytes(corrupt_bytes(dest.read_bytes(), rng))
        return
    with sqlite3.connect(dest) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        table = rng.choice(tables)
        columns = [c[1] for c in db.execute(f'PRAGMA table_info("{table}")')]
        roll = rng.random()
        try:
            _break_rows(db, table, columns, roll, rng)
        except sqlite3.Error:
            pass  # the mutation is not allowed on this table: the file stays valid


def _break_rows(db: sqlite3.Connection, table: str, columns: list[str], roll: float, rng: random.Random) -> None:
    if roll < 0.15:
        db.execute(f'DROP TABLE "{table}"')
    elif roll < 0.3:
        db.execute(f'DELETE FROM "{table}"')
    elif roll < 0.4:
        db.execute(f'ALTER TABLE "{table}" DROP COLUMN "{rng.choice(columns)}"')
    else:
        value = rng.choice((*EXTREME_NUMBERS, None, "", "abc", "{", "[]", '{"a": 1}', "nan", b"\xff\x00"))
        if isinstance(value, int) and abs(value) >= 2**63:
            value = float(value)
        db.execute(f'UPDATE "{table}" SET "{rng.choice(columns)}" = ?', (value,))
