"""The example report committed under reports/ (what a visitor sees without running anything) is whole.

It is made by `tinysim sweep workloads/sweeps/ndp_imc.yaml -o RESULTS.sqlite` and
`tinysim report RESULTS.sqlite -o reports/ndp_imc/`; tests/test_report_browser.py opens it in Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "reports" / "ndp_imc"


def test_committed_example_report_references_only_files_that_exist():
    index = EXAMPLE / "index.html"
    assert index.is_file(), "the example report reports/ndp_imc/ is missing (see this file's docstring)"
    text = index.read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert len(refs) >= 3
    for ref in refs:
        assert not re.match(r"^[a-z]+:|^/", ref), f"not a relative reference: {ref}"
        target = (EXAMPLE / ref).resolve()
        assert target.is_relative_to(EXAMPLE.resolve()) and target.is_file(), ref
    md_refs = re.findall(r"\]\(([^)\s]+)\)", (EXAMPLE / "report.md").read_text())
    assert sorted(md_refs) == sorted(refs)
    pngs = {p.name for p in EXAMPLE.glob("*.png")}
    assert pngs == set(refs), f"images nobody references: {sorted(pngs - set(refs))}"


def test_committed_example_is_the_shipped_sweep():
    md = (EXAMPLE / "report.md").read_text()
    sweep = (REPO / "workloads" / "sweeps" / "ndp_imc.yaml").read_text()
    assert "| sweep file | workloads/sweeps/ndp_imc.yaml |" in md
    assert sweep.strip() in md, (
        "reports/ndp_imc/ is stale, regenerate it: tinysim sweep workloads/sweeps/ndp_imc.yaml -o /tmp/ndp_imc.sqlite"
        " && tinysim report /tmp/ndp_imc.sqlite -o reports/ndp_imc/"
    )
    for workload in ("kws", "vww", "ic"):
        assert f"## Workload {workload}" in md
