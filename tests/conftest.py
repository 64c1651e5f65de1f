"""Shared test helpers: where the MLPerf Tiny reference models live, and skipping when they don't.

The models are read in place from the shared folder (never copied into the repo). Locally a test
that needs an absent model is skipped with the reason; in CI (`CI=true`) it fails instead, so a
missing model can never turn the suite silently green.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_models_dir() -> Path:
    """`$TINYSIM_SHARED` if set, else `<repo>/../shared/models`."""
    override = os.environ.get("TINYSIM_SHARED")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "models"


def require_model(name: str) -> Path:
    """Path of a shared model file; skips the test when absent (fails under `CI=true`)."""
    path = shared_models_dir() / name
    if not path.is_file():
        reason = f"model {name} not found in {path.parent} (set TINYSIM_SHARED to the models folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(name="shared_models_dir")
def _shared_models_dir_fixture() -> Path:
    return shared_models_dir()


@pytest.fixture(name="require_model")
def _require_model_fixture():
    return require_model
