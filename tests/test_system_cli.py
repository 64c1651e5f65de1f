"""`tinysim always-on` end to end in a subprocess: table with units, JSON, timeline PNG, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from cli_process import tinysim

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = str(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml")


def test_table_with_breakdown_and_battery(tmp_path):
    png = tmp_path / "t.png"
    proc = tinysim(
        "always-on",
        SCENARIO,
        "--arch",
        "stm32l4r5",
        "--duration",
        "24h",
        "--battery",
        "225mAh@3V",
        "--timeline",
        str(png),
        "--window",
        "100 ms",
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "kws_always_on on stm32l4r5" in out and "1 d simulated" in out
    for text in (
        "sensor",
        "front_end",
        "network",
        "sleep",
        "host",
        "chip total",
        "TOTAL",
        "mW",
        "µW",
        "battery life (225 mAh at 3 V)",
        "missed deadlines",
        "host wake-ups",
    ):
        assert text in out, text
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_json_has_si_keys():
    proc = tinysim(
        "always-on", SCENARIO, "--arch", str(ROOT / "archs" / "stm32l4r5.yaml"), "--duration", "10s", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["arch"] == "stm32l4r5" and data["duration_s"] == 10.0
    assert data["average_power_w"] > data["chip_power_w"] > 0
    assert abs(sum(data["energy_j_by_component"].values()) - data["total_energy_j"]) < 1e-12
    assert data["battery_life_s"] > 0 and data["counts"]["frames_dropped"] == 0


def test_bad_inputs_are_one_line_exit_2(tmp_path):
    for args, fragment in [
        (("--duration", "3 pJ"), "--duration"),
        (("--battery", "225mAh"), "--battery"),
        (("--arch", "no_such_arch"), "no_such_arch"),
    ]:
        proc = tinysim("always-on", SCENARIO, *args)
        assert proc.returncode == 2, args
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and fragment in proc.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nname: x\nworkload: w.yaml\nsensor: {sample_rate: 16 kHz, power: 1 mW, frame_hop: 10 ms}\n"
        "inference: {every_frames: 0}\n"
    )
    proc = tinysim("always-on", str(bad))
    assert proc.returncode == 2 and f"{bad}:5: inference.every_frames" in proc.stderr


def test_several_archs_give_one_comparison_table():
    archs = [a for a in ("ndp100", "ecm3532", "stm32l4r5") if (ROOT / "archs" / f"{a}.yaml").is_file()]
    args = [x for a in archs for x in ("--arch", a)]
    proc = tinysim("always-on", SCENARIO, *args, "--duration", "10 s", "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("| arch | op point |") and len(lines) == 2 + len(archs)
    assert all(f"| {a} |" in proc.stdout for a in archs)
    proc = tinysim("always-on", SCENARIO, *args, "--duration", "10 s", "--format", "json")
    assert [d["arch"] for d in json.loads(proc.stdout)] == archs
    proc = tinysim("always-on", SCENARIO, "--arch", "stm32l4r5", "--arch", "stm32l4r5", "--timeline", "x.png")
    assert proc.returncode == 2 and "--timeline" in proc.stderr
