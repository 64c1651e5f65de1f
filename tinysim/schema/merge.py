"""Merging a YAML document over another (`extends:`), keeping the file and line each value was written on.

Mappings merge key by key, recursively, and the child's value wins; lists and scalars are replaced
whole (a child's `{value: ..., assumed: ...}` merges with the parent's, a child's bare `16 KiB`
replaces it). Keys keep the parent's order; keys only the child has come after them. Every key of a
merged mapping records the file it came from (`YamlMap.key_files`), so an error in the merged
document names the file and line where the offending value was written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tinysim.schema.yamlio import YamlMap, file_of, line_of

__all__ = ["merge_yaml"]


def merge_yaml(parent: Any, child: Any, *, parent_file: str | None, child_file: str | None) -> Any:
    """`child` over `parent` (neither is modified); `*_file` label the keys written in each."""
    if not (isinstance(parent, Mapping) and isinstance(child, Mapping)):
        return child
    merged = YamlMap(line=line_of(child))
    for key in [*parent, *(k for k in child if k not in parent)]:
        if key in child:
            source, file = child, file_of(child, key) or child_file
            value = child[key]
            if key in parent:
                value = merge_yaml(parent[key], value, parent_file=file_of(parent, key) or parent_file, child_file=file)
        else:
            source, file, value = parent, file_of(parent, key) or parent_file, parent[key]
        merged[key] = value
        line = line_of(source, key)
        if line is not None:
            merged.key_lines[key] = line
        if file is not None:
            merged.key_files[key] = file
    return merged
