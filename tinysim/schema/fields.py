"""Reading validated fields out of YAML mappings, with `FILE:LINE: field.path: message` errors.

Shared by every parser of tinysim YAML (architectures, layer lists, scenarios). A `Where`
says where we are (file, dotted field path, line) and which error class to raise; the
`get_*` functions read one key of a mapping, check it and convert it:

    where = Where(file="archs/x.yaml", notes={})
    top = block(data, where, allowed=("name", "size"), required=("name",))
    size = get_quantity(top, "size", where, Dimension.SIZE, bound=Bound.POSITIVE)

A quantity may be written `3.2 pJ` or `{value: 3.2 pJ, source: "..."}` /
`{value: ..., assumed: "why"}`, and any block may carry `source:` / `assumed:`;
these notes are collected into `where.notes` (field path → "source: ..." text) when
the caller passes a dict there.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tinysim.errors import SpecError, TinysimError
from tinysim.schema.collect import ErrorCollector
from tinysim.schema.yamlio import file_of, line_of
from tinysim.units import Dimension, format_quantity, parse_quantity
from tinysim.units.quantity import describe_value

__all__ = [
    "NOTE_KEYS",
    "REQUIRED",
    "Bound",
    "Where",
    "block",
    "closest",
    "expect_list",
    "expect_mapping",
    "get_choice",
    "get_enum",
    "get_int",
    "get_quantity",
    "get_str",
    "quantity",
]

NOTE_KEYS = ("source", "assumed")  # provenance keys allowed on any block and any quantity
REQUIRED: Any = object()  # default meaning "this key must be present"
E = TypeVar("E", bound=enum.Enum)


class Bound(enum.Enum):
    """Which numbers a field accepts."""

    ANY = "any"
    NONNEGATIVE = "non-negative"
    POSITIVE = "positive"


@dataclass(frozen=True)
class Where:
    """A place in a document being parsed, and the notes collected so far (shared, may be None)."""

    file: str | None = None
    path: str = ""
    line: int | None = None
    error: type[TinysimError] = SpecError
    notes: dict[str, str] | None = field(default=None, compare=False, repr=False)

    def key(self, mapping: Any, key: Any) -> Where:
        """The place of `mapping[key]`: the key's file and line; for a missing key, the line that names the mapping."""
        name = key if isinstance(key, str) and key.isprintable() else describe_value(key)  # paths stay one line
        path = f"{self.path}.{name}" if self.path else name
        present = isinstance(mapping, Mapping) and isinstance(key, Hashable) and key in mapping
        line = line_of(mapping, key) if present else self.line or line_of(mapping)
        file = (file_of(mapping, key) if present else None) or self.file  # merged mappings span files
        return Where(file, path, line or self.line, self.error, self.notes)

    def item(self, seq: Any, index: int) -> Where:
        """The place of `seq[index]`."""
        return Where(self.file, f"{self.path}[{index}]", line_of(seq, index) or self.line, self.error, self.notes)

    def fail(self, message: str) -> TinysimError:
        """The error to raise here (the caller raises it, so tracebacks point at the check)."""
        return self.error(message, file=self.file, line=self.line, field=self.path or None)

    def note(self, text: str) -> None:
        if self.notes is not None:
            self.notes[self.path] = text


def closest(word: Any, choices: Iterable[str]) -> str:
    """' (did you mean "x"?)' for the nearest choice, matching case-insensitively first; else ''."""
    choices = list(choices)
    if not isinstance(word, str):
        return ""
    same = [c for c in choices if c.lower() == word.lower()]
    match = same or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f' (did you mean "{match[0]}"?)' if match else ""


def expect_mapping(value: Any, where: Where, what: str = "a mapping") -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise where.fail(f"expected {what}, got {describe_value(value)}")
    return value


def expect_list(value: Any, where: Where, what: str = "a list") -> list[Any]:
    if not isinstance(value, list):
        raise where.fail(f"expected {what}, got {describe_value(value)}")
    return value


