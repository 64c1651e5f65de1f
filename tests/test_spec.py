"""Tests for tinysim.arch: line-keeping YAML, the arch schema and its validation errors."""

from __future__ import annotations

import pytest

from tinysim.errors import SpecError
from tinysim.schema.yamlio import YamlList, YamlMap, line_of, load_yaml, load_yaml_text


def test_yaml_keeps_lines(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("a: 1\nb:\n  c: 1e-12\n  d: [1, 2]\nl:\n  - x\n  - {y: 2}\n")
    data = load_yaml(path)
    assert isinstance(data, YamlMap) and isinstance(data["l"], YamlList)
    assert data == {"a": 1, "b": {"c": 1e-12, "d": [1, 2]}, "l": ["x", {"y": 2}]}
    assert line_of(data, "b") == 2
    assert line_of(data["b"], "c") == 3
    assert line_of(data["l"], 1) == 7
    assert line_of(data, "missing") == data.line == 1
    assert line_of({"plain": 1}, "plain") is None


def test_yaml_merge_keys_keep_override():
    data = load_yaml_text("base: &b {p: 1, q: 2}\nm:\n  <<: *b\n  q: 3\n")
    assert data["m"] == {"p": 1, "q": 3}
    assert line_of(data["m"], "q") == 4


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\na: 2\n", 2, "duplicate key 'a' (first on line 1)"),
        ("a: [1\n", 1, "invalid YAML: while parsing a flow sequence expected ',' or ']'"),
        ("a: [1\nb: 2\nc: 3\n", 2, "while parsing a flow sequence (from line 1) expected ','"),
        ("a: !!python/object:os.system {}\n", 1, "constructor"),
        ("a: \x01\n", 1, "unacceptable character"),
        ("a: 1\n---\nb: 2\n", 2, "single document"),
        ("? [1]\n: 2\n", 1, "unhashable key"),
        ("a: 1\nb: !!int abc\n", 2, "cannot read this value as int"),
        ("a: 2001-13-45\n", 1, "cannot read this value as timestamp"),
        ("a: " + "9" * 5000 + "\n", 1, "cannot read this value as int"),
    ],
)
def test_yaml_errors_name_file_and_line(text, line, fragment):
    with pytest.raises(SpecError) as info:
        load_yaml_text(text, file="x.yaml")
    assert info.value.file == "x.yaml" and info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"x.yaml:{line}: ")


