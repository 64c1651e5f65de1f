"""Where the peer tools' own virtualenvs are: `$TINYSIM_<TOOL>_VENV`, else `venvs/<tool>` beside the repository
(`../venvs/scalesim` from its root), as ../shared/peers.md sets them up. Benchmark-only; never imported by tinysim."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def peer_executable(tool: str, program: str = "python") -> str:
    """The path of `program` in the tool's virtualenv (it may not exist; the caller reports that)."""
    venv = os.environ.get(f"TINYSIM_{tool.upper()}_VENV") or str(REPO.parent / "venvs" / tool)
    return str(Path(venv) / "bin" / program)
