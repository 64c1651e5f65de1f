"""The one place that sets Numba's JIT options for every engine kernel.

Integer kernels must be bit-exact, so no fastmath; no object mode (njit); cache=True so
a second process loads machine code from disk instead of recompiling;
boundscheck off because wrappers validate shapes before calling a kernel.

Where the cache lives: Numba keys a cached function on its own source file only, so a cached
kernel that inlines kernels from other files would keep stale (and, with boundscheck off,
memory-unsafe) copies of them after those files change — an edit or an upgrade. So the cache
folder is named after a digest of ALL engine sources: changed sources get a fresh folder, and a
process still running older code can never write into the new one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TypedDict

import numba
from llvmlite import binding as llvm_binding
from numba.core import event

_ENGINE_DIR = Path(__file__).resolve().parent


class _Options(TypedDict):
    """The options typed one by one, as numba.njit's signature takes them."""

    nogil: bool
    boundscheck: bool
    error_model: Literal["python", "numpy"]


_OPTIONS: _Options = {"nogil": True, "boundscheck": False, "error_model": "numpy"}
_njit = numba.njit(cache=True, **_OPTIONS)


def source_digest(root: Path = _ENGINE_DIR) -> str:
    """One digest over every engine source file (names and contents)."""
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def cache_dir(root: Path = _ENGINE_DIR) -> Path | None:
    """The digest-named cache folder; None when the user chose NUMBA_CACHE_DIR or the tree is read-only."""
    if os.environ.get("NUMBA_CACHE_DIR") or not os.access(root, os.W_OK):
        return None
    # Build switches that change what is compiled (TINYSIM_NO_VNNI picks the portable dot kernel) are
    # baked into cached code as constants, so they are part of the folder name too.
    variant = "-novnni" if os.environ.get("TINYSIM_NO_VNNI") else ""
    return root / "__pycache__" / f"numba-{source_digest(root)}{variant}"


def remove_other_caches(keep: Path) -> None:
    """Best effort: drop cache folders of other source versions (never the one in use, nor its variants)."""
    current = keep.name.split("-")[1]
    for old in keep.parent.glob("numba-*"):
        if old.name.split("-")[1] != current:
            shutil.rmtree(old, ignore_errors=True)


_CACHE_DIR = cache_dir()
if _CACHE_DIR is not None:
    remove_other_caches(_CACHE_DIR)


@contextmanager
def _cache_location():
    """Point Numba's cache at our folder only while our kernels are decorated (the location is
    fixed at decoration), leaving the setting as it was for anyone else's code."""
    if _CACHE_DIR is None:
        yield
        return
    before = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = str(_CACHE_DIR)
    try:
        yield
    finally:
        numba.config.CACHE_DIR = before


def kernel(fn):
    """Decorator for every engine kernel: njit with the options above and the digest-keyed cache."""
    with _cache_location():
        return _njit(fn)


def switch(kernels: tuple) -> Callable:
    """`call(code, args)` for use inside a kernel: kernels[code](*args) (the last kernel past the end).

    Generated as one flat if-chain of direct calls, inlined into the calling kernel (and so cached
    with it). The alternatives cost more: Numba types a tuple of kernels indexed at run time as
    function pointers whose addresses it cannot cache; an overload recursing over the table compiles
    each level separately, nearly doubling the engine's cold compile."""
    last = len(kernels) - 1
    lines = ["def call(code, args):"]
    lines += [f"    if code == {k}:\n        return kernel{k}(*args)" for k in range(last)]
    lines += [f"    return kernel{last}(*args)"]
    namespace = {f"kernel{k}": fn for k, fn in enumerate(kernels)}
    exec("\n".join(lines), namespace)  # noqa: S102  (the source is built above from a range only)
    return numba.njit(inline="always", **_OPTIONS)(namespace["call"])


# Measured cold compiles (2 shared x86 cores, Numba 0.68): kws (6 op kinds) 33 s, i.e. ~5.5 s per op kind
# with the helpers it pulls in; a model with no cached kernels typically uses 4-8 op kinds.
COLD_COMPILE_S_PER_OP_KIND = 5.5
TYPICAL_OP_KINDS = 6


def cached_kernel_count() -> int | None:
    """How many kernel signatures have machine code in our cache folder (0: nothing compiled yet);
    None when the cache is not ours to inspect (NUMBA_CACHE_DIR set, read-only tree)."""
    if _CACHE_DIR is None:
        return None
    try:
        return sum(1 for _ in _CACHE_DIR.rglob("*.nbi"))
    except OSError:  # absent, or removed meanwhile by a process running newer sources
        return 0


class _CompileListener(event.Listener):
    def __init__(self, callback: Callable[[str], None]):
        self.callback = callback

    def on_start(self, ev: event.Event) -> None:
        fn = ev.data["dispatcher"].py_func
        if fn.__module__.startswith("tinysim."):  # Numba also compiles its own helpers on the way
            self.callback(f"{fn.__module__}.{fn.__qualname__}")

    def on_end(self, ev: event.Event) -> None:
        pass


@contextmanager
def on_compile(callback: Callable[[str], None]) -> Iterator[None]:
    """While active, `callback(kernel name)` runs just before Numba compiles an engine kernel, i.e. when no
    machine code for it is on disk (a first run, new sources): a cached kernel loads without a call."""
    with event.install_listener("numba:compile", _CompileListener(callback)):
        yield


def host_cpu_has(*features: str) -> bool:
    """Whether the CPU Numba compiles for (this host) has every LLVM feature named ("avx2", "avx512vnni"...),
    unless TINYSIM_NO_VNNI asks for the portable kernels; False when compiling for another CPU."""
    if os.environ.get("TINYSIM_NO_VNNI"):
        return False
    # numba.config sets these from the environment through globals(), so its stubs do not declare them
    cpu_name, cpu_features = numba.config.CPU_NAME, numba.config.CPU_FEATURES  # type: ignore[attr-defined]
    if cpu_name not in (None, "host") or cpu_features:
        return False
    try:
        feats = llvm_binding.get_host_cpu_features()
    except RuntimeError:
        return False
    return all(feats.get(f, False) for f in features)
