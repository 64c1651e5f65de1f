"""Bit packing: variable-length codes into bytes (MSB first) and back out, vectorised with NumPy."""

from __future__ import annotations

import numpy as np


def pack(codes: np.ndarray, lengths: np.ndarray) -> tuple[bytes, int]:
    """Concatenate each `codes[i]` written in `lengths[i]` bits, MSB first; returns (bytes, bit count)."""
    codes = np.asarray(codes, np.int64).reshape(-1)
    lengths = np.asarray(lengths, np.int64).reshape(-1)
    total = int(lengths.sum())
    if total == 0:
        return b"", 0
    starts = np.cumsum(lengths) - lengths
    which = np.repeat(np.arange(codes.size), lengths)
    offset = np.arange(total) - starts[which]
    bits = (codes[which] >> (lengths[which] - 1 - offset)) & 1
    return np.packbits(bits.astype(np.uint8)).tobytes(), total


def pack_fixed(values: np.ndarray, width: int) -> tuple[bytes, int]:
    """Each value (0 <= v < 2^width) in `width` bits."""
    values = np.asarray(values, np.int64).reshape(-1)
    return pack(values, np.full(values.size, width, np.int64))


def unpack_fixed(data: bytes, count: int, width: int) -> np.ndarray:
    """Inverse of `pack_fixed`."""
    bits = np.unpackbits(np.frombuffer(data, np.uint8))[: count * width].reshape(count, width).astype(np.int64)
    return bits @ (1 << np.arange(width - 1, -1, -1, dtype=np.int64)) if width else np.zeros(count, np.int64)


def windows(data: bytes, nbits: int, width: int) -> np.ndarray:
    """For every bit position p < nbits, the `width` bits starting at p as an integer (zeros past the end)."""
    bits = np.unpackbits(np.frombuffer(data, np.uint8))[:nbits].astype(np.int64)
    padded = np.concatenate([bits, np.zeros(width, np.int64)])
    out = np.zeros(nbits, np.int64)
    for j in range(width):
        out = (out << 1) | padded[j : j + nbits]
    return out
