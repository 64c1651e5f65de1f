"""Regression tests for the issue 14 defects that had none yet: each one runs the real CLI (or API) on a real
hostile input and would fail if the defect came back. The others are listed, test by test, in the issue's
audit; tests/test_reliability.py holds most of them."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import tflite
from cli_process import tinysim as _tinysim
from hostile_inputs import DONE_WHEN, fc_model, relu_model
from trickle_server import Trickle

from tinysim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
HANG_GUARD_S = 30.0  # a refusal that takes longer is a hang (the 2 s: benchmarks/refusals.py)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`tinysim ARGS` in this process: (exit status, stderr)."""
    capsys.readouterr()
    status = main(list(args))
    return status, capsys.readouterr().err


def _one_line(stderr: str) -> str:
    """The error, asserted to be one `tinysim: ` line (a U+2028 or any other line break would split it)."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinysim: ") and "Traceback" not in stderr, repr(stderr)
    return lines[0]


def _line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


# ---- .tflite: a batch of 100,000 and graph indices past the tensors -----------------------------------------


def test_the_same_batch_is_priced_from_shapes_without_running(tmp_path):
    """The refusal is about the engine's work, not the model: `--events shapes` prices it at once."""
    path = tmp_path / "batch.tflite"
    path.write_bytes(fc_model(100_000, 1024, 1024))
    proc = _tinysim("run", "stm32l4r5", str(path), "--events", "shapes", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert '"macs": 104857600000' in proc.stdout


def test_check_refuses_the_batch_naming_the_file_and_the_run_flags(tmp_path):
    """`check` refuses what a plain `run` would refuse, naming the file (it named the graph) and the flags as
    `run`'s (it offered --work-limit as if `check` took it)."""
    path = tmp_path / "batch.tflite"
    path.write_bytes(fc_model(100_000, 1024, 1024))
    proc = _tinysim("check", str(path))
    line = _one_line(proc.stderr)
    assert proc.returncode == 2 and line.startswith(f"tinysim: {path}: running it needs ~1.05e+11 MACs"), line
    assert "tinysim run: raise the limit with --work-limit" in line


def _with_graph_index(which: str, index: int) -> bytes:
    """A valid one-op model whose subgraph input or output list names tensor `index` (it has 4)."""
    data = bytearray(fc_model(1, 16, 8))
    indices = getattr(tflite.Model.GetRootAsModel(data, 0).Subgraphs(0), f"{which}AsNumpy")()
    indices[0] = index  # a view into `data`: patches the flatbuffer in place
    assert getattr(tflite.Model.GetRootAsModel(bytes(data), 0).Subgraphs(0), which)(0) == index
    return bytes(data)


def _relu_writing_its_input() -> bytes:
    """A RELU model (x -> y) whose op writes x in place: the graph output y is written by no op."""
    data = bytearray(relu_model((1, 8)))
    tflite.Model.GetRootAsModel(data, 0).Subgraphs(0).Operators(0).OutputsAsNumpy()[0] = 0
    return bytes(data)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_relu_writing_its_input, "graph output tensor 1 'y' is written by no op and is no graph input"),
        (lambda: _with_graph_index("Inputs", 3), "reads tensor 0 'x' before any op writes it"),
    ],
    ids=["output-never-written", "input-never-written"],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_tensor_read_before_any_op_writes_it_is_one_line(tmp_path, capsys, make, message, command):
    """Fuzz seed 11295: a model whose graph output no op writes ran, and the run then failed inside the
    interpreter (`internal error: ValueError`); reading a tensor before it is written would report arena garbage."""
    path = tmp_path / "m.tflite"
    path.write_bytes(make())
    status, err = _cli(capsys, *(("check", str(path)) if command == "check" else ("run", "stm32l4r5", str(path))))
    line = _one_line(err)
    assert status == 2 and line.startswith(f"tinysim: {path}: ") and message in line, line


@pytest.mark.parametrize("index", [4, 8, -5, 2**31 - 1])
@pytest.mark.parametrize("which", ["Inputs", "Outputs"])
@pytest.mark.parametrize("command", ["check", "run"])
def test_a_graph_index_past_the_tensors_is_one_line(tmp_path, capsys, command, which, index):
    """Was `internal error: KeyError: 8`."""
    path = tmp_path / "idx.tflite"
    path.write_bytes(_with_graph_index(which, index))
    args = ("check", str(path)) if command == "check" else ("run", "stm32l4r5", str(path))
    status, err = _cli(capsys, *args)
    line = _one_line(err)
    assert status == 2 and line == f"tinysim: {path}: graph input/output tensor index {index} out of range 0..3"


