"""Input fuzzing of the CLI: seeded case generators and the outcome check, shared by the CI test
(tests/test_fuzz_inputs.py) and the long run (benchmarks/fuzz.py).

A case is one CLI command over one mutated input (an arch, workload, scenario or sweep YAML from the shipped
files, a corrupted `.tflite`, a bad `.npy` input, a corrupted sweep results file). It passes when the CLI
either succeeds with only finite figures, or refuses with exit 2 and one-line `tinysim: ` errors (check: one
per error) and no traceback. Anything else (an internal error, a crash, a hang past the timeout, memory past
the address-space limit) is a defect. Cases run in forked children of a process that imported tinysim and
warmed the Numba cache once (fast), or with `exec=True` as `python -m tinysim.cli.main` subprocesses.
"""

from __future__ import annotations

import enum
import json
import math
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fuzz_mutate import corrupt_bytes, corrupt_npy, corrupt_results, mutate_yaml

REPO = Path(__file__).resolve().parent.parent
SMALL_WORKLOADS = ("kws_fc.yaml", "fc4_audio.yaml", "ad.yaml")
TIMEOUT_S = 20.0
MEMORY_LIMIT_BYTES = 3 << 30
_NONFINITE_WORDS = re.compile(r"(?<![\w.])-?(nan|inf|infinity)(?![\w])", re.IGNORECASE)


class Category(enum.Enum):
    ARCH = "arch"
    WORKLOAD = "workload"
    SCENARIO = "scenario"
    SWEEP = "sweep"
    TFLITE = "tflite"
    NPY = "npy"
    RESULTS = "results"


class Outcome(enum.Enum):
    OK = "ok"  # exit 0, every figure finite
    REFUSED = "refused"  # exit 2, one-line tinysim errors
    INTERNAL = "internal error"
    NONFINITE = "non-finite figure"
    BAD_ERROR = "malformed error"  # exit 2 but a traceback or a line not starting "tinysim: "
    HANG = "hang"
    CRASH = "crash"  # killed by a signal or an unexpected exit status

    @property
    def passed(self) -> bool:
        return self in (Outcome.OK, Outcome.REFUSED)


@dataclass(frozen=True)
class Case:
    category: Category
    seed: int
    argv: tuple[str, ...]
    check_output: str = "json"  # "json" (stdout), "sqlite:<path>", "markdown:<path>" or "none"

    def command(self) -> str:
        return "python -m tinysim.cli.main " + " ".join(_quote(a) for a in self.argv)


@dataclass(frozen=True)
class Result:
    case: Case
    outcome: Outcome
    detail: str
    wall_s: float


def _quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./:@=-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


# ---- the sandbox: copies of the shipped files, so mutated files resolve their relative paths -------------


class Sandbox:
    """A folder mirroring archs/ and workloads/ (mutated files are written next to the originals), a small
    valid `.tflite`, and a valid sweep results file to corrupt."""

    def __init__(self, root: Path):
        self.root = root
        shutil.copytree(REPO / "archs", root / "archs")
        shutil.copytree(REPO / "workloads", root / "workloads", symlinks=False)
        self.models = [root / "fc.tflite"]
        self.models[0].write_bytes(_small_tflite())
        shared = REPO.parent / "shared" / "models" / "ad_autoencoder_int8.tflite"
        if shared.is_file():
            self.models.append(shared)
        self.results = root / "results.sqlite"

    def seeds(self, category: Category) -> list[Path]:
        folder = {Category.ARCH: "archs", Category.SCENARIO: "workloads/scenarios"}.get(category, "workloads/sweeps")
        if category is Category.WORKLOAD:
            return [self.root / "workloads" / n for n in SMALL_WORKLOADS]
        return sorted(p for p in (self.root / folder).glob("*.yaml") if not p.name.startswith("fz_"))

    def small_sweep(self) -> Path:
        """A 2-point sweep of kws_fc on the STM32L4R5: the seed of sweep runs and of the results file."""
        path = self.root / "workloads" / "sweeps" / "small.yaml"
        path.write_text(
            "version: 1\nname: small\nbase: ../../archs/stm32l4r5.yaml\n"
            "axes:\n  compute.cpu.core: [cortex-m4, cortex-m7]\nsampling: {method: grid}\n"
            "workloads: [../kws_fc.yaml]\nobjectives: [latency, energy]\nrate: 1 Hz\nconstraints: {fits: true}\n"
        )
        return path


def _small_tflite() -> bytes:
    """A one-op int8 fully connected model (16 -> 8), built with the test flatbuffer builder."""
    import numpy as np
    import tflite
    from tflite_builder import INT32, Options, TensorSpec, single_op_model

    rng = np.random.default_rng(0)
    tensors = [
        TensorSpec("x", (1, 16), scale=(0.05,), zero_point=(-3,)),
        TensorSpec("w", (8, 16), scale=(0.02,), zero_point=(0,), data=rng.integers(-127, 128, (8, 16))),
        TensorSpec("b", (8,), INT32, scale=(0.001,), zero_point=(0,), data=rng.integers(-500, 500, 8)),
        TensorSpec("y", (1, 8), scale=(0.1,), zero_point=(2,)),
    ]
    opts = Options("FullyConnectedOptions", {"FusedActivationFunction": 0})
    return single_op_model(
        tflite.BuiltinOperator.FULLY_CONNECTED, tensors, op_inputs=(0, 1, 2), op_outputs=(3,), options=opts
    )