def test_yaml_file_errors(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"a: 1\nb: \xe9\n")
    with pytest.raises(SpecError, match=r"latin1.yaml:2: not UTF-8"):
        load_yaml(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load_yaml(empty) is None


# --- the architecture schema -------------------------------------------------------------

import glob
import math
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinysim.arch import (
    Arch,
    ComputeUnit,
    McuUnit,
    PowerStateName,
    compute_kinds,
    load_arch,
    parse_arch,
)
from tinysim.errors import UnitError, WorkloadError
from tinysim.ops import OpKind
from tinysim.schema.fields import Bound, Where, block, get_enum, get_quantity
from tinysim.units import Dimension

ROOT = Path(__file__).resolve().parent.parent
STM32 = ROOT / "archs" / "stm32l4r5.yaml"


def test_stm32l4r5_loads_with_si_values():
    arch = load_arch(STM32)
    assert arch.name == "stm32l4r5" and arch.path == str(STM32)
    point = arch.operating_point()
    assert (point.name, point.voltage_v, point.freq_hz, point.static_power_w) == ("run120", 1.8, 120e6, 16.66e-3)
    cpu = arch.compute_unit("cpu")
    assert isinstance(cpu, McuUnit) and isinstance(cpu, ComputeUnit) and cpu.kind == "mcu"
    assert cpu.core is not None and cpu.library is not None  # cycles: tests/test_kernel_library.py
    assert (cpu.core.name, cpu.core.dsp, cpu.library.name) == ("cortex-m4", True, "tflm-reference")
    assert cpu.energy_per_cycle_j == pytest.approx(198e-12)
    assert (cpu.nominal_voltage_v, cpu.weights_in, cpu.activations_in) == (1.8, "flash", "sram")
    sram, flash = arch.memory("sram"), arch.memory("flash")
    assert (sram.size_bytes, sram.width_bytes) == (640 * 1024, 4)
    assert sram.read_energy_per_byte_j == pytest.approx(5e-12 / 4)
    assert sram.read_energy_per_access_j == pytest.approx(5e-12)
    assert sram.leakage_w == pytest.approx(30e-6) and sram.bandwidth_bytes_per_s == 480e6
    assert (flash.size_bytes, flash.width_bytes, flash.write_energy_per_byte_j) == (2 * 2**20, 16, 0.0)
    assert flash.read_energy_per_byte_j == pytest.approx(100e-12 / 16) and flash.bandwidth_bytes_per_s is None
    sleep = arch.power_state("sleep")
    assert sleep.power_w == pytest.approx(4.7e-6) and arch.sleep_power_w == sleep.power_w
    assert (sleep.wake_latency_s, sleep.wake_energy_j) == pytest.approx((5e-6, 50e-9))
    assert arch.power_state(PowerStateName.IDLE).power_w == pytest.approx(3e-3)
    assert set(arch.sources) == {"mlperf-v0.5-ref", "st-ds12023", "horowitz-2014"}


def test_stm32l4r5_provenance():
    arch = load_arch(STM32)
    assert arch.notes["memories.sram.size"] == "source: st-ds12023"
    assert arch.provenance("memories.sram.size") == "source: st-ds12023 (STM32L4R5xx datasheet DS12023)"
    assert arch.provenance("compute.cpu.energy_per_cycle").startswith("assumed: ")
    assert arch.provenance("operating_points[0].static_power").startswith("source: calibrated")
    assert arch.provenance("operating_points[0].voltage").startswith("source: mlperf-v0.5-ref")


@pytest.mark.parametrize("path", sorted(glob.glob(str(ROOT / "archs" / "*.yaml"))))
def test_every_shipped_arch_loads(path):
    arch = load_arch(path)
    assert isinstance(arch, Arch) and arch.operating_points and arch.compute and arch.memories


def test_helpers_name_valid_choices():
    arch = load_arch(STM32)
    with pytest.raises(SpecError, match=r'operating_points: no operating point named "turbo"; defined: run120'):
        arch.operating_point("turbo")
    with pytest.raises(SpecError, match=r"memories: no memory named .dram.; defined: sram, flash"):
        arch.memory("dram")
    with pytest.raises(SpecError, match=r"power_states: no power state named .active.; defined: idle, sleep"):
        arch.power_state("active")
    with pytest.raises(SpecError, match=r"defined: cpu"):
        arch.compute_unit("npu")
    assert "mcu" in compute_kinds()


GOOD = """\
version: 1
name: toy
sources:
  ds: "A datasheet"
operating_points:
  - name: nominal
    voltage: 1.0 V
    frequency: 100 MHz
    static_power: 1 mW
compute:
  cpu:
    kind: mcu
    cycles_per_mac: {FULLY_CONNECTED: 2, default: 3}
    overhead_cycles: {default: 100}
    cycles_per_element: {default: 10}
    energy_per_cycle: 10 pJ
    nominal_voltage: 1.0 V
    weights_in: flash
    activations_in: sram
memories:
  sram:
    size: 1 KiB
    width: 32 bit
    read_energy: 4 pJ
    write_energy: 8 pJ
    leakage: 1 uW
  flash:
    size: 4 KiB
    width: 16 B
    read_energy_per_byte: 2 pJ
    write_energy: 0 pJ
    leakage: 0 W
power_states:
  sleep:
    power: 10 uW
    wake_latency: 10 us
    wake_energy: 1 nJ
"""


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    return path


def test_good_toy_and_variants(tmp_path):
    arch = load_arch(_write(tmp_path, GOOD))
    assert arch.memory("flash").read_energy_per_byte_j == pytest.approx(2e-12)
    assert arch.memory("sram").write_energy_per_byte_j == pytest.approx(2e-12)
    assert arch.compute[0].simd_macs_per_cycle == 1 and arch.compute[0].runs == frozenset()
    assert arch.description == "" and arch.notes == {}
    variant = GOOD.replace("overhead_cycles: {default: 100}", "overhead_cycles: 100\n    runs: [CONV_2D, ADD]")
    variant += "  active: {power: {value: 5 mW, assumed: guess}}\nsource: ds\n"
    arch = load_arch(_write(tmp_path, variant))
    assert arch.compute[0].overhead_cycles_for(OpKind.ADD) == 100
    assert arch.compute[0].runs == {OpKind.CONV_2D, OpKind.ADD}
    assert arch.power_state("active").power_w == pytest.approx(5e-3)
    assert arch.notes["power_states.active.power"] == "assumed: guess"
    assert arch.provenance("memories.sram.size") == "source: ds (A datasheet)"


def test_anchors_and_plain_dicts():
    text = GOOD.replace("  sram:\n", "  sram: &sram\n").replace(
        "power_states:", "  rom:\n    <<: *sram\n    size: 8 KiB\npower_states:"
    )
    data = load_yaml_text(text)
    rom = parse_arch(data, file="x.yaml").memory("rom")
    assert (rom.size_bytes, rom.width_bytes, rom.leakage_w) == (8192, 4, pytest.approx(1e-6))
    plain = {k: v for k, v in data.items()}  # a plain dict at the top: still validated, just without lines
    plain["version"] = 3
    with pytest.raises(SpecError, match=r"^x.yaml: version: expected version 1"):  # a plain dict has no lines
        parse_arch(plain, file="x.yaml")


OPERATING_POINTS = GOOD[GOOD.index("operating_points:") : GOOD.index("compute:")]
MEMORIES = GOOD[GOOD.index("memories:") : GOOD.index("power_states:")]

# (replace this, with that, expected field path, message fragment, line: None → where `that` starts,
#  a string → the line where that text is, an int → that line)
BAD = [
    ("version: 1", "version: 2", "version", "expected version 1", None),
    ("version: 1", "version: true", "version", "got true", None),
    ("version: 1\n", "", None, 'missing required key "version"', 1),
    ("name: toy", "name: toy\nmemorys: {}", "memorys", 'unknown key "memorys" (did you mean "memories"?)', 3),
    ("name: toy", "name: 42", "name", "expected non-empty text, got 42", None),
    ("name: toy", "name: [toy", None, "invalid YAML", 3),
    ("    leakage: 1 uW", "    leakage: 1 uW\n    sise: 3", "memories.sram.sise", 'did you mean "size"?', 27),
    (
        "    leakage: 1 uW",
        "    leakage: 1 uW\n    leakage: 2 uW",
        None,
        "duplicate key 'leakage' (first on line 26)",
        27,
    ),
    ("    leakage: 1 uW", "    leakage: yes", "memories.sram.leakage", "got true (a boolean)", None),
    ("size: 1 KiB", "size: -3", "memories.sram.size", "expected a positive size", None),
    ("size: 1 KiB", "size: 0 B", "memories.sram.size", 'expected a positive size like "640 KiB", got "0 B"', None),
    ("size: 1 KiB", "size: 1 MHz", "memories.sram.size", "(a frequency)", None),
    ("width: 32 bit", "width: 12 bit", "memories.sram.width", "expected a whole number of bytes, got 1.5 B", None),
    ("read_energy: 4 pJ", "read_energy: 120 MHz", "memories.sram.read_energy", 'got "120 MHz" (a frequency)', None),
    ("write_energy: 8 pJ", "write_energy: -8 pJ", "memories.sram.write_energy", "expected a non-negative energy", None),
    (
        "read_energy: 4 pJ",
        "read_energy: 4 pJ\n    read_energy_per_byte: 1 pJ",
        "memories.sram.read_energy_per_byte",
        "not both",
        25,
    ),
    ("    read_energy: 4 pJ\n", "", "memories.sram.read_energy", 'missing required key "read_energy"', "  sram:"),
    ("  flash:", "  fl ash:", "memories.fl ash", "expected a memory name", None),
    ("weights_in: flash", "weights_in: flsh", "compute.cpu.weights_in", 'got "flsh" (did you mean "flash"?)', None),
    ("kind: mcu", "kind: gpu", "compute.cpu.kind", "expected a compute kind (", None),
    ("    kind: mcu\n", "", "compute.cpu.kind", 'missing required key "kind"', "  cpu:"),
    (
        "{FULLY_CONNECTED: 2, default: 3}",
        "{FULLY_CONECTED: 2, default: 3}",
        "compute.cpu.cycles_per_mac.FULLY_CONECTED",
        'did you mean "FULLY_CONNECTED"?',
        "cycles_per_mac",
    ),
    ("{default: 100}", "{CONV_2D: 100}", "compute.cpu.overhead_cycles", 'missing "default"', "overhead_cycles"),
    (
        "{default: 10}",
        "{default: -1}",
        "compute.cpu.cycles_per_element.default",
        "non-negative cycle count",
        "cycles_per_element",
    ),
    (
        "energy_per_cycle: 10 pJ",
        "energy_per_cycle: {value: 10 pJ, sorce: ds}",
        "compute.cpu.energy_per_cycle.sorce",
        'did you mean "source"?',
        None,
    ),
    (
        "energy_per_cycle: 10 pJ",
        "energy_per_cycle: {source: ds}",
        "compute.cpu.energy_per_cycle.value",
        'missing required key "value"',
        None,
    ),
    (
        "kind: mcu",
        "kind: mcu\n    simd_macs_per_cycle: 0",
        "compute.cpu.simd_macs_per_cycle",
        "expected a positive number",
        "simd_macs",
    ),
    ("kind: mcu", "kind: mcu\n    runs: [CONV2D]", "compute.cpu.runs[0]", 'did you mean "CONV_2D"?', "runs:"),
    (
        "  - name: nominal\n    voltage: 1.0 V\n    frequency: 100 MHz\n    static_power: 1 mW\n",
        "  []\n",
        "operating_points",
        "at least one operating point",
        5,
    ),
    (
        "    static_power: 1 mW\n",
        "    static_power: 1 mW\n  - {name: nominal, voltage: 1 V, frequency: 1 MHz, static_power: 0 W}\n",
        "operating_points[1].name",
        'duplicate operating point name "nominal"',
        10,
    ),
    ("frequency: 100 MHz", "frequency: 0 Hz", "operating_points[0].frequency", "expected a positive frequency", None),
    ("    voltage: 1.0 V", "    voltage: -1.0 V", "operating_points[0].voltage", "expected a positive voltage", None),
    (
        "    voltage: 1.0 V\n",
        "",
        "operating_points[0].voltage",
        'missing required key "voltage" (a voltage like',
        "  - name",
    ),
    ("static_power: 1 mW", "static_power: [1, 2]", "operating_points[0].static_power", "got a list", None),
    (OPERATING_POINTS, "operating_points: 3\n", "operating_points", "expected a list of operating points, got 3", None),
    ('  ds: "A datasheet"', "  ds: [a]", "sources.ds", "expected non-empty text, got a list", None),
    ("  sleep:", "  slep:", "power_states.slep", 'did you mean "sleep"?', None),
    (
        "  sleep:\n    power: 10 uW\n    wake_latency: 10 us\n    wake_energy: 1 nJ\n",
        "  idle: {power: 1 mW, wake_latency: 1 us, wake_energy: 1 nJ}\n",
        "power_states.sleep",
        'missing required key "sleep"',
        "power_states:",
    ),
    ("wake_latency: 10 us", "wake_latency: -1 us", "power_states.sleep.wake_latency", "non-negative time", None),
    ("wake_energy: 1 nJ", "wake_energy: 1 nW", "power_states.sleep.wake_energy", "(a power)", None),
    (
        "    wake_energy: 1 nJ\n",
        "    wake_energy: 1 nJ\n  active: {power: 1 mW, wake_latency: 1 us}\n",
        "power_states.active.wake_latency",
        'unknown key "wake_latency"',
        38,
    ),
    (MEMORIES, "memories: {}\n", "memories", "at least one memory", None),
]


def _line_of_text(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


@pytest.mark.parametrize(
    ("old", "new", "field", "fragment", "line"), BAD, ids=[f"{i}:{c[2]}" for i, c in enumerate(BAD)]
)
def test_bad_arch_is_one_clear_line(tmp_path, old, new, field, fragment, line):
    assert GOOD.count(old) == 1, "fixture must replace exactly one place"
    text = GOOD.replace(old, new)
    if line is None:
        line = _line_of_text(text, new)
    elif isinstance(line, str):
        line = _line_of_text(text, line)
    path = _write(tmp_path, text)
    with pytest.raises((SpecError, UnitError)) as info:
        load_arch(path)
    error, message = info.value, str(info.value)
    assert (error.file, error.line, error.field) == (str(path), line, field), message
    assert message.startswith(f"{path}:{line}: {field + ': ' if field else ''}"), message
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty file"),
        ("# only a comment\n", "empty file"),
        ("- a\n- b\n", "expected a mapping of architecture fields"),
        ("just text\n", 'got "just text"'),
    ],
)
def test_bad_whole_files(tmp_path, text, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(SpecError, match=fragment) as info:
        load_arch(path)
    assert str(info.value).startswith(str(path))


def test_odd_keys_keep_the_message_on_one_line(tmp_path):
    path = _write(tmp_path, GOOD.replace("name: toy", 'name: toy\n"a\\nb": 1'))
    with pytest.raises(SpecError) as info:
        load_arch(path)
    assert str(info.value) == f'{path}:3: "a\\nb": unknown key "a\\nb"; allowed keys: ' + ", ".join(
        ["version", "name", "description", "sources", "operating_points", "compute", "memories", "power_states", "technology"]
        + ["source", "assumed"]
    )


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match=r"nope.yaml: file not found"):
        load_arch(tmp_path / "nope.yaml")


