"""Where command output goes: stdout, or a file written atomically (nothing half-written on interruption)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tinysim.errors import TinysimError


def emit(text: str, output: str | None) -> None:
    if output is None:
        print(text)
        return
    write_atomic(Path(output), text if text.endswith("\n") else text + "\n")


def write_atomic(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as err:
        raise TinysimError(f"cannot write output: {err.strerror}", file=str(path), field="--output") from err
