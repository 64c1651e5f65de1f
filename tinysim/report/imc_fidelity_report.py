"""IMC numerics vs exact int8 as text tables and JSON-ready data (the `imc-fidelity` CLI prints them)."""

from __future__ import annotations

import math

from tinysim.engine.imc_numerics import ImcNumerics
from tinysim.engine.imc_run import FidelityReport
from tinysim.report.names import short_layer_names
from tinysim.report.table import format_count, format_table
from tinysim.workload.graph import Graph

HEADERS = ("weight bits", "ADC bits", "max |err| (LSB)", "mean |err| (LSB)", "top-1 agree", "SNR (dB)", "ADC conv/inf")


def fidelity_table(name: str, reports: list[FidelityReport]) -> str:
    """One row per setting, under a line naming what the settings share (all come from one command)."""
    rows = [
        [
            str(r.numerics.weight_bits), _adc(r.numerics), str(r.max_abs_error), f"{r.mean_abs_error:.2f}",
            "-" if r.top1_agreement is None else f"{100 * r.top1_agreement:.0f} %",
            _snr(r.output_snr_db), format_count(r.adc_conversions),
        ]
        for r in reports
    ]  # fmt: skip
    return _head(name, reports) + "\n\n" + format_table(HEADERS, rows)


def layer_table(graph: Graph, reports: list[FidelityReport], layers: dict[int, list[FidelityReport]]) -> str:
    """Output SNR per setting with only op k on the IMC model; `reports` gives the column order."""
    headers = ["#", "layer", "op", *(_setting(r.numerics) for r in reports)]
    names = short_layer_names([op.name for op in graph.ops])  # unique over the graph, suffixed by op index
    rows = [
        [str(k), names[k], graph.ops[k].kind.value, *(_snr(r.output_snr_db) for r in per)] for k, per in layers.items()
    ]
    return "Output SNR (dB) with one layer at a time on the IMC model, the others exact:\n\n" + format_table(
        headers, rows, numeric=[True, False, False, *([True] * len(reports))]
    )


def as_data(graph: Graph, reports: list[FidelityReport], layers: dict[int, list[FidelityReport]]) -> dict:
    doc: dict = {"workload": graph.name, "results": [record(r) for r in reports]}
    if layers:
        doc["per_layer"] = [
            {
                "op_index": k,
                "layer": graph.ops[k].name,
                "op": graph.ops[k].kind.value,
                "results": [record(r) for r in per],
            }
            for k, per in layers.items()
        ]
    return doc


def record(r: FidelityReport) -> dict:
    n = r.numerics
    return {
        "weight_bits": n.weight_bits, "adc_bits": n.adc_bits, "input_bits": n.input_bits,
        "rows_per_array": n.rows_per_array, "bit_sliced": n.bit_sliced, "full_scale_fraction": n.full_scale_fraction,
        "calibrate_percentile": n.calibrate_percentile, "noise_sigma_lsb": n.noise_sigma_lsb, "seed": n.seed,
        "inputs": r.n_inputs, "max_abs_error_lsb": r.max_abs_error, "mean_abs_error_lsb": r.mean_abs_error,
        "top1_agreement": r.top1_agreement,
        "output_snr_db": None if math.isinf(r.output_snr_db) else r.output_snr_db,  # JSON has no inf
        "adc_conversions_per_inference": r.adc_conversions,
    }  # fmt: skip


def _head(name: str, reports: list[FidelityReport]) -> str:
    if not reports:
        return f"{name}: no IMC settings"
    r, n = reports[0], reports[0].numerics
    # Exact-ADC settings carry no noise, so the sweep's noise is the largest any setting has.
    noise = max(x.numerics.noise_sigma_lsb for x in reports)
    cells = "bit-sliced one-bit cells" if n.bit_sliced else "one multi-level column per weight"
    return (
        f"{name}: IMC numerics vs exact int8 over {r.n_inputs} seeded inputs (seed {n.seed}); "
        f"{n.rows_per_array} rows per read, {n.input_bits} input bit-planes, {cells}, "
        f"full scale {_full_scale(n)}, noise {noise:g} LSB"
    )


def _full_scale(n: ImcNumerics) -> str:
    """The --full-scale policy back from the numerics: 'max', a fraction like 0.25, or pNN.N."""
    if n.calibrate_percentile is not None:
        return f"p{n.calibrate_percentile:g}"
    return "max" if n.full_scale_fraction == 1.0 else f"{n.full_scale_fraction:g}"


def _adc(n: ImcNumerics) -> str:
    return "exact" if n.adc_bits is None else str(n.adc_bits)


def _setting(n: ImcNumerics) -> str:
    return f"w{n.weight_bits}/" + ("exact" if n.adc_bits is None else f"adc{n.adc_bits}")


def _snr(db: float) -> str:
    return "inf" if math.isinf(db) else f"{db:.1f}"
