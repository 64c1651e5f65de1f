"""Installed as a user installs it (a non-editable `pip install <repo>` into a fresh virtualenv) and run from an
empty folder of their own: shipped architectures, workloads, scenarios and sweeps resolve by name.

Building the wheel fetches setuptools as any pip install does. The fresh virtualenv borrows this environment's third-party packages through a .pth line (so the test needs
no network and no second copy of numpy and numba), but not tinysim: that comes only from the wheel built here.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("user")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    ours = [p for p in site.getsitepackages() if Path(p).is_dir()] or [sysconfig.get_paths()["purelib"]]
    (purelib / "borrowed.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    wheels = root / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels),
                    str(REPO)], check=True, capture_output=True)
    (wheel,) = wheels.glob("*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(purelib), str(wheel)],
                   check=True, capture_output=True)
    work = root / "empty"
    work.mkdir()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(root / "numba"), "PYTHONPATH": ""}
    return venv / "bin" / "python", work, env


def tinysim(installed, *args: str) -> subprocess.CompletedProcess:
    python, work, env = installed
    return subprocess.run([str(python), "-m", "tinysim.cli.main", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def test_the_wheel_is_what_runs(installed):
    python, work, env = installed
    where = subprocess.run([str(python), "-c", "import tinysim; print(tinysim.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert str(REPO) not in where and "site-packages" in where


def test_list_archs(installed):
    proc = tinysim(installed, "list", "archs")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"stm32l4r5", "stm32l4r5-cmsis", "ndp100", "ethos-u55-128"} <= set(names)


def test_run_by_names_from_an_empty_folder(installed):
    proc = tinysim(installed, "run", "stm32l4r5", "kws", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)["summary"]
    assert summary["arch"] == "stm32l4r5" and summary["workload"] == "kws" and summary["latency_s"] > 0


def test_validate_from_an_empty_folder(installed):
    proc = tinysim(installed, "validate")
    assert proc.returncode == 0, proc.stderr
    assert "stm32l4r5-cmsis" in proc.stdout and "calibration" in proc.stdout


def test_always_on_by_names(installed):
    proc = tinysim(installed, "always-on", "kws_always_on", "--arch", "ndp100", "--duration", "10 s", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)


def test_sweep_of_a_shipped_sweep_by_name(installed):
    out = installed[1] / "r.sqlite"
    proc = tinysim(installed, "sweep", "npu_macs", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.is_file() and "rows written" in proc.stdout + proc.stderr