def block(
    value: Any,
    where: Where,
    *,
    allowed: Collection[str],
    required: Collection[str] = (),
    what: str = "a mapping",
    errors: ErrorCollector | None = None,
) -> Mapping[str, Any]:
    """`value` checked as a mapping with string keys among `allowed` (+ source/assumed), `required` present.

    Records the block's own `source:`/`assumed:` note under `where.path`. With a collecting `errors`,
    each wrong key is its own error and the mapping is returned (the caller reads only allowed keys).
    """
    mapping = expect_mapping(value, where, what)
    errors = errors or ErrorCollector()
    valid = list(allowed) + [k for k in NOTE_KEYS if k not in allowed]
    for key in mapping:
        with errors.part():
            if not isinstance(key, str):
                raise where.key(mapping, key).fail(f"expected a key name (text), got {describe_value(key)}")
            if key not in valid:
                raise where.key(mapping, key).fail(
                    f"unknown key {describe_value(key)}{closest(key, valid)}; allowed keys: {', '.join(valid)}"
                )
    for key in required:
        with errors.part():
            if key not in mapping:
                raise where.key(mapping, key).fail(f'missing required key "{key}" in {where.path or "the file"}')
    with errors.part():
        _record_notes(mapping, where)
    return mapping


def _record_notes(mapping: Mapping[str, Any], where: Where) -> None:
    texts = []
    for key in NOTE_KEYS:
        if key in mapping:
            text = get_str(mapping, key, where)
            texts.append(f"{key}: {text}")
    if texts:
        where.note("; ".join(texts))


def get_str(mapping: Mapping[str, Any], key: str, where: Where, default: Any = REQUIRED) -> str:
    """A non-empty string (numbers are not silently turned into text)."""
    if key not in mapping:
        if default is REQUIRED:
            raise where.key(mapping, key).fail(f'missing required key "{key}"')
        return default
    value, here = mapping[key], where.key(mapping, key)
    if not isinstance(value, str) or not value.strip():
        raise here.fail(f"expected non-empty text, got {describe_value(value)}")
    return value.strip()


def get_choice(mapping: Mapping[str, Any], key: str, where: Where, choices: Collection[str], what: str) -> str:
    """A string that must be one of `choices`; `what` names it in errors ("a memory name")."""
    value = get_str(mapping, key, where)
    if value not in choices:
        raise where.key(mapping, key).fail(
            f"expected {what} ({', '.join(choices) or 'none defined'}), "
            f"got {describe_value(value)}{closest(value, choices)}"
        )
    return value


def get_enum(mapping: Mapping[str, Any], key: str, where: Where, enum_type: type[E]) -> E:
    """An enum member from its value (`Dataflow: weight_stationary`), listing the valid values."""
    names = [str(m.value) for m in enum_type]
    value = get_choice(mapping, key, where, names, f"a {enum_type.__name__}")
    return enum_type(value)


def quantity(value: Any, where: Where, dim: Dimension, bound: Bound = Bound.ANY) -> float:
    """`value` (scalar or {value, source|assumed}) as an SI float in `bound`; records its note."""
    if isinstance(value, Mapping):
        inner = block(value, where, allowed=("value",), required=("value",), what=f"{dim.noun} or a mapping")
        value = inner["value"]
        file = file_of(inner, "value") or where.file
        where = Where(file, where.path, line_of(inner, "value") or where.line, where.error, where.notes)
    result = parse_quantity(value, dim, field=where.path, file=where.file, line=where.line)
    if (bound is Bound.POSITIVE and result <= 0) or (bound is Bound.NONNEGATIVE and result < 0):
        raise where.fail(f'expected a {bound.value} {dim.value} like "{dim.example}", got {describe_value(value)}')
    return result


def get_quantity(
    mapping: Mapping[str, Any],
    key: str,
    where: Where,
    dim: Dimension,
    *,
    bound: Bound = Bound.ANY,
    default: Any = REQUIRED,
) -> Any:
    """`mapping[key]` as an SI float of dimension `dim`; `default` when absent (unless REQUIRED)."""
    if key not in mapping:
        if default is REQUIRED:
            raise where.key(mapping, key).fail(f'missing required key "{key}" ({dim.noun} like "{dim.example}")')
        return default
    return quantity(mapping[key], where.key(mapping, key), dim, bound)


def get_int(
    mapping: Mapping[str, Any],
    key: str,
    where: Where,
    dim: Dimension = Dimension.DIMENSIONLESS,
    *,
    bound: Bound = Bound.ANY,
    default: Any = REQUIRED,
) -> Any:
    """Like `get_quantity`, but the SI value must be a whole number (e.g. bytes, lanes)."""
    if key not in mapping:
        return get_quantity(mapping, key, where, dim, bound=bound, default=default)
    value = get_quantity(mapping, key, where, dim, bound=bound)
    if value != round(value):
        unit = {"": "", "B": " of bytes"}.get(dim.base_unit, f" of {dim.base_unit}")
        shown = format_quantity(value, dim) if dim.base_unit else describe_value(value)
        raise where.key(mapping, key).fail(f"expected a whole number{unit}, got {shown}")
    return round(value)
