"""The one place that sets Numba's JIT options for every engine kernel.

Integer kernels must be bit-exact, so no fastmath; no object mode (njit); cache=True so
a second process loads machine code from __pycache__ instead of recompiling;
boundscheck off because wrappers validate shapes before calling a kernel.
"""

from __future__ import annotations

import numba

kernel = numba.njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
