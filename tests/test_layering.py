"""The package layering of DESIGN.md, read statically with `ast` (nothing is imported): no import cycle
between packages, no import up the layers, no `_private` name taken from another package.

Every import counts, including those inside functions and under TYPE_CHECKING, and `importlib.import_module`
calls whose argument starts with a literal "tinysim.x" (plug-ins found by file name).
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOT = "tinysim"  # the root package: tinysim/__init__.py, the public API

# Bottom to top (DESIGN.md, "Packages"). A package may import those in lower tiers only; packages in one
# tier do not import each other.
TIERS: tuple[tuple[str, ...], ...] = (
    ("errors", "version", "dataframes"),
    ("catalog",),  # shipped archs and workloads by name
    ("units",),  # units raises errors, so errors sits below it
    ("schema",),
    ("ops",),
    ("events",),
    ("arch",),
    ("workload",),
    ("kernels",),  # kernel libraries: which routine runs an op, its scratch buffers
    ("engine",),
    ("cost",),
    ("pipeline",),
    ("frames",),
    ("system", "compression", "explore", "validation"),
    ("report",),
    ("api",),
    ("cli",),
    (ROOT,),
)
RANK = {pkg: i for i, tier in enumerate(TIERS) for pkg in tier}
# "cli may import everything" (it calls the public API); a cli <-> root cycle is still caught by the cycle test.
IMPORTS_ANYTHING = {"cli", ROOT}

# Known violations in files being changed elsewhere: (importing file, imported module). Each entry is
# skipped by the checks below and must still occur (test_allowed_exceptions_still_occur), so fixing one
# turns that test red until its line here is removed.
ALLOWED: dict[tuple[str, str], str] = {
}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository, e.g. tinysim/explore/runner.py
    line: int
    importer: str  # module, e.g. tinysim.explore.runner
    target: str  # module imported, e.g. tinysim (the names below come from it)
    names: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def package(module: str) -> str:
    """tinysim.cost.price -> cost; tinysim.ops -> ops; tinysim -> tinysim (the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((REPO / ROOT).rglob("*.py"))}


@functools.cache
def imports() -> tuple[Import, ...]:
    known = modules()
    found: list[Import] = []
    for name, path in known.items():
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), rel)
        for node in ast.walk(tree):
            for target, names in _targets(node, name, path.name == "__init__.py", known):
                if target == ROOT or target.startswith(ROOT + "."):
                    found.append(Import(rel, node.lineno, name, target, names))
    return tuple(found)


def _targets(node: ast.AST, module: str, is_package: bool, known: dict[str, Path]) -> list[tuple[str, tuple]]:
    """The modules `node` imports, each with the names taken from it."""
    if isinstance(node, ast.Import):
        return [(a.name, ()) for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: resolve against the importing package
            here = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
        # `from tinysim import units` imports the module tinysim.units, not a name of the root package
        subs = [(f"{base}.{a.name}", ()) for a in node.names if f"{base}.{a.name}" in known]
        names = tuple(a.name for a in node.names if f"{base}.{a.name}" not in known)
        return subs + ([(base, names)] if names else [])
    if isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
        target = _literal_module(node.args[0])
        return [(target, ())] if target else []
    return []


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )


def _literal_module(arg: ast.expr) -> str | None:
    """'tinysim.cost.mcu' -> itself; f"tinysim.cost.{name}" -> 'tinysim.cost' (the package it loads from)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rpartition(".")[0] or None
    return None


def checked() -> list[Import]:
    """Imports between different packages, less the allowed exceptions."""
    return [i for i in imports() if package(i.importer) != package(i.target) and (i.file, i.target) not in ALLOWED]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_every_package_has_a_layer():
    unknown = sorted({package(m) for m in modules()} - RANK.keys())
    assert not unknown, f"packages with no layer: {unknown}; add each to TIERS in {Path(__file__).name}"


def test_imports_are_found():
    """The scan sees imports in functions, relative ones and import_module (guards against a silently empty scan)."""
    source = (
        "def f():\n    from tinysim.cost.price import _x\n"
        "from ..report import table\nfrom . import graph as g\nimport tinysim.units\n"
        "importlib.import_module(f'tinysim.arch.{name}')\n"
    )
    found = [t for node in ast.walk(ast.parse(source)) for t in _targets(node, "tinysim.workload.x", False, modules())]
    assert sorted(found) == [
        ("tinysim.arch", ()),
        ("tinysim.cost.price", ("_x",)),
        ("tinysim.report.table", ()),
        ("tinysim.units", ()),
        ("tinysim.workload.graph", ()),
    ]
    assert len(imports()) > 200


def test_no_import_runs_up_the_layers():
    bad = []
    for i in checked():
        low, high = package(i.importer), package(i.target)
        if low in IMPORTS_ANYTHING or RANK.get(high, -1) < RANK.get(low, -1):
            continue
        why = "a package of the same tier" if RANK.get(high) == RANK.get(low) else "a higher layer"
        bad.append(f"{i.where}: {low} imports {i.target} ({why}: {high})")
    assert not bad, "imports against the layering (DESIGN.md, Packages):\n" + "\n".join(bad)


def test_no_cycle_between_packages():
    edges: dict[str, dict[str, Import]] = {}
    for i in checked():
        edges.setdefault(package(i.importer), {}).setdefault(package(i.target), i)
    bad = []
    # Every cycle has an edge that does not point down the tiers; show each such edge closed into a cycle.
    for low, out in sorted(edges.items()):
        for high, first in sorted(out.items()):
            back = _path(high, low, edges) if RANK.get(high, -1) >= RANK.get(low, -1) else None
            if back is not None:
                cycle = [first, *back]
                bad.append(" -> ".join([low, *(package(e.target) for e in cycle)]))
                bad.extend(f"  {e.where}: imports {e.target}" for e in cycle)
    assert not bad, "import cycles between packages:\n" + "\n".join(bad)


def _path(start: str, goal: str, edges: dict[str, dict[str, Import]]) -> list[Import] | None:
    """The shortest chain of imports from package `start` to package `goal` (breadth first), or None."""
    came: dict[str, list[Import]] = {start: []}
    todo = [start]
    while todo:
        p = todo.pop(0)
        if p == goal:
            return came[p]
        for q, e in sorted(edges.get(p, {}).items()):
            if q not in came:
                came[q] = [*came[p], e]
                todo.append(q)
    return None


def test_no_private_name_from_another_package():
    bad = []
    for i in checked():
        private = [n for n in i.names if _private(n)]
        private_module = [part for part in i.target.split(".") if _private(part)]
        if private or private_module:
            what = ", ".join(private) if private else i.target
            bad.append(f"{i.where}: imports {what} from {i.target} (private to {package(i.target)})")
    assert not bad, "private names used outside their package:\n" + "\n".join(bad)


@pytest.mark.parametrize("entry", sorted(ALLOWED), ids=lambda e: f"{e[0]}->{e[1]}")
def test_allowed_exceptions_still_occur(entry):
    file, target = entry
    assert any((i.file, i.target) == entry for i in imports()), (
        f"{file} no longer imports {target}: remove this entry from ALLOWED in {Path(__file__).name}"
    )
