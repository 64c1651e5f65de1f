"""Entropy and position coding of compressed weights: every stream decodes to exactly what was encoded."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinysim.compression.bitstream import pack, pack_fixed, unpack_fixed
from tinysim.compression.huffman import (
    MAX_LENGTH,
    HuffmanStream,
    canonical_codes,
    code_lengths,
    decode,
    encode,
    table_bytes,
)
from tinysim.compression.sparse import best_gap_bits, decode_gaps, encode_gaps

symbols = st.lists(st.integers(0, 255), min_size=0, max_size=400).map(lambda v: np.array(v, np.int64))


@settings(max_examples=60, deadline=None)
@given(symbols)
def test_huffman_round_trip(values):
    stream = HuffmanStream.of(values, 256)
    assert np.array_equal(stream.decoded(), values)
    assert len(stream.data) == (stream.nbits + 7) // 8


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=2, max_size=300))
def test_huffman_lengths_are_a_complete_prefix_code_no_longer_than_the_limit(counts):
    lengths = code_lengths(np.array(counts))
    assert lengths.max() <= MAX_LENGTH
    assert sum(2.0**-lengths) == pytest.approx(1.0)  # Kraft equality: a full binary tree
    codes = canonical_codes(lengths)
    words = {format(int(c), f"0{int(n)}b") for c, n in zip(codes, lengths)}
    assert len(words) == len(counts)
    assert not any(a != b and b.startswith(a) for a in words for b in words)  # prefix-free


def test_huffman_matches_the_textbook_example():
    # counts 45, 13, 12, 16, 9, 5 (CLRS 16.3): code lengths 1, 3, 3, 3, 4, 4 and 224 bits for 100 symbols
    counts = np.array([45, 13, 12, 16, 9, 5])
    lengths = code_lengths(counts)
    assert lengths.tolist() == [1, 3, 3, 3, 4, 4]
    values = np.repeat(np.arange(6), counts)
    data, nbits = encode(values, lengths)
    assert nbits == 224 and len(data) == 28
    assert np.array_equal(decode(data, nbits, lengths, values.size), values)


def test_huffman_single_symbol_and_table_size():
    stream = HuffmanStream.of(np.zeros(10, np.int64), 16)
    assert stream.nbits == 10 and np.array_equal(stream.decoded(), np.zeros(10))
    assert stream.size_bytes == 2 + table_bytes(16) == 2 + 8


def test_huffman_length_limit_holds_for_a_skewed_distribution():
    counts = np.array([2**k for k in range(30)])  # unlimited Huffman would give a 29-bit code
    lengths = code_lengths(counts)
    assert lengths.max() == MAX_LENGTH
    values = np.repeat(np.arange(30), 1)
    assert np.array_equal(HuffmanStream.of(values, 30).decoded(), values)


def test_decoder_rejects_a_truncated_stream():
    data, nbits = encode(np.array([0, 1, 2, 3]), np.array([2, 2, 2, 2]))
    with pytest.raises(ValueError, match="ends after"):
        decode(data, nbits - 2, np.array([2, 2, 2, 2]), 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.lists(st.integers(0, (1 << 8) - 1), max_size=200))
def test_fixed_width_round_trip(width, values):
    v = np.array(values, np.int64) & ((1 << width) - 1)
    data, nbits = pack_fixed(v, width)
    assert nbits == width * v.size and len(data) == (nbits + 7) // 8
    assert np.array_equal(unpack_fixed(data, v.size, width), v)


def test_pack_is_msb_first():
    assert pack(np.array([1, 0, 3]), np.array([1, 2, 2]))[0] == bytes([0b10011000])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.lists(st.booleans(), max_size=500))
def test_gap_coding_round_trip(gap_bits, bits):
    mask = np.array(bits, bool)
    symbols = encode_gaps(mask, gap_bits)
    assert symbols.max(initial=0) < 1 << gap_bits
    assert np.array_equal(decode_gaps(symbols, gap_bits, mask.size), mask)


def test_gap_coding_fillers_as_in_the_paper():
    # Deep Compression fig. 2 style: non-zeros at 1, 4 and 20 with 3-bit gaps: 1, 2, then 15 zeros = 2 fillers of 7 + 1
    mask = np.zeros(22, bool)
    mask[[1, 4, 20]] = True
    assert encode_gaps(mask, 3).tolist() == [1, 2, 7, 7, 1]
    assert best_gap_bits(mask) in range(1, 9)
