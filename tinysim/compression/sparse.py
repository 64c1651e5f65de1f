"""Relative-index (gap) coding of a pruned layer's non-zero positions, as in Deep Compression (sec. 2).

Positions run over the flattened weights, output channel by output channel. Each non-zero entry
stores the number of zeros since the previous entry in `gap_bits` bits. A gap too large for the
field is bridged by filler entries: the largest field value ESC = 2^gap_bits - 1 means "ESC zeros,
no weight here" (the paper stores a filler zero weight instead; a filler here carries no value, so
the value stream holds only real weights). Zeros after the last entry need no symbol: the layer's
length is known.
"""

from __future__ import annotations

import numpy as np

MAX_GAP_BITS = 8


def encode_gaps(nonzero: np.ndarray, gap_bits: int) -> np.ndarray:
    """Gap symbols (0..ESC) for a flat boolean mask of non-zero positions."""
    esc = (1 << gap_bits) - 1
    positions = np.flatnonzero(nonzero)
    gaps = np.diff(positions, prepend=-1) - 1
    fillers, rest = np.divmod(gaps, esc)
    # Each entry: `fillers` ESC symbols, then its own gap.
    counts = fillers + 1
    symbols = np.full(int(counts.sum()), esc, np.int64)
    symbols[np.cumsum(counts) - 1] = rest
    return symbols


def decode_gaps(symbols: np.ndarray, gap_bits: int, size: int) -> np.ndarray:
    """The flat boolean mask of `size` positions the gap symbols describe."""
    esc = (1 << gap_bits) - 1
    symbols = np.asarray(symbols, np.int64)
    is_entry = symbols != esc
    advance = np.where(is_entry, symbols + 1, esc)
    mask = np.zeros(size, bool)
    mask[(np.cumsum(advance) - 1)[is_entry]] = True
    return mask


def best_gap_bits(nonzero: np.ndarray) -> int:
    """The gap field width (1..8) that stores the positions in the fewest bits."""
    sizes = [encode_gaps(nonzero, b).size * b for b in range(1, MAX_GAP_BITS + 1)]
    return 1 + int(np.argmin(sizes))
