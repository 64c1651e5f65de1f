"""Field declarations shared by the YAML parsers and the JSON Schemas generated from them (one source).

A parser declares each block it reads as a `Block` of typed fields; it passes `block.keys` and
`block.required` to `fields.block(...)`, and `json_schema(...)` turns the same declaration into a
JSON Schema (Draft 2020-12) that editors use for completion and checking:

    SENSOR = Block({"sample_rate": Quantity(Dimension.FREQUENCY, Bound.POSITIVE), "name": Text()},
                   required=("sample_rate",))
    m = block(value, where, allowed=SENSOR.keys, required=SENSOR.required)

Each kind's loader assembles its document (`document(...)`); which loaders exist is known above this
package, so writing the shipped files (`write_schemas`) takes the documents as an argument.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinysim.schema.fields import NOTE_KEYS, Bound
from tinysim.units import Dimension

__all__ = [
    "SCHEMA_DIR",
    "Anything",
    "Block",
    "Choice",
    "Flag",
    "Integer",
    "ListOf",
    "MapOf",
    "Number",
    "OneOf",
    "Quantity",
    "Ref",
    "Text",
    "document",
    "json_schema",
    "outdated_schemas",
    "write_schemas",
]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).with_name("json")  # shipped as package data: tinysim/schema/json/<kind>.schema.json
_QUANTITY = "quantity-"  # prefix of the shared quantity definitions
_PARTIAL = "_partial"  # suffix of a definition's form inside an `extends:` variant
_NUMBER = r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"  # unsigned, as units.quantity reads it


@dataclass(frozen=True)
class Quantity:
    """A physical quantity: "48 MHz", a bare number in SI base units, or {value: ..., source|assumed: ...}."""

    dim: Dimension
    bound: Bound = Bound.ANY
    whole: bool = False  # the SI value must be a whole number (bytes, lanes); a unit may still scale it


def Integer(dim: Dimension = Dimension.DIMENSIONLESS, bound: Bound = Bound.ANY) -> Quantity:
    """A whole-number quantity (what `fields.get_int` reads)."""
    return Quantity(dim, bound, whole=True)


@dataclass(frozen=True)
class Number:
    """A plain YAML number (no unit, no provenance mapping), e.g. a quantization scale."""

    minimum: float | None = None
    exclusive: bool = False  # the minimum itself is excluded
    maximum: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class Text:
    """Non-empty text (a name, a path, a citation)."""


@dataclass(frozen=True)
class Flag:
    """true or false."""


@dataclass(frozen=True)
class Anything:
    """Any value (checked only by the parser)."""


@dataclass(frozen=True)
class Choice:
    """One of a closed set of strings; `values` may be a function, called only when a schema is generated
    (the set may come from a data file, e.g. the cores of cores.yaml)."""

    values: tuple[str, ...] | Callable[[], Iterable[str]]

    def resolved(self) -> list[str]:
        return list(self.values() if callable(self.values) else self.values)


@dataclass(frozen=True)
class Ref:
    """A definition the document supplies under `$defs` (a type known only to the package assembling it)."""

    name: str


@dataclass(frozen=True)
class ListOf:
    item: Field
    min_items: int = 0
    max_items: int | None = None


@dataclass(frozen=True)
class MapOf:
    """A mapping from names (matching `key_pattern`) to values of one type."""

    value: Field
    key_pattern: str | None = None
    min_items: int = 0


@dataclass(frozen=True)
class OneOf:
    """Any of several forms (e.g. a bare node name or a {node, nvm} block)."""

    options: tuple[Field, ...]


@dataclass(frozen=True)
class Block:
    """A mapping with fixed keys (plus `source:`/`assumed:`), some required.

    `required_unless`: keys required only when another key is absent ({"config": (...)}: a `config:` entry
    supplies them). `extra`: the type of any other key (e.g. per-arch costs keyed by arch name); None: no
    other key is allowed. `select`: the key whose value picks a variant (`kind:`, `op:`), with `variants`
    naming the Block of each value.
    """

    fields: Mapping[str, Field]
    required: tuple[str, ...] = ()
    required_unless: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extra: Field | None = None
    select: str | None = None
    variants: Mapping[str, Block] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        """The allowed keys, for `fields.block(allowed=...)`."""
        return tuple(self.fields)


Field = Quantity | Number | Text | Flag | Anything | Choice | Ref | ListOf | MapOf | OneOf | Block


def _unit_pattern(dim: Dimension, bound: Bound) -> str:
    units = sorted((u for u in dim.units if u), key=len, reverse=True)  # longest first: "kHz" before "Hz"
    alternatives = "|".join(re.escape(u) for u in units)
    sign = "[+-]?" if bound is Bound.ANY else r"\+?"  # "-3 KiB" is no size
    return rf"^\s*{sign}{_NUMBER}\s*({alternatives})?\s*$"


def _quantity_ref(q: Quantity) -> dict[str, Any]:
    """Quantities are shared definitions (`document` adds each one used): an op table has dozens."""
    name = f"{_QUANTITY}{q.dim.name.lower()}-{q.bound.name.lower()}{'-whole' if q.whole else ''}"
    return {"$ref": f"#/$defs/{name}"}


def _quantity_of(name: str) -> Quantity:
    dim, bound, *whole = name[len(_QUANTITY) :].split("-")
    return Quantity(Dimension[dim.upper()], Bound[bound.upper()], whole=bool(whole))


def _quantity(q: Quantity) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "integer" if q.whole else "number"}
    if q.bound is Bound.POSITIVE:
        number["exclusiveMinimum"] = 0
    elif q.bound is Bound.NONNEGATIVE:
        number["minimum"] = 0
    text = {"type": "string", "pattern": _unit_pattern(q.dim, q.bound)}
    scalar = {"anyOf": [number, text]}
    example = f' like "{q.dim.example}"' if q.dim.example else ""
    noted = {
        "type": "object",
        "properties": {"value": scalar, **{k: {"type": "string"} for k in NOTE_KEYS}},
        "required": ["value"],
        "additionalProperties": False,
    }
    return {"description": f"{q.dim.noun}{example}", "anyOf": [number, text, noted]}


def _number(n: Number) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer" if n.integer else "number"}
    if n.minimum is not None:
        out["exclusiveMinimum" if n.exclusive else "minimum"] = n.minimum
    if n.maximum is not None:
        out["maximum"] = n.maximum
    return out


def _block(b: Block, partial: bool) -> dict[str, Any]:
    props = {key: json_schema(value, partial=partial) for key, value in b.fields.items()}
    for key in NOTE_KEYS:
        props.setdefault(key, {"type": "string", "description": "provenance: a citable document, or why assumed"})
    out: dict[str, Any] = {"type": "object", "properties": props}
    if b.extra is not None:
        out["additionalProperties"] = json_schema(b.extra, partial=partial)
    elif b.select is None:  # with variants, the chosen variant's own schema closes the key set
        out["additionalProperties"] = False
    if b.required and not partial:
        out["required"] = list(b.required)
    rules = []
    if not partial:
        for absent, keys in b.required_unless.items():
            rules.append({"if": {"not": {"required": [absent]}}, "then": {"required": list(keys)}})
    if b.select is not None:
        for value, variant in b.variants.items():
            then = _block(variant, partial)
            rules.append({"if": {"properties": {b.select: {"const": value}}, "required": [b.select]}, "then": then})
        if partial:  # an override without `kind:` (inherited) still has only the keys of some variant
            some = [_block(v, partial) for v in b.variants.values()]
            rules.append({"if": {"not": {"required": [b.select]}}, "then": {"anyOf": some}})
    if rules:
        out["allOf"] = rules
    return out


def json_schema(f: Field, *, partial: bool = False) -> dict[str, Any]:
    """The JSON Schema of one declared field; `partial`: no key is required (an `extends:` variant's overrides)."""
    if isinstance(f, Quantity):
        return _quantity_ref(f)
    if isinstance(f, Number):
        return _number(f)
    if isinstance(f, Text):
        return {"type": "string", "minLength": 1}
    if isinstance(f, Flag):
        return {"type": "boolean"}
    if isinstance(f, Anything):
        return {}
    if isinstance(f, Choice):
        return {"enum": f.resolved()}
    if isinstance(f, Ref):
        return {"$ref": f"#/$defs/{f.name}{_PARTIAL if partial else ''}"}
    if isinstance(f, ListOf):
        out: dict[str, Any] = {"type": "array", "items": json_schema(f.item, partial=partial)}
        if f.min_items:
            out["minItems"] = f.min_items
        if f.max_items is not None:
            out["maxItems"] = f.max_items
        return out
    if isinstance(f, MapOf):
        out = {"type": "object", "additionalProperties": json_schema(f.value, partial=partial)}
        if f.key_pattern:
            out["propertyNames"] = {"pattern": f.key_pattern}
        if f.min_items:
            out["minProperties"] = f.min_items
        return out
    if isinstance(f, OneOf):
        return {"anyOf": [json_schema(option, partial=partial) for option in f.options]}
    return _block(f, partial)


def document(
    kind: str, root: Block, *, defs: Mapping[str, Field] = {}, description: str = "", partial_unless: str | None = None
) -> dict[str, Any]:
    """The JSON Schema document of one YAML kind. `partial_unless`: a key (`extends`) whose presence makes the
    file a set of overrides, so no key anywhere is required then."""
    out: dict[str, Any] = {
        "$schema": DRAFT,
        "title": f"tinysim {kind} (version 1)",
        "description": description,
    }
    full = json_schema(root)
    if partial_unless is None:
        out.update(full)
    else:
        partial = json_schema(root, partial=True)
        out["if"] = {"required": [partial_unless]}
        out["then"] = partial
        out["else"] = full
    if defs:
        out["$defs"] = {name: json_schema(f) for name, f in defs.items()}
        if partial_unless is not None:
            out["$defs"].update({name + _PARTIAL: json_schema(f, partial=True) for name, f in defs.items()})
    used = sorted(set(re.findall(rf'"#/\$defs/({_QUANTITY}[a-z-]+)"', json.dumps(out))))
    out.setdefault("$defs", {}).update({name: _quantity(_quantity_of(name)) for name in used})
    return out


def _text(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(schemas: Mapping[str, Mapping[str, Any]], folder: Path = SCHEMA_DIR) -> list[Path]:
    """Write `<kind>.schema.json` for each document; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, schema in schemas.items():
        path = folder / f"{kind}.schema.json"
        path.write_text(_text(schema), encoding="utf-8")
        written.append(path)
    return written


def outdated_schemas(schemas: Mapping[str, Mapping[str, Any]], folder: Path = SCHEMA_DIR) -> list[str]:
    """The kinds whose shipped file differs from (or lacks) what the declarations generate now."""
    stale = []
    for kind, schema in schemas.items():
        path = folder / f"{kind}.schema.json"
        if not path.is_file() or path.read_text(encoding="utf-8") != _text(schema):
            stale.append(kind)
    return stale
