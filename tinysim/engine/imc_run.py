"""Run a graph with its MAC layers on an in-memory-compute array model; measure fidelity vs exact int8.

`run_graph_imc` executes op by op on the exact engine's prepared program and arena: the ops
chosen to run on IMC go through `imc_kernels.imc_layer`, every other op through the exact
engine's own evaluation (one op of its program at a time), so the non-MAC numerics are the
engine's, bit for bit. `imc_fidelity` compares outputs with the exact engine on seeded inputs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from tinysim.engine.imc_kernels import imc_layer
from tinysim.engine.imc_numerics import (
    MAC_KINDS,
    ImcLayer,
    ImcNumerics,
    adc_codes,
    adc_lsb,
    conversions,
    prepare_layer,
)
from tinysim.engine.interpreter import Prepared, execute_op, prepared, random_input, run_graph
from tinysim.errors import TinysimError, WorkloadError
from tinysim.events import Events
from tinysim.ops import OpKind
from tinysim.workload.graph import Graph

CALIBRATION_INPUTS = 8
CALIBRATION_SEED = 1_000_003  # calibration inputs are seeded apart from the evaluation inputs
_NO_HIST = np.zeros(0, np.int64)


@dataclass(frozen=True, eq=False)
class ImcProgram:
    """A graph ready for IMC runs: the exact engine's program plus the IMC layers and their ADC LSBs."""

    prep: Prepared
    numerics: ImcNumerics
    layers: dict[int, ImcLayer]
    lsb: dict[int, np.ndarray]  # op index -> per-column ADC LSB (unit cell currents)


@dataclass(frozen=True, eq=False)
class ImcRunResult:
    """Outputs of one inference and the Events of each op; IMC ops carry adc_conversions."""

    outputs: list[np.ndarray]
    events: tuple[Events, ...]

    @property
    def total(self) -> Events:
        return sum(self.events, Events())


@dataclass(frozen=True)
class FidelityReport:
    """Output difference of an IMC run against exact int8 over `n_inputs` seeded inputs."""

    numerics: ImcNumerics
    n_inputs: int
    max_abs_error: int  # output LSBs (int8 steps of the output tensor)
    mean_abs_error: float  # output LSBs
    top1_agreement: float | None  # fraction of inputs with the same argmax; None if not a classifier
    output_snr_db: float  # exact output power / error power, dequantized; inf when identical
    adc_conversions: int  # per inference


def prepare_imc(
    graph: Graph,
    numerics: ImcNumerics,
    *,
    ops: Iterable[int] | None = None,
    semantics: str = "litert",
    calibration_inputs: list[list[np.ndarray]] | None = None,
) -> ImcProgram:
    """Prepare the IMC layers (`ops`: op indices; default every CONV_2D / DEPTHWISE / FC op)."""
    prep = prepared(graph, semantics)
    chosen = [k for k, op in enumerate(graph.ops) if op.kind in MAC_KINDS] if ops is None else sorted(set(ops))
    for k in chosen:
        if not 0 <= k < len(graph.ops):
            raise TinysimError(f"{graph.name}: op index {k} out of range 0..{len(graph.ops) - 1}")
    layers = {k: prepare_layer(graph, k, numerics, semantics) for k in chosen}
    full_scale: dict[int, float] = {}
    if numerics.calibrate_percentile is not None and numerics.adc_bits is not None:
        full_scale = _calibrate(prep, numerics, layers, calibration_inputs)
    lsb = {k: adc_lsb(layer, numerics, full_scale.get(k)) for k, layer in layers.items()}
    return ImcProgram(prep, numerics, layers, lsb)


def run_graph_imc(
    graph: Graph | ImcProgram,
    inputs: list[np.ndarray] | np.ndarray,
    numerics: ImcNumerics | None = None,
    *,
    ops: Iterable[int] | None = None,
    semantics: str = "litert",
    noise_key: int = 0,
    count_events: bool = True,
) -> ImcRunResult:
    """One inference with the chosen MAC ops on the IMC model; `noise_key` varies the seeded noise per run."""
    if isinstance(graph, ImcProgram):
        program = graph
    else:
        if numerics is None:
            raise TypeError("run_graph_imc needs numerics when given a Graph")
        program = prepare_imc(graph, numerics, ops=ops, semantics=semantics)
    return _run(program, inputs, program.lsb, None, noise_key, count_events)


def imc_fidelity(
    graph: Graph,
    numerics: ImcNumerics,
    n_inputs: int = 20,
    seed: int = 0,
    *,
    ops: Iterable[int] | None = None,
    semantics: str = "litert",
) -> FidelityReport:
    """Compare the IMC run with the exact engine on inputs `random_input(graph, seed + i)`, i < n_inputs."""
    if n_inputs < 1:
        raise TinysimError(f"n_inputs must be >= 1, got {n_inputs}")
    program = prepare_imc(graph, numerics, ops=ops, semantics=semantics)
    out_t = graph.tensors[graph.outputs[0]]
    zp = int(out_t.quant.zero_point[0]) if out_t.quant is not None else 0
    classifier = _is_classifier(graph)
    max_err, sum_err, count, agree, signal, noise = 0, 0, 0, 0, 0.0, 0.0
    conv = 0
    for i in range(n_inputs):
        x = random_input(graph, seed + i)
        exact = run_graph(program.prep, x, count_events=False, semantics=semantics).outputs[0].astype(np.int64)
        result = run_graph_imc(program, x, noise_key=i, count_events=i == 0)
        approx = result.outputs[0].astype(np.int64)
        if i == 0:
            conv = result.total.adc_conversions
        diff = np.abs(approx - exact)
        max_err = max(max_err, int(diff.max()))
        sum_err += int(diff.sum())
        count += diff.size
        signal += float(((exact - zp) ** 2).sum())
        noise += float((diff**2).sum())
        if classifier:
            agree += int(np.argmax(approx.reshape(-1)) == np.argmax(exact.reshape(-1)))
    snr = math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)
    return FidelityReport(
        numerics=numerics, n_inputs=n_inputs, max_abs_error=max_err, mean_abs_error=sum_err / count,
        top1_agreement=agree / n_inputs if classifier else None, output_snr_db=snr, adc_conversions=conv,
    )  # fmt: skip


