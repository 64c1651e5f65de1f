"""What compression does on an architecture: the weight footprint and fit, the weight bytes read, energy, latency.

Both graphs run on the engine on the same input and are priced by `tinysim.pipeline`. For the
compressed one, two things change:
- the weight footprint is the measured encoded size (all layers' final bytes, plus the biases and
  scales that are stored as they are), so the fit check sees the compressed model;
- each op's weight bytes read scale with its layer's stored bytes per weight (final / original
  bytes), i.e. the weights are fetched in their coded form.
This is the ideal-decoder what-if that `tinysim compress --arch` prints: decoding (codebook
look-up, Huffman) costs nothing and no MAC is skipped for a zero weight, whatever the architecture
declares. `tinysim run ARCH OUT.yaml` on the written workload prices what the architecture really
declares instead: a `weight_decoder` (stored footprint and reads, decode cycles and energy) and
`sparsity` (zero-weight MACs skipped at their cost); without a decoder, weights are stored decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tinysim.compression.layers import weighted_layers
from tinysim.compression.pipeline import Compressed
from tinysim.cost.result import SimResult
from tinysim.pipeline import price_run, run_workload
from tinysim.workload.graph import Graph

ASSUMPTIONS = (
    "ideal decoder: weights fetched in coded form (bytes read x stored/original bytes per layer), decode cost "
    "not priced, no zero-weight MAC skipped; `tinysim run` on the written workload prices the arch's declared "
    "weight_decoder/sparsity instead"
)


@dataclass(frozen=True)
class HardwareEffect:
    before: SimResult
    after: SimResult
    weight_bytes_read_before: int
    weight_bytes_read_after: int
    zero_weight_macs_after: (
        int  # MACs with a zero operand (weight or input) in the compressed run (what zero-skipping could save)
    )


def hardware_effect(
    arch, original: Graph, result: Compressed, x: list[np.ndarray], operating_point: str | None = None
) -> HardwareEffect:
    run0 = run_workload(original, input=x[0])
    run1 = run_workload(result.graph, input=x[0])
    ev0 = list(run0.events)
    factor = {
        layer.op_index: s.final_bytes / s.original_bytes
        for layer, s in zip(weighted_layers(result.graph), result.sizes)
    }
    ev1 = [
        replace(e, weight_bytes_read=round(e.weight_bytes_read * factor[k])) if k in factor else e
        for k, e in enumerate(run1.events)
    ]
    before = price_run(arch, run0, operating_point=operating_point).result
    # the compressed graph's arena is the original's: compression changes constants, not activations
    run1 = replace(run1, events=tuple(ev1), arena_bytes=run0.arena_bytes, arena_head_bytes=run0.arena_head_bytes,
                   arena_persistent_bytes=run0.arena_persistent_bytes)
    after = price_run(arch, run1, operating_point=operating_point).result
    t = result.total
    after = replace(after, weights_bytes=before.weights_bytes - t.original_bytes + t.final_bytes)
    return HardwareEffect(
        before,
        after,
        sum(e.weight_bytes_read for e in ev0),
        sum(e.weight_bytes_read for e in ev1),
        sum(e.zero_macs for e in ev1),
    )
