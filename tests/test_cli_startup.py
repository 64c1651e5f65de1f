"""Start-up stays cheap: building the command line's parser (what `tinysim --help` does) must not import
numpy, numba or the engine; they load when a command runs. Structural checks in a fresh interpreter, not
timings (a timing would depend on the machine and its load)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tinysim.cli.main import COMMANDS

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "numba", "tinysim.engine", "tinysim.pipeline")


def _loaded_after(code: str) -> list[str]:
    """The HEAVY modules present in sys.modules after running `code` in a fresh interpreter."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_cli_loads_no_numerics():
    assert _loaded_after("import tinysim.cli.main") == []


@pytest.mark.parametrize("module", COMMANDS)
def test_registering_a_command_loads_no_numerics(module):
    code = (
        "import argparse, importlib\n"
        f"m = importlib.import_module('tinysim.cli.{module}')\n"
        "m.register(argparse.ArgumentParser().add_subparsers())"
    )
    assert _loaded_after(code) == []


def test_import_tinysim_is_lazy_and_complete():
    """`import tinysim` loads no numerics; each public name still resolves (to the API's own object)."""
    assert _loaded_after("import tinysim") == []
    code = (
        "import tinysim, tinysim.api as api\n"
        "assert all(getattr(tinysim, n) is getattr(api, n) for n in tinysim.__all__ if n != '__version__')"
    )
    assert "numpy" in _loaded_after(code)  # resolving a name does load the API (and numpy with it)


def test_help_lists_every_command_with_examples():
    run_help = _help("run", "--help")
    assert "examples:" in run_help and "--strict" in run_help
    top = _help("--help")
    for name in COMMANDS:
        assert name.removesuffix("_cmd").replace("_", "-") in top


def _help(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tinysim.cli.main", *args], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cold_compile_is_announced_once(tmp_path):
    """An empty Numba cache: one notice line before the kernels compile; the same cache warm: none."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    cmd = [sys.executable, "-m", "tinysim.cli.main", "run", "archs/ndp100.yaml", "workloads/fc4_audio.yaml"]
    cold = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert cold.returncode == 0, cold.stderr
    assert re.fullmatch(r"tinysim: compiling kernels, first run only, ~\d+ s\n", cold.stderr)
    warm = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert warm.returncode == 0 and warm.stderr == "" and warm.stdout == cold.stdout


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    from tinysim.cli import progress as bars

    def drive(**kwargs) -> str:
        with bars.progress_bar("frames", "frame", **kwargs) as progress:
            for done in range(4):
                progress(done, 3)
        return capsys.readouterr().err

    assert drive() == ""  # stderr is captured here, not a terminal
    monkeypatch.setattr(bars, "on_terminal", lambda: True)
    err = drive()
    assert "frames:" in err and "0/3" in err  # the bar opened at the first call, on stderr
    assert drive(enabled=False) == ""