def test_fields_are_reusable_with_another_error_class():
    data = load_yaml_text("layers:\n  - {kind: conv, strde: 2}\n", file="w.yaml", error=WorkloadError)
    where = Where(file="w.yaml", error=WorkloadError)
    at = where.key(data, "layers").item(data["layers"], 0)
    with pytest.raises(
        WorkloadError, match=r'^w.yaml:2: layers\[0\].strde: unknown key "strde" \(did you mean "stride"\?\)'
    ):
        block(data["layers"][0], at, allowed=("kind", "stride"))
    with pytest.raises(WorkloadError, match=r"layers\[0\].kind: expected a PowerStateName \(active, idle, sleep\)"):
        get_enum(data["layers"][0], "kind", at, PowerStateName)
    assert get_quantity({"t": "2 ms"}, "t", where, Dimension.TIME, bound=Bound.POSITIVE) == pytest.approx(2e-3)
    assert get_quantity({}, "t", where, Dimension.TIME, default=None) is None


# --- fuzz: any mutation of a good file gives a result or one SpecError/UnitError line --------

WEIRD = [
    None,
    True,
    0,
    -1,
    1.5,
    float("nan"),
    float("inf"),
    "",
    "x",
    "1 MHz",
    "-3 pJ",
    "1 KiB",
    [],
    [1, "a"],
    {},
    {"value": None},
    {"value": "1 J", "source": 3},
    {"a": {"b": []}},
    "default",
    "CONV_2D",
    10**30,
]


