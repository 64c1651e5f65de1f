"""Canonical Huffman coding: code tables from symbol counts, a packed bitstream, and its decoder.

A table is the code length of every symbol of the alphabet (0 = unused). Codes are canonical
(shorter codes first, then by symbol), so the lengths alone define them, which is what is stored:
4 bits per alphabet symbol (`table_bytes`), lengths limited to 15. A stream of one distinct symbol
gets a 1-bit code.

    lengths = code_lengths(np.bincount(symbols, minlength=16))
    data, nbits = encode(symbols, lengths)
    assert (decode(data, nbits, lengths, len(symbols)) == symbols).all()
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from tinysim.compression.bitstream import pack, windows

MAX_LENGTH = 15
LENGTH_FIELD_BITS = 4  # bits per alphabet symbol in a stored table


def code_lengths(counts: np.ndarray, max_length: int = MAX_LENGTH) -> np.ndarray:
    """Huffman code length of each symbol (0 where the count is 0), no longer than `max_length`."""
    counts = np.asarray(counts, np.int64)
    lengths = _huffman_lengths(counts)
    scaled = counts.copy()
    while lengths.max(initial=0) > max_length:  # flatten the distribution until the tree is shallow enough
        scaled = np.where(scaled > 0, (scaled + 1) // 2, 0)
        lengths = _huffman_lengths(scaled)
    return lengths


def _huffman_lengths(counts: np.ndarray) -> np.ndarray:
    lengths = np.zeros(counts.size, np.int64)
    used = np.flatnonzero(counts > 0)
    if used.size == 1:
        lengths[used] = 1
    if used.size <= 1:
        return lengths
    # Heap of (count, tie-break, symbols under this node); merging two nodes deepens all their symbols.
    heap = [(int(counts[s]), int(s), [int(s)]) for s in used]
    heapq.heapify(heap)
    while len(heap) > 1:
        c1, t1, s1 = heapq.heappop(heap)
        c2, t2, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1
        heapq.heappush(heap, (c1 + c2, min(t1, t2), s1 + s2))
    return lengths


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """The canonical code of each symbol (as an integer of its length's bits)."""
    lengths = np.asarray(lengths, np.int64)
    codes = np.zeros(lengths.size, np.int64)
    code, previous = 0, 0
    for s in sorted(np.flatnonzero(lengths > 0), key=lambda s: (lengths[s], s)):
        code <<= int(lengths[s]) - previous
        codes[s] = code
        code += 1
        previous = int(lengths[s])
    return codes


def encode(symbols: np.ndarray, lengths: np.ndarray) -> tuple[bytes, int]:
    """The packed bitstream of `symbols` under the table; (bytes, bit count)."""
    symbols = np.asarray(symbols, np.int64).reshape(-1)
    if symbols.size and (lengths[symbols] == 0).any():
        raise ValueError("a symbol to encode has no code in the table")
    return pack(canonical_codes(lengths)[symbols], np.asarray(lengths, np.int64)[symbols])


def decode(data: bytes, nbits: int, lengths: np.ndarray, count: int) -> np.ndarray:
    """The `count` symbols of a bitstream made by `encode` with the same table."""
    lengths = np.asarray(lengths, np.int64)
    width = int(lengths.max(initial=0))
    out = np.zeros(count, np.int64)
    if count == 0:
        return out
    codes = canonical_codes(lengths)
    # Look-up table over every `width`-bit window: which symbol's code is its prefix, and how long it is.
    symbol_of = np.full(1 << width, -1, np.int64)
    length_of = np.zeros(1 << width, np.int64)
    for s in np.flatnonzero(lengths > 0):
        lo = int(codes[s]) << (width - int(lengths[s]))
        symbol_of[lo : lo + (1 << (width - int(lengths[s])))] = s
        length_of[lo : lo + (1 << (width - int(lengths[s])))] = lengths[s]
    peek = windows(data, nbits, width).tolist()
    symbol_list, length_list = symbol_of.tolist(), length_of.tolist()
    position = 0
    for i in range(count):
        if position >= nbits:
            raise ValueError(f"bitstream ends after {i} of {count} symbols")
        w = peek[position]
        out[i] = symbol_list[w]
        position += length_list[w]
    if position != nbits:
        raise ValueError(f"{nbits - position} bits left over after {count} symbols")
    return out


def table_bytes(alphabet_size: int) -> int:
    """Bytes of a stored table: one 4-bit code length per alphabet symbol."""
    return (alphabet_size * LENGTH_FIELD_BITS + 7) // 8


@dataclass(frozen=True)
class HuffmanStream:
    """A Huffman-coded stream: its table (code lengths), bitstream and symbol count."""

    lengths: tuple[int, ...]
    data: bytes
    nbits: int
    count: int

    @classmethod
    def of(cls, symbols: np.ndarray, alphabet_size: int) -> HuffmanStream:
        symbols = np.asarray(symbols, np.int64).reshape(-1)
        lengths = code_lengths(np.bincount(symbols, minlength=alphabet_size))
        data, nbits = encode(symbols, lengths)
        return cls(tuple(int(n) for n in lengths), data, nbits, symbols.size)

    def decoded(self) -> np.ndarray:
        return decode(self.data, self.nbits, np.asarray(self.lengths, np.int64), self.count)

    @property
    def size_bytes(self) -> int:
        """Bitstream bytes plus the stored table."""
        return len(self.data) + table_bytes(len(self.lengths))
