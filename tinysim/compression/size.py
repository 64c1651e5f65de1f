"""Per-layer compressed size, measured from real encoded streams, in the shape of Deep Compression's table.

For each weighted layer the weights are actually encoded at every stage and the bytes counted
(then decoded and compared with the graph's weights, so a size can never belong to a stream that
does not reproduce the layer):

- original: the int8 weights, one byte each;
- pruned: if the layer was pruned, its non-zero int8 values (8 bits each) plus their positions as
  gap symbols (`sparse.py`, field width chosen per layer); otherwise the dense bytes;
- quantized / shared: values replaced by `index_bits`-bit indices into the layer's codebook (the
  n-bit grid after re-quantization, implicit; the k-means codebook after sharing, stored at one
  byte per entry), positions as above;
- Huffman: the index stream and the gap stream each Huffman-coded (`huffman.py`): bitstream bytes
  plus code tables (plus the codebook).

Per-channel scales and int32 biases are not compressed; they are reported apart (`other_bytes`).
Ratios are against the int8 original and against float32 (4 bytes per weight, the paper's baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinysim.compression.bitstream import pack_fixed, unpack_fixed
from tinysim.compression.huffman import HuffmanStream
from tinysim.compression.layers import Layer, as_rows, weighted_layers
from tinysim.compression.requantize import CodebookRecord
from tinysim.compression.share import nearest_index
from tinysim.compression.sparse import best_gap_bits, decode_gaps, encode_gaps
from tinysim.workload.graph import Graph


@dataclass(frozen=True)
class LayerSize:
    """Bytes of one layer's weights after each stage (a stage not applied repeats the previous one)."""

    layer: str
    kind: str
    weights: int
    nonzeros: int
    sparse: bool
    gap_bits: int  # 0 when dense
    index_bits: int  # bits per stored value after quantization / sharing (8 = raw int8)
    codebook_entries: int  # 0 when none is stored
    original_bytes: int
    pruned_bytes: int
    quantized_bytes: int
    huffman_bytes: int
    other_bytes: int  # biases and scales, stored as they are

    @property
    def density(self) -> float:
        return self.nonzeros / self.weights if self.weights else 0.0

    @property
    def final_bytes(self) -> int:
        return self.huffman_bytes

    @property
    def ratio(self) -> float:
        return self.original_bytes / self.final_bytes if self.final_bytes else float("inf")

    @property
    def ratio_fp32(self) -> float:
        return 4 * self.weights / self.final_bytes if self.final_bytes else float("inf")

    def __add__(self, other: LayerSize) -> LayerSize:
        return LayerSize(
            "TOTAL",
            "",
            self.weights + other.weights,
            self.nonzeros + other.nonzeros,
            self.sparse or other.sparse,
            0,
            0,
            0,
            *(getattr(self, f) + getattr(other, f) for f in _BYTE_FIELDS),
        )


_BYTE_FIELDS = ("original_bytes", "pruned_bytes", "quantized_bytes", "huffman_bytes", "other_bytes")


@dataclass(frozen=True)
class EncodedLayer:
    """The streams of one layer at its final stage (fixed-width and Huffman), enough to decode it."""

    size: int
    gap_bits: int  # 0: dense, no gap stream
    index_bits: int
    codebook: tuple[int, ...]
    gaps: HuffmanStream | None  # None: dense
    indices: HuffmanStream
    fixed_indices: bytes

    def decoded(self) -> np.ndarray:
        """The layer's flat int8 weights (output channel by output channel) from the Huffman streams."""
        mask = decode_gaps(self.gaps.decoded(), self.gap_bits, self.size) if self.gaps else np.ones(self.size, bool)
        out = np.zeros(self.size, np.int64)
        out[mask] = np.asarray(self.codebook, np.int64)[self.indices.decoded()]
        return out

    def decoded_fixed(self) -> np.ndarray:
        """The same from the fixed-width index stream (the 'quantized' stage)."""
        mask = decode_gaps(self.gaps.decoded(), self.gap_bits, self.size) if self.gaps else np.ones(self.size, bool)
        out = np.zeros(self.size, np.int64)
        out[mask] = np.asarray(self.codebook, np.int64)[
            unpack_fixed(self.fixed_indices, int(mask.sum()), self.index_bits)
        ]
        return out


