"""The JSON Schemas shipped in tinysim/schema/json: every shipped YAML validates against its kind's schema, the
mistakes the loaders refuse (unknown key, missing required key, wrong choice) fail the schema too, and the
committed files are what the loaders' declarations generate now.

Regenerate the files: `.venv/bin/python tests/test_json_schema.py --write`.
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tinysim.arch.compute import compute_kinds
from tinysim.arch.loader import json_schema as arch_schema
from tinysim.arch.loader import parse_arch
from tinysim.errors import TinysimError
from tinysim.explore.sweep_spec import json_schema as sweep_schema
from tinysim.explore.sweep_spec import parse_sweep
from tinysim.schema.jsonschema import SCHEMA_DIR, Choice, Quantity, Ref, outdated_schemas, write_schemas
from tinysim.schema.kinds import SpecKind, spec_kind
from tinysim.schema.yamlio import load_yaml
from tinysim.system.scenario import json_schema as scenario_schema
from tinysim.system.scenario import parse_scenario
from tinysim.workload.layers_yaml import json_schema as workload_schema
from tinysim.workload.layers_yaml import load_layers_yaml

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
GENERATORS: dict[SpecKind, tuple[str, Callable[[], dict[str, Any]]]] = {
    SpecKind.ARCH: ("architecture", arch_schema),
    SpecKind.WORKLOAD: ("workload", workload_schema),
    SpecKind.SCENARIO: ("scenario", scenario_schema),
    SpecKind.SWEEP: ("sweep", sweep_schema),
}
SHIPPED = sorted([*(ROOT / "archs").glob("*.yaml"), *(ROOT / "workloads").rglob("*.yaml")])


def generated() -> dict[str, dict[str, Any]]:
    return {name: make() for name, make in GENERATORS.values()}


def validator(kind: SpecKind, draft: str = "2020-12") -> Any:
    """A validator for the committed schema file of `kind` (what an editor reads). Draft 7: what the VS Code
    YAML extension implements; the schemas use only keywords it knows, so they must work there too."""
    name = GENERATORS[kind][0]
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    if draft == "7":
        return jsonschema.Draft7Validator({k: v for k, v in schema.items() if k != "$schema"})
    return jsonschema.Draft202012Validator(schema)


def plain(path: Path) -> Any:
    """The YAML of `path` as plain dicts and lists (safe to change)."""
    return json.loads(json.dumps(load_yaml(path)))


def test_committed_schemas_are_current():
    stale = outdated_schemas(generated())
    assert not stale, f"regenerate {stale}: .venv/bin/python tests/test_json_schema.py --write"


@pytest.mark.parametrize("kind", list(GENERATORS), ids=lambda k: GENERATORS[k][0])
def test_schema_is_valid_draft_2020_12(kind):
    jsonschema.Draft202012Validator.check_schema(validator(kind).schema)


@pytest.mark.parametrize("draft", ["2020-12", "7"])
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_yaml_validates(path, draft):
    data = load_yaml(path)
    check = validator(spec_kind(data, file=str(path)), draft)
    errors = [f"{e.json_path}: {e.message}" for e in check.iter_errors(data)]
    assert not errors, "\n".join(errors)


def test_every_kind_is_shipped_and_checked():
    kinds = {spec_kind(load_yaml(p)) for p in SHIPPED}
    assert kinds == set(SpecKind)


# Mistakes a loader refuses; each must fail the schema as well. (file, change, what the mistake is)
def _set(path: tuple[Any, ...], value: Any) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[Any], None]:
    def change(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return change


MISTAKES = [
    ("archs/stm32l4r5.yaml", _set(("memories", "sram", "sizee"), "64 KiB"), "unknown memory key"),
    ("archs/stm32l4r5.yaml", _set(("compute", "cpu", "cyles_per_mac"), 2), "unknown compute key"),
    ("archs/stm32l4r5.yaml", _set(("bogus",), 1), "unknown top-level key"),
    ("archs/stm32l4r5.yaml", _drop(("memories",)), "missing memories"),
    ("archs/stm32l4r5.yaml", _drop(("compute", "cpu", "energy_per_cycle")), "missing compute key"),
    ("archs/stm32l4r5.yaml", _set(("compute", "cpu", "kind"), "gpu"), "unknown compute kind"),
    ("archs/stm32l4r5.yaml", _set(("compute", "cpu", "core"), "cortex-m5"), "unknown core"),
    ("archs/stm32l4r5-cmsis.yaml", _set(("compute", "cpu", "kernels"), "cmsis"), "unknown kernel library"),
    ("archs/ethos-u55-128.yaml", _set(("compute", "npu", "config"), "ethos-u55-96"), "unknown Ethos-U config"),
    ("archs/ndp120.yaml", _set(("compute", "core2", "mode"), "optical"), "unknown IMC mode"),
    ("archs/systolic-16x16.yaml", _set(("compute", "array", "dataflow"), "row_stationary"), "unknown dataflow"),
    ("archs/stm32l4r5.yaml", _set(("memories", "sram", "size"), "64 KHz"), "wrong unit"),
    ("archs/stm32l4r5.yaml", _set(("memories", "sram", "size"), -3), "negative size"),
    ("archs/stm32l4r5.yaml", _set(("memories", "sram", "size"), "-3 KiB"), "negative size with a unit"),
    ("workloads/kws.yaml", _set(("layers", 0, "filter"), 8), "unknown layer key"),
    ("workloads/kws.yaml", _set(("layers", 0, "op"), "conv3d"), "unknown op"),
    ("workloads/kws.yaml", _drop(("input", "scale")), "missing input scale"),
    ("workloads/kws.yaml", _set(("layers", 0, "padding"), "full"), "unknown padding"),
    ("workloads/scenarios/kws_always_on.yaml", _set(("sensor", "rate"), "16 kHz"), "unknown sensor key"),
    ("workloads/scenarios/kws_always_on.yaml", _drop(("sensor",)), "missing sensor"),
    ("workloads/scenarios/kws_always_on.yaml", _set(("dvfs", "policy"), "fastest"), "unknown dvfs policy"),
    ("workloads/sweeps/npu_macs.yaml", _set(("sampling", "metod"), "grid"), "unknown sampling key"),
    ("workloads/sweeps/npu_macs.yaml", _drop(("axes",)), "missing axes"),
    ("workloads/sweeps/npu_macs.yaml", _set(("sampling", "method"), "sobol"), "unknown sampling method"),
    ("workloads/sweeps/npu_macs.yaml", _set(("objectives",), ["latency", "speed"]), "unknown objective"),
]


def _loader_refuses(kind: SpecKind, data: Any, original: Path, tmp_path: Path) -> bool:
    """Whether the tinysim loader of `kind` rejects `data` (read as if it were the file `original`)."""
    try:
        if kind is SpecKind.ARCH:
            parse_arch(data, file=str(original))
        elif kind is SpecKind.SCENARIO:
            parse_scenario(data, file=str(original))
        elif kind is SpecKind.SWEEP:
            parse_sweep(data, file=str(original))
        else:
            path = tmp_path / original.name
            path.write_text(yaml.safe_dump(data), encoding="utf-8")
            load_layers_yaml(path)
    except TinysimError:
        return True
    return False


@pytest.mark.parametrize(("file", "change", "what"), MISTAKES, ids=[m[2] for m in MISTAKES])
def test_mistake_fails_schema_and_loader(file, change, what, tmp_path):
    original = ROOT / file
    data = plain(original)
    kind = spec_kind(data)
    check = validator(kind)
    assert check.is_valid(data), f"{file} should validate before the change"
    changed = copy.deepcopy(data)
    change(changed)
    assert _loader_refuses(kind, changed, original, tmp_path), f"the loader accepts: {what}"
    assert not check.is_valid(changed), f"the schema accepts: {what}"
    assert not validator(kind, "7").is_valid(changed), f"the schema read as draft 7 accepts: {what}"


def _bad_value(declared: Any) -> Any:
    """A value of the wrong type for a declared field."""
    if isinstance(declared, Quantity) or declared == Ref("op_table"):
        return "3 furlongs"  # a quantity (or an op table's bare form) with a unit of no dimension
    if isinstance(declared, Ref) and declared.name in ("op_kinds", "schemes"):
        return ["NO_SUCH"]
    return "no-such-choice" if isinstance(declared, Choice) else 5  # text, memory names, flags, blocks: not 5


COMPUTE_FIELDS = [
    (path, unit, key)
    for path in sorted((ROOT / "archs").glob("*.yaml"))
    if "extends" not in (data := plain(path))
    for unit, block in data["compute"].items()
    for key in block
    if key not in ("kind", "source", "assumed")
]


@pytest.mark.parametrize(("path", "unit", "key"), COMPUTE_FIELDS, ids=lambda v: getattr(v, "stem", v))
def test_declared_field_type_agrees_with_parser(path, unit, key, tmp_path):
    """Each compute field written in a shipped arch, given a value of the wrong type for its declaration:
    the parser refuses it too (the declaration says what the parser reads)."""
    data = plain(path)
    kind = data["compute"][unit]["kind"]
    fields = importlib.import_module(compute_kinds()[kind].__module__).FIELDS.fields
    data["compute"][unit][key] = _bad_value(fields[key])
    assert _loader_refuses(SpecKind.ARCH, data, path, tmp_path), f"the parser accepts {data['compute'][unit][key]!r}"
    assert not validator(SpecKind.ARCH).is_valid(data)


def test_extends_variant_needs_only_overrides():
    """A file with `extends:` only overrides its base: no key is required, unknown keys still fail."""
    check = validator(SpecKind.ARCH)
    child = {"version": 1, "extends": "ndp100", "compute": {"core1": {"energy_per_cycle": "5 pJ"}}}
    assert check.is_valid(child)
    assert not check.is_valid({**child, "compute": {"core1": {"energy_per_cyle": "5 pJ"}}})
    assert not check.is_valid({k: v for k, v in child.items() if k != "extends"})  # a full arch lacks everything


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    for written in write_schemas(generated()):
        print(written)
