"""YAML loading that remembers line numbers, for error messages that point at the file.

`load_yaml(path)` returns plain-looking data whose mappings and lists are `YamlMap` /
`YamlList`: ordinary `dict` / `list` subclasses that also know the (1-based) line of
the container, of each key and of each list item. Scalars are ordinary Python values;
ask their container for their line with `line_of(container, key_or_index)`. A mapping merged
from several files (`extends:`, see `merge.py`) also knows which file each key was written in
(`file_of`).

    data = load_yaml("archs/x.yaml")
    line_of(data["memories"], "sram")     # line of the `sram:` key
    line_of(data["operating_points"], 0)  # line of the first list item

Built on PyYAML's SafeLoader (no arbitrary objects), with two changes: a duplicate key
is an error, and floats written without a dot ("1e-12") are floats, as in YAML 1.2.
Every failure (missing file, bad encoding, YAML syntax, duplicate key) raises `error`
(`SpecError` unless the caller passes e.g. `WorkloadError`) with file and line.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from tinysim.errors import SpecError, TinysimError
from tinysim.schema.files import MAX_SPEC_BYTES, read_regular_file

__all__ = ["YamlList", "YamlMap", "file_of", "line_of", "load_yaml", "load_yaml_text"]


class YamlMap(dict):
    """A YAML mapping: a dict that knows its own line and the line of each key (and, merged from several
    files, the file of each key; keys not in `key_files` are in the file the mapping was read from)."""

    def __init__(self, *args: Any, line: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line = line
        self.key_lines: dict[Any, int] = {}
        self.key_files: dict[Any, str] = {}


class YamlList(list):
    """A YAML sequence: a list that knows its own line and the line of each item."""

    def __init__(self, *args: Any, line: int | None = None) -> None:
        super().__init__(*args)
        self.line = line
        self.item_lines: list[int] = []


_NO_KEY = object()


def line_of(container: Any, key: Any = _NO_KEY) -> int | None:
    """Line of `container[key]` (a key of a YamlMap, an index of a YamlList), else of `container`.

    Falls back to the container's own line when the key is absent, and to None for
    data that did not come from `load_yaml` (e.g. a dict built in a test).
    """
    if key is not _NO_KEY:
        if isinstance(container, YamlMap) and isinstance(key, Hashable) and key in container.key_lines:
            return container.key_lines[key]
        if (
            isinstance(container, YamlList)
            and isinstance(key, int)
            and -len(container.item_lines) <= key < len(container.item_lines)
        ):
            return container.item_lines[key]
    return getattr(container, "line", None)


def file_of(container: Any, key: Any) -> str | None:
    """The file `container[key]` was written in, if the container was merged from several files; else None."""
    if isinstance(container, YamlMap) and isinstance(key, Hashable):
        return container.key_files.get(key)
    return None


class _LineLoader(yaml.SafeLoader):
    """SafeLoader building YamlMap/YamlList; rejects duplicate keys."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # PyYAML's scalar constructors leak plain exceptions for values like `!!int abc`,
        # `2001-13-45` or a 5000-digit integer: turn them into marked YAML errors.
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError):
            tag = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value as {tag}", node.start_mark
            ) from None


# YAML 1.1 reads "1e-12" (no dot) as a string; accept it as a float like YAML 1.2 does.
_FLOAT_NO_DOT = re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$")
_LineLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_NO_DOT, list("-+0123456789"))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _construct_map(loader: _LineLoader, node: yaml.MappingNode):  # generator, as PyYAML expects
    data = YamlMap(line=_line(node))
    yield data  # yielded first so recursive aliases can refer to it
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key]})", key_node.start_mark
            )
        seen[key] = _line(key_node)
    loader.flatten_mapping(node)  # resolves `<<: *anchor` merges; own keys come last and win
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        data[key] = loader.construct_object(value_node, deep=False)
        data.key_lines[key] = _line(key_node)


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode):
    data = YamlList(line=_line(node))
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=False))
        data.item_lines.append(_line(item))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml_text(text: str, *, file: str | None = None, error: type[TinysimError] = SpecError) -> Any:
    """Parse one YAML document from `text`; `file` only labels errors. Empty text gives None."""
    try:
        return yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        # at end of stream the mark is past the last line: point at the last line instead
        line = min(mark.line + 1, max(len(text.splitlines()), 1)) if mark else None
        context = e.context or ""
        if e.context and e.context_mark and e.context_mark.line + 1 != line:
            context += f" (from line {e.context_mark.line + 1})"
        message = " ".join(" ".join(part for part in (context, e.problem) if part).split()) or "syntax error"
        raise error(f"invalid YAML: {message}", file=file, line=line) from None
    except yaml.reader.ReaderError as e:  # a forbidden character; has a position, not a line
        line = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
        raise error(f"invalid YAML: unacceptable character #x{e.character:04x}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise error(f"invalid YAML: {e}", file=file) from None
    except RecursionError:
        raise error("invalid YAML: nested too deeply", file=file, line=_deepest_line(text)) from None


def load_yaml(path: str | Path, *, error: type[TinysimError] = SpecError) -> Any:
    """Read and parse the YAML file at `path` (UTF-8). Empty file gives None."""
    file = str(path)
    raw = read_regular_file(path, limit=MAX_SPEC_BYTES, error=error)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise error(f"not UTF-8 text (byte 0x{raw[e.start]:02x})", file=file, line=line) from None
    return load_yaml_text(text, file=file, error=error)


def _deepest_line(text: str) -> int:
    """The line where flow brackets nest deepest (where a too-deep document is deepest): for the error's FILE:LINE."""
    depth = best = 0
    line = best_line = 1
    for char in text:
        if char == "\n":
            line += 1
        elif char in "[{":
            depth += 1
            if depth > best:
                best, best_line = depth, line
        elif char in "]}":
            depth = max(depth - 1, 0)
    return best_line
