"""Compression output as text tables and JSON-ready data: sizes, fidelity, sensitivity, hardware effect."""

from __future__ import annotations

import math
from dataclasses import asdict

from tinysim.compression.fidelity import Fidelity
from tinysim.compression.hardware import ASSUMPTIONS, HardwareEffect
from tinysim.compression.pipeline import Compressed
from tinysim.compression.sensitivity import LayerSensitivity
from tinysim.compression.size import LayerSize
from tinysim.report.table import format_count, format_table
from tinysim.units import format_si

SIZE_HEADERS = (
    "layer",
    "op",
    "weights",
    "density",
    "gap",
    "index",
    "original",
    "pruned",
    "quantized",
    "Huffman",
    "ratio",
    "vs fp32",
)


def _bytes(n: int) -> str:
    return f"{format_count(n)} B"


def _ratio(x: float) -> str:
    return f"{x:.2f}x" if math.isfinite(x) else "inf"


def size_table(result: Compressed) -> str:
    """Per-layer bytes after each stage, Deep Compression style; then a TOTAL row and the other bytes."""
    rows = [_size_row(s, s.kind) for s in result.sizes]
    t = result.total
    rows.append(_size_row(t, ""))
    quantized = "shared" if result.options.share else "quantized"
    headers = [h if h != "quantized" else quantized for h in SIZE_HEADERS]
    whole_before, whole_after = t.original_bytes + t.other_bytes, t.final_bytes + t.other_bytes
    return (
        format_table(headers, rows, numeric=[False, False] + [True] * 10)
        + f"\n\ncompression: {result.options.describe()}"
        + "\nbytes: measured from the encoded streams (decoded back and checked); gap = bits per relative index "
        "(sparse layers), index = bits per stored weight; ratio = original int8 / final, vs fp32 = 4 B per weight / final"
        + f"\nbiases and scales (stored as they are): {_bytes(t.other_bytes)}; all parameters: "
        f"{_bytes(whole_before)} -> {_bytes(whole_after)} ({_ratio(whole_before / whole_after)})"
    )


def _size_row(s: LayerSize, kind: str) -> list[str]:
    return [
        s.layer,
        kind.replace("_2D", "").replace("FULLY_CONNECTED", "FC").lower(),
        format_count(s.weights),
        f"{100 * s.density:.1f} %",
        f"{s.gap_bits} b" if s.gap_bits else "-",
        f"{s.index_bits} b" if s.index_bits else "-",
        _bytes(s.original_bytes),
        _bytes(s.pruned_bytes),
        _bytes(s.quantized_bytes),
        _bytes(s.huffman_bytes),
        _ratio(s.ratio),
        _ratio(s.ratio_fp32),
    ]


FIDELITY_HEADERS = (
    "inputs",
    "count",
    "top-1 agree",
    "max |err|",
    "max |err| (LSB)",
    "SNR",
    "SNR varying",
    "recon MSE orig",
    "recon MSE comp",
    "recon change",
    "mean-pred MSE",
)


def _db(x: float) -> str:
    return f"{x:.1f} dB" if math.isfinite(x) else "inf dB"


def fidelity_table(rows: list[Fidelity]) -> str:
    out = []
    for f in rows:
        recon = f.recon_mse_original is not None
        out.append(
            [
                f.inputs,
                format_count(f.count),
                f"{100 * f.top1_agreement:.1f} %" if f.top1_agreement is not None else "-",
                f"{f.max_abs_error:.4g}",
                f"{f.max_abs_error_lsb} LSB",
                _db(f.snr_db),
                _db(f.snr_varying_db) if f.snr_varying_db is not None else "-",
                f"{f.recon_mse_original:.4g}" if recon else "-",
                f"{f.recon_mse_compressed:.4g}" if recon else "-",
                f"{100 * f.recon_change:+.1f} %" if f.recon_change is not None else "-",
                f"{f.recon_mse_mean_predictor:.4g}" if recon else "-",
            ]
        )
    return format_table(FIDELITY_HEADERS, out, numeric=[False] + [True] * 10) + (
        "\nmax |err| in the output's real units; SNR = output power / error power; SNR varying = the same with each "
        "output's mean over the inputs removed (~0 dB: the compressed model no longer follows its input); recon MSE = "
        "mean over inputs of MSE(dequantized output, dequantized input), squared input units; mean-pred MSE = the "
        "same for a model that outputs the mean input"
    )


