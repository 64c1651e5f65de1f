"""Kernel libraries as data: the tables, their use by the mcu cost model, the CMSIS-NN calibration row and the
arch fields that name a library and a core."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinysim.arch.core import core_names, load_core
from tinysim.arch.kernel_library import library_names, load_library
from tinysim.arch.loader import parse_arch
from tinysim.errors import SpecError
from tinysim.explore.design import point_mapping
from tinysim.kernels.cmsis_nn import Routine
from tinysim.pipeline import evaluate, run_workload
from tinysim.schema.yamlio import load_yaml
from tinysim.validation import compare, load_references

ROOT = Path(__file__).resolve().parents[1]
L4R5 = ROOT / "archs" / "stm32l4r5.yaml"


def variant(path: Path, **paths: str):
    """The arch at `path` with dotted fields replaced (as a sweep point does)."""
    data = load_yaml(path)
    return parse_arch(point_mapping(data, {k.replace("__", "."): v for k, v in paths.items()}), file=str(path))


def test_every_cmsis_nn_routine_has_a_cost_entry():
    library = load_library("cmsis-nn")
    missing = [r.value for r in Routine if r is not Routine.REFERENCE and library.routine(r.value) is None]
    assert not missing


def test_every_library_prices_every_core():
    for name in library_names():
        for core in core_names():
            assert load_library(name).missing_classes(load_core(core)) == ()


def test_reference_library_on_the_m4_is_the_v05_fit():
    """The instruction mixes of tflm-reference add up, on the Cortex-M4, to the cycles fitted on the MLPerf
    Tiny v0.5 reference KWS (6.36 per MAC body and tap, 4.45 per fully-connected MAC, 25.4 per element,
    318.2 per softmax element, 500 per op), the numbers stm32l4r5.yaml carried before libraries were data."""
    library, m4 = load_library("tflm-reference"), load_core("cortex-m4")
    fit = {"default": (500, 6.36, 6.36, 25.4), "FULLY_CONNECTED": (500, 4.45, 6.36, 25.4),
           "SOFTMAX": (500, 6.36, 6.36, 318.2), "RESHAPE": (500, 6.36, 6.36, 0.0)}
    for routine, cycles in fit.items():
        cost = library.routine(routine)
        got = tuple(cost.cycles_per(q, m4) for q in ("call", "mac", "tap", "element"))
        assert got == pytest.approx(cycles, rel=1e-12), routine


def test_cmsis_nn_calibration_row_within_one_percent():
    refs = [r for r in load_references() if r.arch == "archs/stm32l4r5-cmsis.yaml" and r.calibration]
    assert [Path(r.workload).stem for r in refs] == ["kws"]  # ONE figure
    (row,) = compare(ROOT, refs)
    assert abs(row.latency_error) <= 0.01 and abs(row.energy_error) <= 0.01, row


def test_held_out_rows_are_predictions_with_no_published_figure():
    held = [r for r in load_references() if r.arch == "archs/stm32l4r5-cmsis.yaml" and not r.calibration]
    assert sorted(Path(r.workload).stem for r in held) == ["ad", "ic", "vww"]
    assert all(r.latency_s is None and r.energy_j is None for r in held)


@pytest.fixture(scope="module")
def kws_run():
    return run_workload(ROOT / "workloads" / "kws.yaml")


def cycles(arch, run) -> float:
    return evaluate(arch, run).result.cycles


def test_kernels_axis_switches_the_library(kws_run):
    reference = cycles(variant(L4R5), kws_run)
    cmsis = cycles(variant(L4R5, compute__cpu__kernels="cmsis-nn"), kws_run)
    assert cmsis < 0.7 * reference  # CMSIS-NN's SIMD paths on the M4: the published ratio is 1.82x
    assert cmsis == pytest.approx(cycles(parse_arch(load_yaml(ROOT / "archs/stm32l4r5-cmsis.yaml")), kws_run))


def test_core_features_choose_the_code_path(kws_run):
    by_core = {c: cycles(variant(L4R5, compute__cpu__kernels="cmsis-nn", compute__cpu__core=c), kws_run)
               for c in ("cortex-m0plus", "cortex-m4", "cortex-m7", "cortex-m55")}
    assert by_core["cortex-m55"] < by_core["cortex-m7"] < by_core["cortex-m4"] < by_core["cortex-m0plus"]


def test_library_scratch_joins_the_arena():
    ic = run_workload(ROOT / "workloads" / "ic.yaml")
    reference = evaluate(variant(L4R5), ic).result
    cmsis = evaluate(variant(L4R5, compute__cpu__kernels="cmsis-nn"), ic).result
    assert reference.arena_scratch_bytes == 0
    assert cmsis.arena_scratch_bytes > 0 and cmsis.arena_bytes > reference.arena_bytes
    assert cmsis.arena_head_bytes + cmsis.arena_persistent_bytes == cmsis.arena_bytes


@pytest.mark.parametrize(("paths", "message"), [
    ({"compute.cpu.core": "cortex-m5"}, 'compute.cpu.core: expected a core (cortex-m0plus'),
    ({"compute.cpu.kernels": "cmsis"}, 'compute.cpu.kernels: expected a kernel library (cmsis-nn, tflm-reference), got "cmsis" (did you mean "cmsis-nn"?)'),
    ({"compute.cpu.cycles_per_mac": 3}, "compute.cpu.cycles_per_mac: not with \"kernels:\""),
])
def test_library_fields_fail_in_one_line(paths, message):
    data = point_mapping(load_yaml(L4R5), paths)
    with pytest.raises(SpecError) as err:
        parse_arch(data, file="archs/stm32l4r5.yaml")
    text = str(err.value)
    assert message in text and "\n" not in text and text.startswith("archs/stm32l4r5.yaml:")


def test_kernels_without_a_core_is_refused():
    data = load_yaml(L4R5)
    cpu = dict(data["compute"]["cpu"])
    del cpu["core"]
    data = point_mapping(data, {"compute.cpu": cpu})
    with pytest.raises(SpecError, match=r"compute.cpu.kernels: a kernel library needs the unit's \"core:\""):
        parse_arch(data, file="archs/stm32l4r5.yaml")
