"""`tinysim check`: each file's kind told by its keys, every error of a file on its own line; `extends:` in archs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tinysim.arch import load_arch
from tinysim.cli.main import main
from tinysim.errors import SpecError, TinysimError
from tinysim.schema.collect import CollectedErrors

ROOT = Path(__file__).resolve().parents[1]
NDP100 = (ROOT / "archs" / "ndp100.yaml").read_text()
KIND_BY_FOLDER = {  # the repository's convention: a file's folder says what it is
    "archs": "architecture",
    "workloads": "layer-list workload",
    "scenarios": "scenario",
    "sweeps": "sweep",
}
SHIPPED = sorted([*(ROOT / "archs").glob("*.yaml"), *(ROOT / "workloads").rglob("*.yaml")])


def check(capsys, *files: Path | str) -> tuple[int, list[str], list[str]]:
    """Exit status, stdout lines and stderr lines of `tinysim check FILES`."""
    status = main(["check", *map(str, files)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def line_no(text: str, needle: str) -> int:
    """The 1-based line of the only line of `text` containing `needle`."""
    found = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def edited(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_shipped_file_passes_check_with_its_kind_named(path, capsys):
    status, out, err = check(capsys, path)
    assert status == 0, err
    kind = KIND_BY_FOLDER[path.parent.name]
    assert out == [f"{path}: ok ({out[0].split('(', 1)[1]}"] and out[0].split("(", 1)[1].startswith(f"{kind} '")


@pytest.mark.parametrize("folder", ["scenarios", "sweeps"])
def test_scenarios_and_sweeps_are_not_read_as_architectures(folder, capsys):
    files = sorted((ROOT / "workloads" / folder).glob("*.yaml"))
    status, out, err = check(capsys, *files)
    assert status == 0 and not err
    assert all("architecture" not in line for line in out)


def test_a_file_of_no_kind_gets_one_line_naming_the_kinds(tmp_path, capsys):
    odd = tmp_path / "odd.yaml"
    odd.write_text("version: 1\nname: odd\nwidgets: 3\n")
    status, _, err = check(capsys, odd)
    assert status == 2 and len(err) == 1
    for kind, key in [
        ("architecture", "compute:"),
        ("workload", "layers:"),
        ("scenario", "sensor:"),
        ("sweep", "base:"),
    ]:
        assert kind in err[0] and key in err[0]


def test_an_arch_with_three_independent_errors_gets_three_sorted_lines(tmp_path, capsys):
    text = edited(
        NDP100,
        ("    cycles_per_mac: {default: 4,", "    cycles_per_macc: {default: 4,"),  # compute.cpu: unknown key
        ('size: {value: 8 KiB, assumed: "feature', 'size: {value: -8 KiB, assumed: "feature'),  # negative size
        ("sleep: {power: 30 uW, wake_latency: 10 us,", "sleep: {power: 30 uW, wake_latency: 10 uV,"),  # not a time
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    status, out, err = check(capsys, bad)
    assert status == 2 and not out
    expected = [
        (line_no(text, "cycles_per_macc"), "compute.cpu.cycles_per_macc", "unknown key"),
        (line_no(text, "-8 KiB"), "memories.act_sram.size", "-8 KiB"),
        (line_no(text, "10 uV"), "power_states.sleep.wake_latency", "uV"),
    ]
    assert len(err) == 3
    for line, (number, field, words) in zip(err, sorted(expected)):
        assert line.startswith(f"tinysim: {bad}:{number}: {field}: ") and words in line, line
    with pytest.raises(SpecError) as raised:  # loading still stops at the first error, on one line
        load_arch(bad)
    assert f"tinysim: {raised.value}" in err and "\n" not in str(raised.value)


def test_a_workload_with_two_bad_layers_gets_two_lines(tmp_path, capsys):
    text = """version: 1
name: two_bad
input: {shape: [1, 10, 10, 1], scale: 0.5, zero_point: 0}
layers:
  - {name: conv1, op: conv2d, filters: 4, kernel: 20}
  - {name: pool, op: max_pool2d, pool: 2}
  - {name: fc, op: fully_connected, units: 0}
  - {name: out, op: softmax}
