"""Tests for tinysim.spec: line-keeping YAML, the arch schema and its validation errors."""

from __future__ import annotations

import pytest

from tinysim.errors import SpecError
from tinysim.spec.yamlio import YamlList, YamlMap, line_of, load_yaml, load_yaml_text


def test_yaml_keeps_lines(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\nb:\n  c: 1e-12\n  d: [1, 2]\nl:\n  - x\n  - {y: 2}\n")
    data = load_yaml(path)
    assert isinstance(data, YamlMap) and isinstance(data["l"], YamlList)
    assert data == {"a": 1, "b": {"c": 1e-12, "d": [1, 2]}, "l": ["x", {"y": 2}]}
    assert line_of(data, "b") == 2
    assert line_of(data["b"], "c") == 3
    assert line_of(data["l"], 1) == 7
    assert line_of(data, "missing") == data.line == 1
    assert line_of({"plain": 1}, "plain") is None


def test_yaml_merge_keys_keep_override():
    data = load_yaml_text("base: &b {p: 1, q: 2}\nm:\n  <<: *b\n  q: 3\n")
    assert data["m"] == {"p": 1, "q": 3}
    assert line_of(data["m"], "q") == 4


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\na: 2\n", 2, "duplicate key 'a' (first on line 1)"),
        ("a: [1\n", 2, "invalid YAML"),
        ("a: !!python/object:os.system {}\n", 1, "constructor"),
        ("a: \x01\n", 1, "unacceptable character"),
        ("a: 1\n---\nb: 2\n", 2, "single document"),
        ("? [1]\n: 2\n", 1, "unhashable key"),
    ],
)
def test_yaml_errors_name_file_and_line(text, line, fragment):
    with pytest.raises(SpecError) as info:
        load_yaml_text(text, file="x.yaml")
    assert info.value.file == "x.yaml" and info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"x.yaml:{line}: ")


def test_yaml_file_errors(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"a: 1\nb: \xe9\n")
    with pytest.raises(SpecError, match=r"latin1.yaml:2: not UTF-8"):
        load_yaml(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_yaml(empty) is None
