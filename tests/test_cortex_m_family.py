"""The Cortex-M family of datasheet architectures (nrf5340, stm32u575, stm32h7a3, rp2040, alif-e1-m55, plus the
calibrated stm32l4r5-cmsis): each loads and prices the four MLPerf Tiny workloads; swapping the core or the
kernel library of one arch moves cycles the way the cores' and libraries' structure says it must; and
CMSIS-NN's scratch buffers can push a model that fits with the reference kernels out of SRAM."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tinysim.arch import parse_arch
from tinysim.arch.core import core_names, load_core
from tinysim.explore.design import point_mapping
from tinysim.pipeline import Evaluation, WorkloadRun, price_run, run_workload
from tinysim.schema.yamlio import load_yaml

ROOT = Path(__file__).resolve().parents[1]
FAMILY = ("nrf5340", "stm32u575", "stm32h7a3", "rp2040", "alif-e1-m55", "stm32l4r5-cmsis")
WORKLOADS = ("kws", "vww", "ic", "ad")


@cache
def _run(workload: str) -> WorkloadRun:
    return run_workload(ROOT / "workloads" / f"{workload}.yaml")


def _price(arch: str, workload: str, **overrides: Any) -> Evaluation:
    """`arch` with dotted-path overrides (as a sweep applies them), priced on one engine run of `workload`."""
    path = ROOT / "archs" / f"{arch}.yaml"
    data = point_mapping(load_yaml(path), overrides)
    return price_run(parse_arch(data, file=str(path)), _run(workload))


@pytest.mark.parametrize("arch", FAMILY)
@pytest.mark.parametrize("workload", WORKLOADS)
def test_family_prices_every_mlperf_workload(arch, workload):
    e = _price(arch, workload)
    for figure in (e.latency_s, e.energy_j, e.cycles):
        assert math.isfinite(figure) and figure > 0
    assert e.fits  # every model's weights and arena fit each part's memories (sizes from the datasheets)
    # energy is at least the static power over the latency (the static term is never dropped)
    assert e.energy_j > e.result.energy_breakdown_j()["static"] > 0


@pytest.mark.parametrize("library", ["cmsis-nn", "tflm-reference"])
@pytest.mark.parametrize("workload", WORKLOADS)
def test_cycles_fall_from_m0plus_to_m4_to_m7(library, workload):
    """Same library, same workload: the M7 (dual issue, single-cycle loads) takes fewer cycles than the M4,
    the M4 (MLA, DSP) fewer than the M0+ (2-cycle loads, MULS + ADDS, no DSP)."""
    cycles = {
        core: _price("stm32u575", workload, **{"compute.cpu.core": core, "compute.cpu.kernels": library}).cycles
        for core in ("cortex-m0plus", "cortex-m4", "cortex-m7")
    }
    assert cycles["cortex-m7"] < cycles["cortex-m4"] < cycles["cortex-m0plus"]


DSP_CORES = [name for name in core_names() if (core := load_core(name)) is not None and core.dsp]


def test_dsp_cores_are_the_expected_ones():
    assert set(DSP_CORES) == {"cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"}


# Known miss (strict: passes the day it is fixed): AD is fully-connected layers; cmsis-nn's DSP mix for
# arm_fully_connected_s8 is 2.06 M4 cycles per MAC before latency_scale 2.28 = 4.7, above the reference
# kernels' fitted 4.45 cycles per FULLY_CONNECTED MAC -- the scale fitted on KWS's convolutions over-charges FC.
_FC_MISS = pytest.mark.xfail(strict=True, reason="cmsis-nn FC path priced slower than tflm-reference (see comment)")
CMSIS_CASES = [
    pytest.param(core, w, marks=_FC_MISS) if (w == "ad" and core != "cortex-m55") else (core, w)
    for core in DSP_CORES
    for w in WORKLOADS
]


@pytest.mark.parametrize("core, workload", CMSIS_CASES)
def test_cmsis_nn_beats_the_reference_kernels_on_dsp_cores(core, workload):
    def cycles(library: str) -> float:
        return _price("stm32u575", workload, **{"compute.cpu.core": core, "compute.cpu.kernels": library}).cycles

    assert cycles("cmsis-nn") < cycles("tflm-reference")


def test_m55_takes_the_helium_path_and_fewer_cycles_per_mac_than_the_m4():
    m55 = _price("alif-e1-m55", "kws")
    m4 = _price("alif-e1-m55", "kws", **{"compute.cpu.core": "cortex-m4"})
    assert m55.macs == m4.macs > 0
    assert m55.cycles / m55.macs < m4.cycles / m4.macs
    # and layer by layer: every convolution / fully-connected layer is faster on the Helium path
    rows_55 = {r["layer"]: r for r in m55.result.layer_rows()}
    rows_4 = {r["layer"]: r for r in m4.result.layer_rows()}
    conv = [name for name, r in rows_55.items() if r["op"] in ("CONV_2D", "FULLY_CONNECTED") and r["macs"] > 0]
    assert conv and all(rows_55[n]["cycles"] < rows_4[n]["cycles"] for n in conv)


def test_cmsis_nn_scratch_pushes_ic_out_of_an_sram_the_reference_kernels_fit():
    """IC's arena with CMSIS-NN (im2col / kernel-sum scratch in the head) is larger than with TFLM's reference
    kernels (no scratch); an SRAM sized between the two fits the one and not the other."""
    reference = _price("stm32u575", "ic", **{"compute.cpu.kernels": "tflm-reference"})
    cmsis = _price("stm32u575", "ic")
    assert cmsis.result.arena_bytes > reference.result.arena_bytes
    assert cmsis.result.arena_scratch_bytes > 0
    between = (cmsis.result.arena_bytes + reference.result.arena_bytes) // 2
    small = {"memories.sram.size": between}
    fits_ref = _price("stm32u575", "ic", **small, **{"compute.cpu.kernels": "tflm-reference"})
    fits_cmsis = _price("stm32u575", "ic", **small)
    assert fits_ref.result.arena_fits
    assert not fits_cmsis.result.arena_fits