"""
    bad = tmp_path / "two_bad.yaml"
    bad.write_text(text)
    status, _, err = check(capsys, bad)
    assert status == 2
    assert len(err) == 2, err
    assert err[0].startswith(f"tinysim: {bad}:5: layers[0].kernel: ") and "does not fit the 10x10 input" in err[0]
    assert err[1].startswith(f"tinysim: {bad}:7: layers[2].units: ") and "got 0" in err[1]


def test_scenario_and_sweep_errors_are_all_reported(tmp_path, capsys):
    scenario = (ROOT / "workloads" / "scenarios" / "kws_always_on.yaml").read_text()
    scenario = edited(
        scenario, ("  frame_hop: 10 ms", "  frame_hop: 10 mV"), ("  on_time: {value: 1 s,", "  on_time: {value: -1 s,")
    )
    path = tmp_path / "scenario.yaml"
    path.write_text(scenario)
    status, _, err = check(capsys, path)
    assert status == 2 and [e.split(": ")[2] for e in err] == ["sensor.frame_hop", "host.on_time"], err
    sweep = (ROOT / "workloads" / "sweeps" / "ndp_imc.yaml").read_text()
    sweep = edited(sweep, ("compute.core2.rows: [32, 64, 128]", "compute.core2.rows: []"), ("fits: true", "fits: 3"))
    path = tmp_path / "sweep.yaml"
    path.write_text(sweep.replace("../../archs/", f"{ROOT}/archs/").replace("../", f"{ROOT}/workloads/"))
    status, _, err = check(capsys, path)
    assert status == 2 and [e.split(": ")[2] for e in err] == ["axes.compute.core2.rows", "constraints.fits"], err


# --- extends ----------------------------------------------------------------------------------------------


def same_arch(a, b) -> bool:
    return dataclasses.replace(a, path=None) == dataclasses.replace(b, path=None)


def test_extends_merges_mappings_and_the_child_wins(tmp_path):
    (tmp_path / "base.yaml").write_text(NDP100)
    child = tmp_path / "child.yaml"
    child.write_text(
        "version: 1\nextends: base.yaml\nname: child\n"
        'memories:\n  act_sram:\n    size: {value: 16 KiB, assumed: "a bigger part"}\n'
    )
    full = tmp_path / "full.yaml"  # the same architecture written out in full, by hand
    full.write_text(
        edited(
            NDP100,
            ("name: ndp100", "name: child"),
            (
                'size: {value: 8 KiB, assumed: "feature window and hidden activations: 1600 + 2 x 256 bytes with room to spare"}',
                'size: {value: 16 KiB, assumed: "a bigger part"}',
            ),
        )
    )
    merged = load_arch(child)
    assert same_arch(merged, load_arch(full))
    assert merged.memory("act_sram").size_bytes == 16 * 1024 and merged.memory("act_sram").width_bytes == 4
    assert merged.provenance("memories.act_sram.size") == "assumed: a bigger part"


def test_extends_replaces_lists_whole_and_resolves_shipped_names(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(
        "version: 1\nextends: ndp100\nname: fast\noperating_points:\n"
        "  - {name: fast, voltage: 1.1 V, frequency: 16 MHz, static_power: 40 uW, assumed: a faster bin}\n"
    )
    arch, shipped = load_arch(child), load_arch(ROOT / "archs" / "ndp100.yaml")
    assert [(p.name, p.freq_hz) for p in arch.operating_points] == [("fast", 16e6)]
    assert arch.compute == shipped.compute and arch.memories == shipped.memories


def test_extends_chains(tmp_path):
    (tmp_path / "a.yaml").write_text(NDP100)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(
        "extends: ../a.yaml\nname: b\nmemories: {act_sram: {size: {value: 16 KiB, assumed: b}}}\n"
    )
    (tmp_path / "c.yaml").write_text(
        "extends: sub/b.yaml\nname: c\ncompute: {core1: {arrays: {value: 72, assumed: c}}}\n"
    )
    arch = load_arch(tmp_path / "c.yaml")
    assert arch.name == "c" and arch.memory("act_sram").size_bytes == 16 * 1024
    assert arch.compute_unit("core1").arrays == 72 and arch.compute_unit("core1").rows == 64


def test_an_extends_cycle_is_one_line_naming_the_files(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(SpecError) as raised:
        load_arch(tmp_path / "a.yaml")
    message = str(raised.value)
    assert "\n" not in message and "cycle" in message
    assert re.search(r"a\.yaml -> .*b\.yaml -> .*a\.yaml", message), message


@pytest.mark.parametrize("parent, hint", [("nosuch", "ndp100"), ("../nosuch.yaml", "relative to this file")])
def test_a_missing_parent_is_named_at_the_extends_line(tmp_path, parent, hint):
    child = tmp_path / "child.yaml"
    child.write_text(f"version: 1\nextends: {parent}\nname: x\n")
    with pytest.raises(SpecError) as raised:
        load_arch(child)
    assert str(raised.value).startswith(f"{child}:2: extends: ") and parent in str(raised.value)
    assert hint in str(raised.value)


def test_errors_point_at_the_file_and_line_that_wrote_the_value(tmp_path, capsys):
    base_text = edited(
        NDP100, ("sleep: {power: 30 uW, wake_latency: 10 us,", "sleep: {power: 30 uW, wake_latency: 10 uV,")
    )
    base = tmp_path / "base.yaml"
    base.write_text(base_text)
    child = tmp_path / "child.yaml"
    child.write_text("version: 1\nextends: base.yaml\nname: child\nmemories:\n  weights:\n    width: 3.5 B\n")
    status, _, err = check(capsys, child)
    assert status == 2 and len(err) == 2, err
    lines = {line.split(": ")[2]: line for line in err}
    assert lines["power_states.sleep.wake_latency"].startswith(f"tinysim: {base}:{line_no(base_text, '10 uV')}: ")
    assert lines["memories.weights.width"].startswith(f"tinysim: {child}:6: ")
    with pytest.raises(TinysimError) as raised:  # loading: the first one only
        load_arch(child)
    assert not isinstance(raised.value, CollectedErrors)