# ---- downloads: SIGINT and SIGTERM clean up ------------------------------------------------------------------


@pytest.fixture
def trickle():
    server = Trickle()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("signum", "status", "message"),
    [
        (signal.SIGINT, 130, "tinysim: interrupted"),
        (signal.SIGTERM, 143, "tinysim: terminated (SIGTERM); the partial download was removed"),
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_a_signal_during_a_download_leaves_no_part_file(tmp_path, trickle, signum, status, message):
    """Ctrl-C or a `kill` in the middle of `tinysim models fetch`: one line, 128 + the signal, nothing left."""
    dest = tmp_path / "models"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tinysim.cli.main",
            "models",
            "fetch",
            "--quiet",
            "--dir",
            str(dest),
            "--base-url",
            trickle.url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (dest.is_dir() and any(p.name.endswith(".part") for p in dest.iterdir())):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        time.sleep(0.3)  # a few bytes in: the download is reading from the socket
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == status and stderr == message + "\n", (proc.returncode, stderr)
    assert list(dest.iterdir()) == []


def test_the_sigterm_handler_is_set_only_while_downloading(tmp_path, trickle, monkeypatch):
    """The conversion of SIGTERM is installed around the download alone, over the default action only (a
    handler the caller installed is left alone), and the previous handler is back afterwards."""
    from tinysim.errors import FetchError
    from tinysim.workload import fetch

    monkeypatch.setattr(fetch, "DEADLINE_S", 0.6)
    monkeypatch.setattr(fetch, "GRACE_S", 0.3)
    before = signal.getsignal(signal.SIGTERM)
    seen: list[object] = []
    with pytest.raises(FetchError, match="deadline|minimum"):
        fetch.fetch_models(
            tmp_path,
            base_url=trickle.url,
            names=["kws_ref_model_int8.tflite"],
            progress=lambda *_: seen.append(signal.getsignal(signal.SIGTERM)),
        )
    assert seen and signal.getsignal(signal.SIGTERM) is before and list(tmp_path.iterdir()) == []
    if before == signal.SIG_DFL:
        assert all(callable(h) and h not in (signal.SIG_DFL, signal.SIG_IGN) for h in seen)
    else:
        assert all(h is before for h in seen)


# ---- YAML: a U+2028 line separator, extreme numbers, empty and too-deep files ------------------------------

SMALL_SWEEP = (
    "version: 1\nname: small\nbase: stm32l4r5\naxes:\n  compute.cpu.core: [cortex-m4, cortex-m7]\n"
    "sampling: {method: grid}\nworkloads: [kws_fc]\nobjectives: [latency, energy]\nrate: 1 Hz\n"
    "constraints: {fits: true}\n"
)


@pytest.mark.parametrize(
    "text",
    [
        SMALL_SWEEP + '"bo\u2028gus": 1\n',  # raw, inside a quoted key: YAML reads it as a line break
        SMALL_SWEEP + '"bo\\Lgus": 1\n',  # the YAML escape of U+2028: the key holds it
        SMALL_SWEEP.replace("{method: grid}", '{method: "gr\\Lid"}'),
        SMALL_SWEEP.replace("[kws_fc]", '["kw\\Ls_fc"]'),
        SMALL_SWEEP.replace("{fits: true}", '{"fi\\Lts": true}'),
        SMALL_SWEEP.replace("compute.cpu.core:", '"compute.cpu.co\\Lre":'),
        SMALL_SWEEP.replace("rate: 1 Hz", 'rate: "1 H\\Lz"'),
        SMALL_SWEEP.replace("name: small", "na\u2028me: small"),
    ],
)
@pytest.mark.parametrize("command", ["check", "sweep"])
def test_a_sweep_with_a_line_separator_is_refused_in_one_line(tmp_path, capsys, text, command):
    """A U+2028 in the sweep YAML gave a two-line error (it is a line break to splitlines and terminals)."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    out = tmp_path / "r.sqlite"
    status, err = _cli(capsys, *(("check", str(path)) if command == "check" else ("sweep", str(path), "-o", str(out))))
    line = _one_line(err)
    assert status == 2 and line.startswith(f"tinysim: {path}:") and "\u2028" not in err, line
    assert not out.exists()


ARCH = (ROOT / "archs" / "stm32l4r5.yaml").read_text()
SYSTOLIC = (ROOT / "archs" / "systolic-16x16.yaml").read_text()
KWS_FC = (ROOT / "workloads" / "kws_fc.yaml").read_text()


@pytest.mark.parametrize(
    ("base", "old", "new", "field", "workload"),
    [
        (ARCH, "size: {value: 2 MiB", "size: {value: 1e308 MiB", "memories.flash.size", "kws_fc"),
        (ARCH, "voltage: 1.8 V", "voltage: 1e308 V", "operating_points[0].voltage", "kws_fc"),
        (ARCH, "frequency: 120 MHz", "frequency: 1e308 MHz", "operating_points[0].frequency", "kws_fc"),
        (
            ARCH,
            "nominal_voltage: {value: 1.8 V",
            "nominal_voltage: {value: 5e-324 V",
            "compute.cpu.nominal_voltage",
            "kws_fc",
        ),
        (SYSTOLIC, "rows: {value: 16", "rows: {value: 1e300", "compute.array.rows", "kws"),
        (SYSTOLIC, "rows: {value: 16", "rows: {value: 123456789012345678901234567890", "compute.array.rows", "kws"),
    ],
    ids=[
        "flash-1e308-MiB",
        "voltage-1e308-V",
        "frequency-1e308-MHz",
        "nominal-voltage-5e-324-V",
        "rows-1e300",
        "rows-30-digits",
    ],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_extreme_numbers_in_an_architecture_are_one_line(tmp_path, capsys, base, old, new, field, workload, command):
    """Were internal errors (OverflowError, int too large) or accepted with energy inf/nan, frequency inf."""
    assert base.count(old) >= 1
    text = base.replace(old, new, 1)
    path = tmp_path / "arch.yaml"
    path.write_text(text)
    args = ("check", str(path)) if command == "check" else ("run", str(path), workload, "--format", "json")
    status, err = _cli(capsys, *args)
    line = _one_line(err)
    assert status == 2 and line.startswith(f"tinysim: {path}:{_line_of(text, new)}: {field}: expected "), line


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "units: 256, activation: relu}\n  - {name: fc2",
            "units: 123456789012345678901234567890, activation: relu}\n  - {name: fc2",
            "layers[0].units",
        ),
        ("shape: [1, 1600]", "shape: [1, .inf]", "input.shape"),
        ("shape: [1, 1600]", "shape: [1, 1e300]", "input.shape"),
        ("scale: 0.1, zero_point: -128", "scale: 5.0e-324, zero_point: -128", "input.scale"),  # fuzz seed 16822
        ("scale: 0.1, zero_point: -128", "scale: 1.0e+39, zero_point: -128", "input.scale"),
    ],
    ids=["units-30-digits", "shape-inf", "shape-1e300", "scale-denormal", "scale-past-float32"],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_extreme_numbers_in_a_layer_list_are_one_line(tmp_path, capsys, old, new, field, command):
    text = KWS_FC.replace(old, new, 1)
    path = tmp_path / "w.yaml"
    path.write_text(text)
    status, err = _cli(capsys, *(("check", str(path)) if command == "check" else ("run", "stm32l4r5", str(path))))
    line = _one_line(err)
    assert status == 2 and line.startswith(f"tinysim: {path}:{_line_of(text, new)}: {field}: expected "), line


@pytest.fixture(scope="module")
def graph_npz(tmp_path_factory) -> Path:
    """kws_fc saved in the format `tinysim compress` writes (YAML header + .npz weights)."""
    from tinysim.workload import load_workload
    from tinysim.workload.npz_graph import save_graph_npz

    yaml_path, _ = save_graph_npz(
        load_workload(ROOT / "workloads" / "kws_fc.yaml"), tmp_path_factory.mktemp("npz") / "k.yaml"
    )
    return yaml_path


@pytest.mark.parametrize(
    "dim",
    [".inf", "1e300", "123456789012345678901234567890", "-1", "2147483648"],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_an_extreme_shape_in_a_compressed_workload_is_one_line(tmp_path, capsys, graph_npz, dim, command):
    """Issue 14: `a tensor shape of inf in a compressed workload` was an internal error."""
    text = graph_npz.read_text()
    assert text.count("shape: [1, 1600]") == 1
    path = tmp_path / "k.yaml"
    path.write_text(text.replace("shape: [1, 1600]", f"shape: [1, {dim}]"))
    (tmp_path / "k.npz").write_bytes(graph_npz.with_suffix(".npz").read_bytes())
    status, err = _cli(capsys, *(("check", str(path)) if command == "check" else ("run", "stm32l4r5", str(path))))
    line = _one_line(err)
    assert status == 2 and line.startswith(f"tinysim: {path}:") and "internal error" not in line, line
    assert re.match(rf"tinysim: {re.escape(str(path))}:\d+: tensors\[\d+\]\.shape: expected a shape", line), line


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("sweep.yaml", "", 1),
        ("sweep.yaml", "# nothing but a comment\n", 1),
        ("sweep.yaml", "version: 1\nname: x\naxes: " + "[" * 3000 + "]" * 3000 + "\n", 3),
        ("scenario.yaml", "", 1),
        ("scenario.yaml", "version: 1\nname: x\nsensor: " + "[" * 3000 + "]" * 3000 + "\n", 3),
        ("workload.yaml", "version: 1\nname: x\nlayers: " + "[" * 3000 + "]" * 3000 + "\n", 3),
    ],
    ids=[
        "sweep-empty",
        "sweep-comment-only",
        "sweep-too-deep",
        "scenario-empty",
        "scenario-too-deep",
        "workload-too-deep",
    ],
)
def test_empty_and_too_deep_files_of_every_kind_name_their_line(tmp_path, capsys, name, text, line):
    """'empty file' and 'nested too deeply' lacked FILE:LINE (tests/test_reliability.py covers architectures)."""
    folder = tmp_path / ("sweeps" if name.startswith("sweep") else "scenarios" if name.startswith("scen") else "w")
    folder.mkdir()
    path = folder / name
    path.write_text(text)
    command = {
        "sweep.yaml": ("sweep", str(path), "-o", str(tmp_path / "r.sqlite")),
        "scenario.yaml": ("always-on", str(path)),
        "workload.yaml": ("run", "stm32l4r5", str(path)),
    }[name]
    status, err = _cli(capsys, *command)
    assert status == 2 and _one_line(err).startswith(f"tinysim: {path}:{line}: "), err


# ---- results files: foreign databases, URI-like names, damage ------------------------------------------------


def _foreign_browser(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE moz_places(id INTEGER PRIMARY KEY, url TEXT);"
        "INSERT INTO moz_places(url) VALUES ('https://example.org');"
    )
    con.close()


def _foreign_with_meta(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE meta(key TEXT, value TEXT); INSERT INTO meta VALUES ('schema_version', '3');"
        "CREATE TABLE results(x);"
    )
    con.close()


@pytest.mark.parametrize("make", [_foreign_browser, _foreign_with_meta], ids=["browser-history", "own-meta-table"])
def test_sweep_onto_a_foreign_database_leaves_it_byte_identical(tmp_path, capsys, make: Callable[[Path], None]):
    """`tinysim sweep ... -o FILE` switched another program's database to WAL before refusing it."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SMALL_SWEEP)
    other = tmp_path / "places.sqlite"
    make(other)
    before = other.read_bytes()
    status, err = _cli(capsys, "sweep", str(sweep), "-o", str(other))
    assert status == 2 and "not a tinysim sweep results file" in _one_line(err), err
    assert other.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["places.sqlite", "s.yaml"]


def test_two_sweeps_onto_a_uri_like_name_do_not_mix(tmp_path, capsys, monkeypatch):
    """`-o 'r#1.sqlite'` went into a `file:` URI: two different sweeps both exit 0, rows mixed, a stray `r`."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(SMALL_SWEEP)
    (tmp_path / "b.yaml").write_text(
        SMALL_SWEEP.replace("name: small", "name: other").replace("cortex-m7", "cortex-m33")
    )
    for name in ("r#1.sqlite", "r?x=1.sqlite", "r%41.sqlite"):
        status, err = _cli(capsys, "sweep", "a.yaml", "-o", name)
        assert status == 0, err
        status, err = _cli(capsys, "sweep", "b.yaml", "-o", name)
        assert status == 2 and name in _one_line(err), err
    from tinysim.explore.store import read_sweep

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.yaml",
        "b.yaml",
        "r#1.sqlite",
        "r%41.sqlite",
        "r?x=1.sqlite",
    ]
    for name in ("r#1.sqlite", "r?x=1.sqlite", "r%41.sqlite"):
        sweep = read_sweep(tmp_path / name)
        assert sweep.meta["sweep_name"] == "small" and len(sweep.results) == 2


def _garble_first_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))


def _drop_results(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE results")
    con.close()


def _bad_json(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("UPDATE results SET energy_breakdown_json = '{not json'")
    con.close()


@pytest.mark.parametrize(
    "damage",
    [_garble_first_page, _drop_results, _bad_json],
    ids=["DatabaseError", "OperationalError", "JSONDecodeError"],
)
def test_report_on_a_damaged_results_file_is_one_line(tmp_path, capsys, damage: Callable[[Path], None]):
    """`tinysim report` was `internal error: DatabaseError / OperationalError / JSONDecodeError`."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text(SMALL_SWEEP)
    results = tmp_path / "r.sqlite"
    status, err = _cli(capsys, "sweep", str(sweep), "-o", str(results))
    assert status == 0, err
    damage(results)
    status, err = _cli(capsys, "report", str(results), "--output", str(tmp_path / "rep"))
    line = _one_line(err)
    assert status == 2 and str(results) in line and "internal error" not in line, line


# ---- "Done when": each refused in one line (timed by benchmarks/refusals.py) -----------------------------------------


@pytest.mark.parametrize(("make", "fragment"), [(m, f) for _, m, f in DONE_WHEN], ids=[i for i, _, _ in DONE_WHEN])
def test_the_done_when_inputs_are_refused_in_one_line(tmp_path, make, fragment):
    """Each refused before any work, naming what it would take; the 2 s of the issue is timed, as a user sees it,
    by benchmarks/refusals.py (here only a bound against a hang)."""
    args = make(tmp_path)
    start = time.monotonic()
    proc = _tinysim(*args)
    elapsed = time.monotonic() - start
    line = _one_line(proc.stderr)
    assert proc.returncode == 2 and fragment in line and elapsed < HANG_GUARD_S, (elapsed, line)
    if args[0] == "run" and args[2].endswith(".tflite") and "needs" in fragment:
        assert line.startswith(f"tinysim: {args[2]}: running it needs") and "--work-limit" in line, line


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_saved_outputs_follow_the_umask(tmp_path, capsys, umask):
    """`-o` (tests/test_reliability.py) and `--save-output` were written 0600 by mkstemp, whatever the umask."""
    import os
    import stat

    out = tmp_path / "y.npy"
    old = os.umask(umask)
    try:
        status, err = _cli(capsys, "run", "stm32l4r5", "kws_fc", "--save-output", str(out))
    finally:
        os.umask(old)
    assert status == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask and np.load(out).shape == (1, 12)
    assert [p.name for p in tmp_path.iterdir()] == ["y.npy"]


def test_a_large_output_is_not_listed_in_the_json_report(tmp_path, capsys):
    """Fuzz seed 8261: a layer-list input of 65,536 x 640 ran (1.7e10 MACs, under the limit), then the JSON report
    listed all 41.9 million output values: a MemoryError under the fuzz's 3 GiB. The shape is given, the values only
    up to MAX_JSON_OUTPUT (--save-output writes them all); a small output is still listed."""
    import json

    from tinysim.cli.run_cmd import MAX_JSON_OUTPUT

    text = (ROOT / "workloads" / "ad.yaml").read_text()
    assert text.count("shape: [1, 640]") == 1
    big = tmp_path / "big.yaml"
    big.write_text(text.replace("shape: [1, 640]", "shape: [256, 640]"))
    status = main(["run", "stm32l4r5", str(big), "--format", "json", "--events", "engine"])
    doc = json.loads(capsys.readouterr().out)
    assert status == 0 and doc["output_shape"] == [256, 640] and 256 * 640 > MAX_JSON_OUTPUT and "output" not in doc
    assert main(["run", "stm32l4r5", "ad", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["output_shape"] == [1, 640] and len(doc["output"]) == 640