def size_record(s: LayerSize) -> dict:
    d = asdict(s)
    finite = s.final_bytes > 0
    d.update(
        density=s.density,
        final_bytes=s.final_bytes,
        ratio=s.ratio if finite else None,
        ratio_fp32=s.ratio_fp32 if finite else None,
    )
    return d


def fidelity_record(f: Fidelity) -> dict:
    d = asdict(f)
    d["snr_db"] = f.snr_db if math.isfinite(f.snr_db) else None  # JSON has no inf; None = identical outputs
    if f.snr_varying_db is not None and not math.isfinite(f.snr_varying_db):
        d["snr_varying_db"] = None
    d["recon_change"] = f.recon_change
    return d


def as_data(result: Compressed, fidelity: list[Fidelity]) -> dict:
    """Everything the tables show, with units in the key names (bytes, bits, dB)."""
    return {
        "workload": result.graph.name,
        "options": result.options.as_dict(),
        "layers": [size_record(s) for s in result.sizes],
        "total": size_record(result.total),
        "fidelity": [fidelity_record(f) for f in fidelity],
    }


def hardware_table(h: HardwareEffect) -> str:
    """Original vs compressed on one architecture: footprint and fit, weight bytes read, latency, energy."""
    b, a = h.before, h.after

    def fit(r) -> str:
        share = 100 * r.weights_bytes / r.weights_capacity_bytes if r.weights_capacity_bytes else float("inf")
        return f"{_bytes(r.weights_bytes)} of {r.weights_memory} ({share:.1f} %{'' if r.weights_fit else ', EXCEEDS'})"

    rows = [
        ["weights footprint", fit(b), fit(a)],
        ["weight bytes read", _bytes(h.weight_bytes_read_before), _bytes(h.weight_bytes_read_after)],
        ["latency", format_si(b.latency_s, "s"), format_si(a.latency_s, "s")],
        ["energy per inference", format_si(b.energy_j, "J"), format_si(a.energy_j, "J")],
        ["zero-operand MACs (not skipped)", "-", format_count(h.zero_weight_macs_after)],
    ]
    head = f"on {b.arch} @ {b.operating_point} ({format_si(b.freq_hz, 'Hz')}, {b.voltage_v:g} V)"
    return (
        head
        + "\n\n"
        + format_table(["figure", "original", "compressed"], rows, numeric=[False, True, True])
        + (f"\nassumed: {ASSUMPTIONS}")
    )


def hardware_record(h: HardwareEffect) -> dict:
    def one(r, read: int) -> dict:
        return {
            "weights_bytes": r.weights_bytes,
            "weights_capacity_bytes": r.weights_capacity_bytes,
            "weights_fit": r.weights_fit,
            "weight_bytes_read": read,
            "latency_s": r.latency_s,
            "energy_j": r.energy_j,
        }

    return {
        "arch": h.before.arch,
        "operating_point": h.before.operating_point,
        "assumptions": ASSUMPTIONS,
        "original": one(h.before, h.weight_bytes_read_before),
        "compressed": one(h.after, h.weight_bytes_read_after),
        "zero_operand_macs": h.zero_weight_macs_after,
    }


def sensitivity_record(r: LayerSensitivity) -> dict:
    return {"layer": r.layer, "weights": r.weights, **fidelity_record(r.fidelity)}


def sensitivity_table(rows: list[LayerSensitivity], sparsity: float) -> str:
    """One row per layer: the outputs when only that layer is pruned to `sparsity`."""
    out = []
    for r in rows:
        f = r.fidelity
        out.append(
            [
                r.layer,
                format_count(r.weights),
                f"{100 * f.top1_agreement:.1f} %" if f.top1_agreement is not None else "-",
                _db(f.snr_db),
                _db(f.snr_varying_db) if f.snr_varying_db is not None else "-",
                f"{100 * f.recon_change:+.1f} %" if f.recon_change is not None else "-",
            ]
        )
    headers = ["layer pruned alone", "weights", "top-1 agree", "SNR", "SNR varying", "recon change"]
    inputs = rows[0].fidelity.inputs if rows else ""
    return f"pruning sensitivity: one layer at a time to {sparsity:.0%} ({inputs})\n\n" + format_table(
        headers, out, numeric=[False] + [True] * 5
    )
