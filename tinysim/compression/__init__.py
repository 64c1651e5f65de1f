"""Deep Compression for int8 graphs: prune, re-quantize or share weights, Huffman-code; sizes and fidelity.

    from tinysim.compression import CompressOptions, compress, compare, random_inputs
    result = compress(graph, CompressOptions(prune=0.9, bits=4, share=True, huffman=True))
    result.total.ratio                       # int8 bytes / encoded bytes, measured from the bitstreams
    compare(graph, result.graph, random_inputs(graph, 16), "random")   # top-1, max error, SNR, recon MSE

One module per step (`prune`, `requantize`, `share`, `huffman` with `sparse` and `bitstream`), each
a function Graph -> (Graph, per-layer record); `size` encodes and measures, `bias` corrects the
mean shift, `fidelity` compares engine runs, `hardware` prices both graphs on an architecture;
`tinysim.report.compress_report` formats the results.
"""

from __future__ import annotations

from tinysim.compression.fidelity import Fidelity, ad_windows, compare, random_inputs
from tinysim.compression.pipeline import Compressed, CompressOptions, compress
from tinysim.compression.prune import prune
from tinysim.compression.requantize import requantize
from tinysim.compression.share import share
from tinysim.compression.size import LayerSize, measure

__all__ = [
    "CompressOptions",
    "Compressed",
    "Fidelity",
    "LayerSize",
    "ad_windows",
    "compare",
    "compress",
    "measure",
    "prune",
    "random_inputs",
    "requantize",
    "share",
]
