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


def write_atomic(path: Path, data: str | bytes, *, field: str = "--output", parents: bool = False) -> None:
    """Write `data` to `path` through a temporary file in the same folder renamed into place (nothing
    half-written on interruption), with the permissions a plain write gets under the umask (mkstemp's are
    0600). A folder is refused, and so is a missing parent folder unless `parents` (a folder named on purpose,
    like a report's)."""
    if path.is_dir():
        raise TinysimError("is a folder; expected a file name", file=str(path), field=field)
    if not path.parent.is_dir() and not parents:
        raise TinysimError(f"folder {path.parent} does not exist", file=str(path), field=field)
    umask = os.umask(0)
    os.umask(umask)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        raise TinysimError(f"cannot write: {err.strerror or err}", file=str(path), field=field) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
