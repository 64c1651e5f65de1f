"""The type checker as a test: mypy over tinysim/ with the [tool.mypy] config of pyproject.toml finds nothing.

mypy is a dev dependency: without it the test is skipped with the reason, and fails instead under `CI=true`,
so a missing checker can never turn the suite silently green.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
from conftest import REPO_ROOT


def test_mypy_finds_no_errors() -> None:
    if importlib.util.find_spec("mypy") is None:
        reason = "mypy is not installed (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    # The files to check (tinysim/) and every option come from pyproject.toml, as for a plain `mypy` run.
    command = [sys.executable, "-m", "mypy", "--config-file", str(REPO_ROOT / "pyproject.toml")]
    done = subprocess.run(command, check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"mypy (exit {done.returncode}):\n{(done.stdout + done.stderr).strip()}", pytrace=False)
