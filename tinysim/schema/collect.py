"""Every error of a file at once (`tinysim check`), or the first one (loading): one mechanism for both.

A loader validates the independent parts of a file (each top-level section, each compute unit,
each memory, each layer, each axis) inside `errors.part()`. A raising collector (the default)
lets the first error through, so loading behaves exactly as without it; a collecting one records
the error, abandons that part only and carries on. Once every part is read, `errors.check()`
raises `CollectedErrors` with all of them, sorted by file and line:

    errors = ErrorCollector(collect=True)
    for name, value, at in units:
        with errors.part():
            parsed.append(parse_unit(name, value, at))
    errors.check()  # nothing below runs with a part missing

A part that needs another part's result is skipped when that part failed (no cascade of errors
caused by the first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from tinysim.errors import TinysimError

__all__ = ["CollectedErrors", "ErrorCollector", "error_list"]

T = TypeVar("T")


class CollectedErrors(TinysimError):
    """Several independent errors of one file; `str()` is one line per error."""

    def __init__(self, errors: Iterable[TinysimError]):
        unique: dict[str, TinysimError] = {}
        for err in errors:
            unique.setdefault(str(err), err)  # the same fact reached twice is one line
        self.errors = tuple(sorted(unique.values(), key=_position))
        first = self.errors[0]
        super().__init__(first.message, file=first.file, line=first.line, field=first.field)

    def __str__(self) -> str:
        return "\n".join(str(err) for err in self.errors)


def _position(err: TinysimError) -> tuple[str, int]:
    return (err.file or "", err.line or 0)


def error_list(err: TinysimError) -> tuple[TinysimError, ...]:
    """The single errors inside `err`: its collected errors, or itself."""
    return err.errors if isinstance(err, CollectedErrors) else (err,)


class ErrorCollector:
    """Raises the first error (`collect=False`, loading) or records each part's error (`collect=True`, check)."""

    def __init__(self, *, collect: bool = False) -> None:
        self.collect = collect
        self.errors: list[TinysimError] = []

    @contextmanager
    def part(self) -> Iterator[None]:
        """One independent part: an error inside it ends the part, and (collecting) is recorded."""
        try:
            yield
        except TinysimError as err:
            if not self.collect:
                raise
            self.errors.extend(error_list(err))

    def value(self, read: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`read(*args, **kwargs)` as one part. On an error (collecting only) this returns None, which callers need
        not handle: `check()` raises before anything is built from it."""
        with self.part():
            return read(*args, **kwargs)
        return cast(T, None)

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def check(self) -> None:
        """Raise `CollectedErrors` if any part failed."""
        if self.errors:
            raise CollectedErrors(self.errors)
