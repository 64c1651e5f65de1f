"""Errors a user can cause: each carries where (file, line, field) and what was expected.

The CLI turns any `TinysimError` into one line and exit status 2; nothing else in the
package prints or exits.
"""

from __future__ import annotations


class TinysimError(Exception):
    """A user-facing error: `file:line: field: message`."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None, field: str | None = None):
        # every part in `args`: code that re-creates an exception as type(e)(*e.args) (SimPy does, when a
        # process fails) keeps where it happened
        super().__init__(message, file, line, field)
        self.message = message
        self.file = file
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        what = f"{self.field}: " if self.field else ""
        # one line whatever the message quotes (a YAML snippet, an SQLite error): control characters become spaces
        return " ".join(f"{where}{what}{self.message}".split())


class SpecError(TinysimError):
    """An architecture or scenario file is malformed or inconsistent."""


class UnitError(TinysimError):
    """A quantity has the wrong dimension or cannot be parsed."""


class WorkloadError(TinysimError):
    """A model or layer-list file cannot be read or describes an impossible network."""


class UnsupportedOpError(WorkloadError):
    """The network contains an operator tinysim cannot execute or price."""


class CostError(TinysimError):
    """A figure cannot be computed as asked (e.g. inference longer than the inference period)."""


class FetchError(TinysimError):
    """A model download failed or did not match its pinned checksum."""