def _paths(node, prefix=()):
    """Every (path) into a nested dict/list structure."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


def _assert_clean(call):
    try:
        arch = call()
    except (SpecError, UnitError) as error:
        assert "\n" not in str(error) and error.message
    else:
        assert isinstance(arch, Arch)
        assert all(math.isfinite(p.freq_hz) and p.freq_hz > 0 for p in arch.operating_points)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_tree_mutations(data):
    tree = load_yaml_text(STM32.read_text())
    paths = list(_paths(tree))[1:]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = tree
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = data.draw(st.sampled_from(["replace", "delete", "rename"]))
            if action == "replace":
                parent[path[-1]] = data.draw(st.sampled_from(WEIRD))
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[data.draw(st.sampled_from(["bogus", "size", "value", "default", 3, "sleep"]))] = parent.pop(
                    path[-1]
                )
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced this path
    _assert_clean(lambda: parse_arch(tree, file="fuzz.yaml"))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_fuzz_text_mutations(data):
    lines = STM32.read_text().splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["delete", "duplicate", "truncate", "insert", "swap"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "truncate":
            lines[index] = lines[index][: data.draw(st.integers(0, max(len(lines[index]) - 1, 0)))]
        elif action == "insert":
            position = data.draw(st.integers(0, len(lines[index])))
            junk = data.draw(st.sampled_from([":", "-", "{", "]", "'", "&a", "*a", "!!set", "  ", "\t", "#", "é"]))
            lines[index] = lines[index][:position] + junk + lines[index][position:]
        else:
            other = data.draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        if not lines:
            break
    text = "\n".join(lines) + "\n"
    _assert_clean(lambda: parse_arch(load_yaml_text(text, file="fuzz.yaml"), file="fuzz.yaml"))
