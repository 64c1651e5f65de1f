"""Reading a user's file safely: only a regular file (never a FIFO that blocks forever or a device such as
/dev/zero that never ends), and only up to a size bound, checked before a byte is read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tinysim.errors import TinysimError

__all__ = ["MAX_MODEL_BYTES", "MAX_SPEC_BYTES", "is_regular_file", "read_regular_file"]

MAX_SPEC_BYTES = 16 * 2**20  # a YAML architecture, workload, scenario or sweep: kilobytes in practice
MAX_MODEL_BYTES = 1 * 2**30  # a .tflite (MobileNet v2 is 3.4 MB, DeepLab v3 2.7 MB; weights must fit a chip)

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def is_regular_file(path: str | Path) -> bool:
    """Whether `path` names a regular file; False, not an OSError, for a name the system cannot even look up
    (too long, a folder that cannot be searched, a NUL byte): that is a missing file to the user."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def read_regular_file(path: str | Path, *, limit: int, error: type[TinysimError]) -> bytes:
    """The bytes of `path` (links followed), or one-line `error`: missing, not a regular file, too large."""
    file = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise error("file not found", file=file) from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=file) from None
    if not stat.S_ISREG(info.st_mode):
        what = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
        raise error(f"not a regular file ({what}); expected a file", file=file)
    if info.st_size > limit:
        raise error(f"file of {info.st_size:,} bytes is larger than the {limit:,} bytes accepted", file=file)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=file) from None
    if len(data) > limit:  # grew while we read it
        raise error(f"file is larger than the {limit:,} bytes accepted", file=file)
    return data
