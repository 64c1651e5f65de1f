"""The one place that sets Numba's JIT options for every engine kernel.

Integer kernels must be bit-exact, so no fastmath; no object mode (njit); cache=True so
a second process loads machine code from __pycache__ instead of recompiling;
boundscheck off because wrappers validate shapes before calling a kernel.
"""

from __future__ import annotations

import hashlib
from itertools import chain
from pathlib import Path

import numba

_ENGINE_DIR = Path(__file__).resolve().parent


def drop_stale_cache(root: Path = _ENGINE_DIR) -> bool:
    """Delete cached machine code when any engine source changed; True if it did.

    Numba keys a cached function on its own source file only, so a cached kernel that calls
    kernels in other files keeps stale inlined copies of them after those files change (an edit
    or an upgrade). Keying the whole engine on one digest of all its sources avoids that.
    """
    sources = sorted(root.rglob("*.py"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    stamp = root / "__pycache__" / "numba-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return False
    except OSError:
        pass  # no stamp yet: treat every cached kernel as stale
    try:
        for cache_dir in root.rglob("__pycache__"):
            for cached in chain(cache_dir.glob("*.nbi"), cache_dir.glob("*.nbc")):
                cached.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # a read-only install: Numba then caches elsewhere or not at all
        return False
    return True


drop_stale_cache()  # before any kernel below is compiled or loaded from the cache

kernel = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
