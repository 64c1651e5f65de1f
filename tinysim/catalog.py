"""The architectures and workloads shipped with tinysim, resolvable by name from any folder.

`archs/` and `workloads/` (with `scenarios/` and `sweeps/`) sit at the top of the repository and are installed
inside the package (`tinysim/archs`, `tinysim/workloads` are links to them in a checkout, copies in a wheel).
Wherever a file is accepted, a name that is not an existing path (`stm32l4r5`, `kws`, `kws_always_on`,
`npu_macs`) means the shipped file of that kind; a path always wins.
"""

from __future__ import annotations

import enum
from importlib import resources
from pathlib import Path

from tinysim.errors import SpecError, TinysimError

__all__ = ["Shipped", "is_name", "names", "package_root", "resolve", "shipped_files"]


class Shipped(enum.Enum):
    """The kinds of shipped files, with their folder under the package."""

    ARCHS = "archs"
    WORKLOADS = "workloads"
    SCENARIOS = "scenarios"
    SWEEPS = "sweeps"

    @property
    def folder(self) -> Path:
        sub = {"scenarios": "workloads/scenarios", "sweeps": "workloads/sweeps"}.get(self.value, self.value)
        return package_root() / sub

    @property
    def noun(self) -> str:
        return {"archs": "architecture", "workloads": "workload"}.get(self.value, self.value[:-1])


def package_root() -> Path:
    """The installed package's folder, which holds archs/ and workloads/."""
    return Path(str(resources.files("tinysim")))


def is_name(text: str | Path) -> bool:
    """A bare name (no folder, no suffix) rather than a path."""
    s = str(text)
    return bool(s) and "/" not in s and "\\" not in s and Path(s).suffix == "" and s not in (".", "..")


def shipped_files(kind: Shipped) -> list[Path]:
    """The shipped files of `kind`, sorted by name."""
    folder = kind.folder
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def resolve(text: str | Path, kind: Shipped, error: type[TinysimError] = SpecError) -> Path:
    """`text` as a path if it exists or looks like one; else the shipped file of that name; a bare name that
    is neither is a one-line error listing the shipped names."""
    path = Path(text)
    if _exists(path) or not is_name(text):
        return path
    shipped = kind.folder / f"{text}.yaml"
    if _is_file(shipped):
        return shipped
    raise error(f"no such file, and no shipped {kind.noun} of that name (shipped: {', '.join(names(kind)) or 'none'}; "
                f"`tinysim list {kind.value}`)", file=str(text))


def names(kind: Shipped) -> list[str]:
    return [p.stem for p in shipped_files(kind)]


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    """Whether `path` exists; False for a name the system cannot look up (too long, a NUL byte)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False