# ---- case generation ------------------------------------------------------------------------------------


def make_case(category: Category, seed: int, box: Sandbox) -> Case:
    """The case of (category, seed): the same files and command every time."""
    rng = random.Random(f"{category.value}:{seed}")
    tag = f"fz_{category.value}_{seed}"
    if category in (Category.ARCH, Category.WORKLOAD, Category.SCENARIO, Category.SWEEP):
        check = rng.random() < 0.5
        source = rng.choice(box.seeds(category))
        text = source.read_text()
        if category is Category.SWEEP and not check:
            text = _small_sweep(text)
        path = source.with_name(f"{tag}.yaml")
        path.write_text(mutate_yaml(text, rng))
        if check:
            return Case(category, seed, ("check", str(path)), "none")
        return _yaml_command(category, seed, path, rng, box)
    if category is Category.TFLITE:
        path = box.root / f"{tag}.tflite"
        path.write_bytes(corrupt_bytes(rng.choice(box.models).read_bytes(), rng))
        if rng.random() < 0.5:
            return Case(category, seed, ("check", str(path)), "none")
        return Case(category, seed, ("run", "stm32l4r5", str(path), "--format", "json"))
    if category is Category.NPY:
        path = box.root / f"{tag}.npy"
        frames = corrupt_npy(path, (1, 1600), rng)
        extra = ("--frames", str(frames)) if frames else ()
        argv = ("run", "stm32l4r5", "kws_fc", "--input", str(path), *extra, "--format", "json")
        return Case(category, seed, argv)
    path = box.root / f"{tag}.sqlite"
    corrupt_results(box.results, path, rng)
    out = box.root / f"{tag}_report"
    return Case(category, seed, ("report", str(path), "--output", str(out)), f"markdown:{out / 'report.md'}")


def _small_sweep(text: str) -> str:
    """A shipped sweep cut down to run in seconds: two values per axis, a few samples, kws_fc only."""
    import yaml

    spec = yaml.safe_load(text)
    spec["axes"] = {k: v[:2] if isinstance(v, list) else v for k, v in spec.get("axes", {}).items()}
    spec["workloads"] = ["../kws_fc.yaml"]
    sampling = spec.get("sampling") or {}
    if isinstance(sampling.get("count"), int):  # random and LHS sampling draw `count` points
        sampling["count"] = min(sampling["count"], 4)
    return yaml.safe_dump(spec, sort_keys=False)


def _yaml_command(category: Category, seed: int, path: Path, rng: random.Random, box: Sandbox) -> Case:
    """The command that runs a mutated YAML file (`check` is chosen before)."""
    if category is Category.ARCH:
        return Case(category, seed, ("run", str(path), rng.choice(SMALL_WORKLOADS), "--format", "json"))
    if category is Category.WORKLOAD:
        arch = rng.choice(("stm32l4r5", "ndp120", "ecm3532", "ethos-u55-128", "systolic-16x16"))
        return Case(category, seed, ("run", arch, str(path), "--format", "json"))
    if category is Category.SCENARIO:
        duration = rng.choice(((), ("--duration", "2 s"), ("--duration", "1 h"), ("--duration", "1e8 s")))
        return Case(category, seed, ("always-on", str(path), *duration, "--format", "json"))
    db = box.root / f"fz_sweep_{seed}.sqlite"
    return Case(category, seed, ("sweep", str(path), "-o", str(db), "--quiet"), f"sqlite:{db}")


def prepare(box: Sandbox) -> None:
    """Write the valid results file that RESULTS cases corrupt (one small sweep, in this process)."""
    code, _, err = run_in_process(("sweep", str(box.small_sweep()), "-o", str(box.results), "--quiet"))
    if code != 0:
        raise RuntimeError(f"the seed sweep failed: {err}")


# ---- running and checking -------------------------------------------------------------------------------


def run_in_process(argv: tuple[str, ...]) -> tuple[int, str, str]:
    """Run the CLI here (the warm-up, and the seed results file), capturing its output."""
    import contextlib
    import io

    from tinysim.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def warm_up() -> None:
    """Import the CLI and compile the engine once: forked cases inherit both (the first run is ~30 s)."""
    code, _, err = run_in_process(("run", "stm32l4r5", "kws_fc", "--format", "json"))
    if code != 0:
        raise RuntimeError(f"warm-up run failed: {err}")


