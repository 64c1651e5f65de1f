"""What long commands show on stderr while they work: a tqdm bar fed by the library's progress callbacks,
and one line before the engine's kernels compile on a first run. Only here does the CLI touch tqdm.

Bars appear only when stderr is a terminal, so pipes, files and tests see none of it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Progress = Callable[[int, int], None]  # progress(done, total), as the library calls it


def on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def progress_bar(desc: str, unit: str = "it", *, enabled: bool = True) -> Iterator[Progress]:
    """A `progress(done, total)` callback drawing one bar on stderr (none off a terminal or when not
    `enabled`); the bar opens at the first call, follows `done`, and is closed on leaving the block."""
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not enabled or not on_terminal():
            return
        if not bars:
            from tqdm import tqdm

            bars.append(tqdm(total=total, initial=done, desc=desc, unit=unit, file=sys.stderr, leave=False))
        bar = bars[0]
        if bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        for bar in bars:
            bar.close()


@contextmanager
def named_bars(unit: str, *, enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A `progress(name, done, total)` callback with one bar per name, kept on screen (downloads: bytes)."""
    bars: dict[str, Any] = {}

    def progress(name: str, done: int, total: int) -> None:
        if not enabled or not on_terminal():
            return
        if name not in bars:
            from tqdm import tqdm

            bars[name] = tqdm(total=total, desc=name, unit=unit, unit_scale=True, file=sys.stderr)
        bars[name].update(done - bars[name].n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def each(items: list, desc: str, unit: str = "it", *, enabled: bool = True) -> Iterator:
    """Iterate `items` with a bar over them (for loops the CLI drives itself)."""
    with progress_bar(desc, unit, enabled=enabled) as progress:
        total = len(items)
        progress(0, total)
        for k, item in enumerate(items):
            yield item
            progress(k + 1, total)


@contextmanager
def compile_notice() -> Iterator[None]:
    """Print "tinysim: compiling kernels, first run only, ~N s" once, just before the first engine kernel
    compiles (no machine code on disk for it); a warm cache prints nothing."""
    from tinysim.engine import jit

    cached = jit.cached_kernel_count()
    # Nothing cached: a whole model's op kinds compile; some cached: typically one new op kind at a time.
    kinds = jit.TYPICAL_OP_KINDS if not cached else 1
    told: list[bool] = []

    def notice(_kernel: str) -> None:
        if not told:
            told.append(True)
            seconds = kinds * jit.COLD_COMPILE_S_PER_OP_KIND
            print(f"tinysim: compiling kernels, first run only, ~{seconds:.0f} s", file=sys.stderr, flush=True)

    with jit.on_compile(notice):
        yield