def measure(
    graph: Graph,
    sparse_layers: frozenset[str] = frozenset(),
    codebooks: dict[str, CodebookRecord] | None = None,
    *,
    huffman: bool = True,
) -> tuple[list[LayerSize], list[EncodedLayer]]:
    """Encode every weighted layer of `graph`; sizes per stage, checked by decoding."""
    sizes, encoded = [], []
    for layer in weighted_layers(graph):
        record = (codebooks or {}).get(layer.name)
        size, enc = _measure_layer(graph, layer, layer.name in sparse_layers, record, huffman)
        sizes.append(size)
        encoded.append(enc)
    return sizes, encoded


def _measure_layer(
    graph: Graph, layer: Layer, sparse: bool, record: CodebookRecord | None, huffman: bool
) -> tuple[LayerSize, EncodedLayer]:
    w = graph.tensors[layer.weight]
    values = as_rows(w.constant(), layer.axis).astype(np.int64).reshape(-1)
    n = values.size
    original = len(pack_fixed(values + 128, 8)[0])
    mask = values != 0 if sparse else np.ones(n, bool)
    gap_bits = best_gap_bits(mask) if sparse else 0
    gaps = encode_gaps(mask, gap_bits) if sparse else np.zeros(0, np.int64)
    gap_bytes = len(pack_fixed(gaps, gap_bits)[0]) if sparse else 0
    stored = values[mask]
    pruned = len(pack_fixed(stored + 128, 8)[0]) + gap_bytes if sparse else original

    if record is None:
        codebook, index_bits, codebook_bytes = np.arange(-128, 128), 8, 0
    else:
        codebook = np.asarray(record.codebook, np.int64)
        index_bits = max(1, int(np.ceil(np.log2(len(codebook)))))
        codebook_bytes = 0 if record.codebook == _grid_of(record.bits) else len(codebook)
    indices = nearest_index(codebook, stored)
    if not np.array_equal(codebook[indices], stored):
        raise ValueError(f"{layer.name}: weights do not lie on the layer's codebook")
    fixed = pack_fixed(indices, index_bits)[0]
    quantized = len(fixed) + gap_bytes + codebook_bytes if record is not None else pruned

    index_stream = HuffmanStream.of(indices, 1 << index_bits)
    gap_stream = HuffmanStream.of(gaps, 1 << gap_bits) if sparse else None
    enc = EncodedLayer(n, gap_bits, index_bits, tuple(int(c) for c in codebook), gap_stream, index_stream, fixed)
    if not np.array_equal(enc.decoded(), values) or not np.array_equal(enc.decoded_fixed(), values):
        raise AssertionError(f"{layer.name}: encoded streams do not decode to the layer's weights")
    coded = index_stream.size_bytes + (gap_stream.size_bytes if gap_stream else 0) + codebook_bytes
    other = _other_bytes(graph, layer)
    size = LayerSize(
        layer.name,
        layer.kind.value,
        n,
        int((values != 0).sum()),
        sparse,
        gap_bits,
        index_bits,
        codebook_bytes,
        original,
        pruned,
        quantized,
        coded if huffman else quantized,
        other,
    )
    return size, enc


def sparse_wins(graph: Graph) -> frozenset[str]:
    """Layers whose int8 weights take fewer bytes as non-zero values + gap-coded positions than dense."""
    wins = set()
    for layer in weighted_layers(graph):
        values = as_rows(graph.tensors[layer.weight].constant(), layer.axis).reshape(-1)
        mask = values != 0
        gap_bits = best_gap_bits(mask)
        sparse = len(pack_fixed(values[mask].astype(np.int64) + 128, 8)[0]) + len(
            pack_fixed(encode_gaps(mask, gap_bits), gap_bits)[0]
        )
        if sparse < values.size:
            wins.add(layer.name)
    return frozenset(wins)


def _grid_of(bits: int) -> tuple[int, ...]:
    q = 2 ** (bits - 1) - 1
    return tuple(range(-q, q + 1))


def _other_bytes(graph: Graph, layer: Layer) -> int:
    """Bias bytes plus 4 bytes per weight scale (stored uncompressed)."""
    w = graph.tensors[layer.weight]
    bias = graph.tensors[layer.bias].nbytes if layer.bias >= 0 else 0
    return bias + 4 * (len(w.quant.scale) if w.quant else 0)


def total(sizes: list[LayerSize]) -> LayerSize:
    out = LayerSize("TOTAL", "", 0, 0, False, 0, 0, 0, 0, 0, 0, 0, 0)
    for s in sizes:
        out = out + s
    return out
