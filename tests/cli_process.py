"""`tinysim ARGS` in a fresh interpreter, as a user runs it: the one runner of the CLI tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tinysim(*args: str, cwd: Path | str = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """The finished process (exit status, stdout, stderr as text); run from the repository root by default."""
    return subprocess.run(
        [sys.executable, "-m", "tinysim.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
