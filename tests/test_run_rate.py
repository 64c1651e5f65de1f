"""`tinysim run` at a rate the inference cannot keep up with: every figure is still printed, the average
power is flagged with the highest sustainable rate (1 / latency), exit 0 — or 2 with --strict.

The NDP100 (8 MHz always-on point) takes about 1.5 s per KWS inference, longer than the 1 s period of the
default 1 Hz, so it is the case the issue reports."""

from __future__ import annotations

import json

import pytest

from tinysim.cli.main import main

CASE = ["run", "archs/ndp100.yaml", "workloads/kws.yaml"]


@pytest.fixture(scope="module")
def slow_and_fine(tmp_path_factory) -> tuple[dict, dict]:
    """The JSON summary at the default 1 Hz (unsustainable) and at 0.5 Hz (sustainable), same run."""
    out = tmp_path_factory.mktemp("rate")
    docs = []
    for rate, name in (("1 Hz", "slow.json"), ("0.5 Hz", "fine.json")):
        assert main([*CASE, "--rate", rate, "--format", "json", "-o", str(out / name)]) == 0
        docs.append(json.loads((out / name).read_text())["summary"])
    return docs[0], docs[1]


def test_unsustainable_rate_keeps_every_figure(slow_and_fine):
    slow, fine = slow_and_fine
    assert slow["latency_s"] > 1.0  # the premise: an inference outlasts the 1 s period
    assert set(slow) == set(fine)  # no figure withheld
    for key, value in fine.items():
        if key not in ("rate_hz", "average_power_w", "rate_sustainable"):
            assert slow[key] == value, key  # nothing but the power depends on the rate
    assert slow["rate_sustainable"] is False and slow["average_power_w"] is None
    assert slow["max_sustainable_rate_hz"] == pytest.approx(1.0 / slow["latency_s"])


def test_sustainable_rate_gives_the_duty_cycled_power(slow_and_fine):
    _, fine = slow_and_fine
    assert fine["rate_sustainable"] is True
    # (E + P_sleep (T - t)) / T with T = 2 s: between the active-only bound E / T and the power while running.
    assert fine["energy_j"] / 2.0 < fine["average_power_w"] < fine["energy_j"] / fine["latency_s"]


def test_table_marks_the_average_power(capsys):
    assert main(CASE) == 0
    out, err = capsys.readouterr()
    latency = _latency_s()
    assert f"not sustainable at 1 Hz; highest sustainable rate {1.0 / latency:.4g} Hz" in out
    assert "energy per inference" in out and "latency" in out
    assert err.strip().splitlines()[-1].startswith("tinysim: warning: --rate:")


def test_strict_exits_2_after_printing(capsys):
    assert main([*CASE, "--format", "json", "--strict"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["summary"]["rate_sustainable"] is False
    assert "tinysim: error: --rate:" in err and "highest sustainable rate" in err


def test_strict_is_quiet_at_a_sustainable_rate(capsys):
    assert main([*CASE, "--rate", "0.5", "--strict", "--format", "csv"]) == 0
    assert "--rate" not in capsys.readouterr().err


def test_frames_at_an_unsustainable_rate(capsys):
    assert main([*CASE, "--frames", "2", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total"]["average_power_w"] is None and doc["total"]["latency_s"] > 2.0
    assert all(f["summary"]["rate_sustainable"] is False for f in doc["per_frame"])
    assert main([*CASE, "--frames", "2", "--strict"]) == 2
    assert "highest sustainable rate" in capsys.readouterr().out


def _latency_s() -> float:
    from tinysim.pipeline import evaluate

    return evaluate("archs/ndp100.yaml", "workloads/kws.yaml").latency_s