def _is_classifier(graph: Graph) -> bool:
    """A 1 x N output (N > 1) produced by SOFTMAX, as `tinysim run` reports a top class for."""
    shape = graph.tensors[graph.outputs[0]].shape
    return len(shape) == 2 and shape[0] == 1 and shape[1] > 1 and graph.ops[-1].kind is OpKind.SOFTMAX


def _calibrate(
    prep: Prepared, numerics: ImcNumerics, layers: dict[int, ImcLayer], inputs: list[list[np.ndarray]] | None
) -> dict[int, float]:
    """Per layer, the `calibrate_percentile` of |column sum| on a digital (ADC-free) run of the array."""
    percentile = numerics.calibrate_percentile
    assert percentile is not None, "called only with a calibrate_percentile"
    if inputs is None:
        inputs = [random_input(prep.graph, CALIBRATION_SEED + i) for i in range(CALIBRATION_INPUTS)]
    digital = dataclasses.replace(numerics, adc_bits=None, noise_sigma_lsb=0.0, calibrate_percentile=None)
    hists = {k: np.zeros(min(numerics.rows_per_array, layer.k) * 128 + 1, np.int64) for k, layer in layers.items()}
    ones = {k: np.ones(layer.w.shape[0]) for k, layer in layers.items()}
    program = ImcProgram(prep, digital, layers, ones)
    for x in inputs:
        _run(program, x, ones, hists, 0, False)
    full_scale = {}
    for k, hist in hists.items():
        cum = np.cumsum(hist)
        rank = percentile / 100.0 * cum[-1]
        full_scale[k] = float(max(int(np.searchsorted(cum, rank)), 1))
    return full_scale


def _run(
    program: ImcProgram,
    inputs: list[np.ndarray] | np.ndarray,
    lsb: dict[int, np.ndarray],
    hists: dict[int, np.ndarray] | None,
    noise_key: int,
    count: bool,
) -> ImcRunResult:
    prep, numerics = program.prep, program.numerics
    g = prep.graph
    arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    if len(arrays) != len(g.inputs):
        raise WorkloadError(f"{g.name}: expected {len(g.inputs)} input(s), got {len(arrays)}")
    arena, s16, s32 = prep.buffers()
    offsets = prep.arena.offsets
    for t, a in zip(g.inputs, arrays):
        spec = g.tensors[t]
        if a.dtype != np.int8 or a.size != spec.size:
            raise WorkloadError(
                f"{g.name}: input '{spec.name}' must be int8 of shape {spec.shape}, got {a.dtype} {a.shape}"
            )
        arena[offsets[t] : offsets[t] + a.size] = a.reshape(-1)
    adc_bits = numerics.adc_bits or 0
    code_lo, code_hi = adc_codes(numerics)
    events = []
    for k, op in enumerate(g.ops):
        layer = program.layers.get(k)
        if layer is None:
            zero_macs, out_zeros = execute_op(prep, k, arena, s16, s32, count)
            events.append(dataclasses.replace(prep.static_events[k], zero_macs=zero_macs, output_zeros=out_zeros))
            continue
        xi, yi = op.inputs[0], op.outputs[0]
        x = arena[offsets[xi] : offsets[xi] + g.tensors[xi].size]
        y = arena[offsets[yi] : offsets[yi] + g.tensors[yi].size]
        noise_seed = (numerics.seed * 1_000_003 + k * 7_919 + noise_key * 104_729) % 2**32
        zero_macs, out_zeros = imc_layer(
            x, y, layer.w, layer.cells, layer.slice_weight, layer.bias, layer.mult, layer.shift, layer.zero_w,
            layer.geometry, layer.zp_in, layer.zp_out, layer.lo, layer.hi, layer.mode, numerics.input_bits, adc_bits,
            code_lo, code_hi, numerics.rows_per_array, lsb[k], numerics.noise_sigma_lsb, noise_seed,
            _NO_HIST if hists is None else hists[k], count,
        )  # fmt: skip
        events.append(dataclasses.replace(prep.static_events[k], zero_macs=int(zero_macs), output_zeros=int(out_zeros),
                                          adc_conversions=conversions(layer, numerics)))  # fmt: skip
    outputs = [arena[offsets[t] : offsets[t] + g.tensors[t].size].reshape(g.tensors[t].shape).copy() for t in g.outputs]
    return ImcRunResult(outputs, tuple(events) if count else ())