def _limit_memory() -> None:
    """Allow the case MEMORY_LIMIT_BYTES of address space beyond what the forked process already maps: a pytest
    worker that loaded LiteRT, TFLite Micro or Dask before may map gigabytes it never touches."""
    import resource

    limit = _mapped_bytes() + MEMORY_LIMIT_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _mapped_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _fork_case(case: Case, out: Path, err: Path) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        os.setpgid(0, 0)
        _limit_memory()
        for fd, path in ((1, out), (2, err)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - the child's own streams, closed by _exit
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        from tinysim.cli.main import main

        try:
            code = main(list(case.argv))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _exec_case(case: Case, out: Path, err: Path) -> int:
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "TINYSIM_DEBUG"}
    with out.open("wb") as o, err.open("wb") as e:  # preexec_fn is safe: the runner starts no threads
        proc = subprocess.Popen(
            [sys.executable, "-m", "tinysim.cli.main", *case.argv],
            stdout=o,
            stderr=e,
            preexec_fn=_limit_memory,  # noqa: PLW1509
            start_new_session=True,
            cwd=REPO,
            env=env,
        )
    return proc.pid


def run_cases(cases: list[Case], workdir: Path, *, jobs: int = 2, exec_: bool = False) -> Iterator[Result]:
    """Run the cases, `jobs` at a time, each under the timeout and memory limit; yield results as they end."""
    pending = list(reversed(cases))
    running: dict[int, tuple[Case, float, Path, Path]] = {}
    while pending or running:
        while pending and len(running) < jobs:
            case = pending.pop()
            out, err = workdir / f"{os.getpid()}_{len(pending)}.out", workdir / f"{os.getpid()}_{len(pending)}.err"
            pid = (_exec_case if exec_ else _fork_case)(case, out, err)
            running[pid] = (case, time.monotonic(), out, err)
        time.sleep(0.01)
        for pid, (case, start, out, err) in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            late = not done and time.monotonic() - start > TIMEOUT_S
            if late:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            if done or late:
                del running[pid]
                code = None if late else (os.waitstatus_to_exitcode(status))
                outcome, detail = judge(case, code, out.read_text(errors="replace"), err.read_text(errors="replace"))
                out.unlink()
                err.unlink()
                yield Result(case, outcome, detail, time.monotonic() - start)


def judge(case: Case, code: int | None, stdout: str, stderr: str) -> tuple[Outcome, str]:
    """The outcome of one finished case, and a one-line reason when it failed."""
    if code is None:
        return Outcome.HANG, f"no result after {TIMEOUT_S:g} s"
    last = stderr.strip().splitlines()[-1:] or [""]
    if code == 1 or "internal error" in stderr:
        return Outcome.INTERNAL, last[0][:300]
    if code == 2:
        lines = stderr.strip().split("\n")  # a U+2028 inside a message is not a new line
        one_per_file = case.argv[0] == "check" or len(lines) == 1
        if "Traceback" in stderr or not lines or not one_per_file or not all(s.startswith("tinysim: ") for s in lines):
            return Outcome.BAD_ERROR, stderr.strip()[-300:]
        return Outcome.REFUSED, lines[0][:200]
    if code != 0:
        return Outcome.CRASH, f"exit status {code}: {last[0][:200]}"
    bad = _nonfinite(case, stdout)
    return (Outcome.NONFINITE, bad) if bad else (Outcome.OK, "")


_FIGURE_WORDS = ("latency", "energy", "power", "cycles", "area", "arena", "sram", "weights", "macs")


def _nonfinite(case: Case, stdout: str) -> str:
    """'' when every figure the command wrote is finite, else where the first non-finite one is."""
    kind, _, where = case.check_output.partition(":")
    if kind == "json":
        try:
            return _walk(json.loads(stdout), "$")
        except ValueError as err:
            return f"stdout is not JSON: {err}"
    if kind == "sqlite":
        return _sqlite_nonfinite(Path(where))
    if kind == "markdown" and Path(where).is_file():
        # figures are the cells of figure columns; other cells are names a corrupted file may spell "Inf" or "nan"
        # (a workload, an operating point, a design parameter's text value)
        figure_columns: set[int] | None = None  # None: not inside a table (the next table line is its header)
        for number, line in enumerate(Path(where).read_text(errors="replace").splitlines(), 1):
            if not line.startswith("|"):
                figure_columns = None
                continue
            cells = line.split("|")[1:-1]
            if figure_columns is None:
                figure_columns = {i for i, c in enumerate(cells) if any(w in c.lower() for w in _FIGURE_WORDS)}
                continue
            hit = next((m for i, c in enumerate(cells) if i in figure_columns and (m := _NONFINITE_WORDS.search(c))),
                       None)
            if hit:
                return f"report.md line {number}: {hit.group(0)!r}"
        return ""
    return ""


def _walk(value: object, path: str) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{path} = {value}"
    if isinstance(value, str) and value.strip().lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity"):
        return f"{path} = {value!r}"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _walk(item, f"{path}.{key}")
        if found:
            return found
    return ""


def _sqlite_nonfinite(path: Path) -> str:
    with sqlite3.connect(path) as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in db.execute(f'SELECT * FROM "{table}"'):  # table names from the file itself
                for value in row:
                    if isinstance(value, float) and not math.isfinite(value):
                        return f"{path.name}: table {table}: {value}"
    return ""
