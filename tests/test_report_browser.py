"""A sweep report opened in headless Chromium: every image loads, and the page renders to a real screenshot.

index.html carries a small inline script that writes `data-images-loaded="loaded/total"` on <body>
once the page has loaded; `--dump-dom` prints the DOM after that, so the test reads the attribute.
Needs Debian's `chromium` (.ci/run installs it): skipped with the reason when absent, failed in CI.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinysim.cli.main import main

sys.path.insert(0, str(Path(__file__).parent))
from test_report_sweep import write_results

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(REPO.glob("reports/*/index.html"))
FLAGS = (
    "--headless",
    "--no-sandbox",  # tests run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        reason = "chromium not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    cmd = [chromium_path(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def check_page(index: Path, work: Path, *, screenshot: bool = True) -> None:
    url = index.resolve().as_uri()
    dom = chromium(["--virtual-time-budget=5000", "--dump-dom", url], work / "profile-dom")
    found = re.search(r'data-images-loaded="(\d+)/(\d+)"', dom.stdout)
    assert found, f"no data-images-loaded on <body>; chromium said: {dom.stderr[-2000:]}"
    loaded, total = int(found[1]), int(found[2])
    assert total >= 3 and loaded == total, f"{loaded} of {total} images loaded in {index}"
    if not screenshot:
        return

    shot = work / "screenshot.png"
    run = chromium(["--window-size=1280,2000", f"--screenshot={shot}", url], work / "profile-shot")
    assert shot.is_file(), f"no screenshot; chromium said: {run.stderr[-2000:]}"
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert shot.stat().st_size > 30_000 and float(np.std(pixels[..., :3])) > 0.05  # not a blank page


@pytest.fixture(scope="module")
def fresh_report(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("browser")
    write_results(work / "toy.sqlite")
    assert main(["report", str(work / "toy.sqlite"), "-o", str(work / "report")]) == 0
    return work / "report"


def test_fresh_report_renders_with_every_image(fresh_report, tmp_path):
    check_page(fresh_report / "index.html", tmp_path)


def test_a_missing_image_is_noticed(fresh_report, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(fresh_report, broken)
    (broken / "kws_pareto.png").unlink()
    with pytest.raises(AssertionError, match="5 of 6 images loaded"):
        check_page(broken / "index.html", tmp_path, screenshot=False)


@pytest.mark.parametrize("index", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_committed_example_report_renders(index, tmp_path):
    check_page(index, tmp_path)
