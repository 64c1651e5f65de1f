"""Fleets (tinysim.system.fleet): per-device draws, the shared replay record against independent runs, executors."""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
import pytest

from tinysim.errors import TinysimError
from tinysim.schema.yamlio import load_yaml
from tinysim.system import load_scenario, parse_battery, prepare_workload, resolve_arch, run_always_on
from tinysim.system.fleet import device_battery, device_scenario, run_fleet
from tinysim.system.fleet_spec import Dist, Distribution, FleetSpec, draw_device
from tinysim.system.scenario import parse_scenario
from tinysim.system.workcost import choose_work_cost

DAY_S = 86400.0
IDEAL = parse_battery("225mAh@3V")


@functools.cache
def _setup():
    scenario = load_scenario("kws_fleet")
    arch = resolve_arch(scenario, None)
    prepared = prepare_workload(scenario)
    return scenario, arch, prepared, choose_work_cost(arch, prepared, scenario)


def _fleet(devices: int, **kw):
    scenario, arch, _, work = _setup()
    kw.setdefault("duration_s", DAY_S)
    return run_fleet(scenario, arch, work, kw.pop("battery", scenario.battery), devices, **kw)


def test_device_draws_follow_the_distributions_and_do_not_depend_on_the_fleet():
    spec = FleetSpec(
        seed=3,
        event_rate_scale=Distribution(Dist.LOGNORMAL, (2.0, 0.5)),
        capacity_scale=Distribution(Dist.NORMAL, (1.0, 0.1)),
        temperature_c=Distribution(Dist.UNIFORM, (-10.0, 30.0)),
    )
    devices = [draw_device(spec, i) for i in range(4000)]
    rate = np.array([d.event_rate_scale for d in devices])
    cap = np.array([d.capacity_scale for d in devices])
    temp = np.array([d.temperature_c for d in devices])
    # lognormal: median exp(mu) = 2, log-sd 0.5; normal mean 1 sd 0.1; uniform on [-10, 30] (mean 10, sd 40/sqrt(12))
    assert np.median(rate) == pytest.approx(2.0, rel=0.05)
    assert np.std(np.log(rate)) == pytest.approx(0.5, rel=0.05)
    assert (np.mean(cap), np.std(cap)) == pytest.approx((1.0, 0.1), rel=0.05)
    assert temp.min() >= -10 and temp.max() < 30 and np.std(temp) == pytest.approx(40 / math.sqrt(12), rel=0.05)
    assert draw_device(spec, 17) == devices[17]  # device i's draw is its own, whoever draws it
    assert draw_device(replace(spec, seed=4), 17) != devices[17]
    choice = Distribution(Dist.CHOICE, (0.5, 2.0))
    assert {choice.draw(np.random.default_rng(i)) for i in range(50)} == {0.5, 2.0}


def test_each_device_equals_its_own_independent_run():
    """The shared replay record changes nothing: device i = run_always_on on device i's scenario and battery."""
    scenario, arch, prepared, _ = _setup()
    fleet = _fleet(4)
    for i in range(4):
        device = draw_device(scenario.fleet, i)
        alone = run_always_on(
            device_scenario(scenario, device),
            arch,
            duration_s=DAY_S,
            battery=device_battery(scenario.battery, device),
            prepared=prepared,
        )
        assert fleet.average_power_w[i] == pytest.approx(alone.average_power_w, rel=1e-12)
        assert fleet.battery_life_s[i] == pytest.approx(alone.battery_life_s, rel=1e-12)
    assert len(set(fleet.average_power_w)) == 4  # the devices differ


def test_deterministic_per_seed_and_independent_of_size_and_jobs():
    first = _fleet(6)
    again = _fleet(6)
    assert np.array_equal(first.average_power_w, again.average_power_w)
    assert np.array_equal(_fleet(3).average_power_w, first.average_power_w[:3])
    heard: list[tuple[int, int]] = []
    pooled = _fleet(6, jobs=2, chunk=2, progress=lambda done, total: heard.append((done, total)))
    assert heard == [(2, 6), (4, 6), (6, 6)]  # a chunk at a time, whatever order they finish in
    np.testing.assert_allclose(pooled.average_power_w, first.average_power_w, rtol=1e-12)
    np.testing.assert_allclose(pooled.battery_life_s, first.battery_life_s, rtol=1e-12)
    other = _fleet(6, spec=replace(_setup()[0].fleet, seed=8))
    assert not np.allclose(other.average_power_w, first.average_power_w)


def test_dask_local_cluster_equals_the_local_run():
    pytest.importorskip("distributed")
    local = _fleet(6)
    from tinysim.explore.executors import DaskExecutor

    cluster = DaskExecutor("local:2")
    try:
        dask = _fleet(6, dask=cluster, chunk=2)
    finally:
        cluster.close()
    np.testing.assert_allclose(dask.average_power_w, local.average_power_w, rtol=1e-12)
    np.testing.assert_allclose(dask.battery_life_s, local.battery_life_s, rtol=1e-12)
    assert dask.to_dict()["seed"] == local.to_dict()["seed"] == 7


def test_ideal_battery_life_is_capacity_over_power_and_percentiles_are_ordered():
    fleet = _fleet(12, battery=IDEAL)
    spec = _setup()[0].fleet
    scale = np.array([draw_device(spec, i).capacity_scale for i in range(12)])
    energy_j = 0.225 * 3600 * 3.0 * scale  # 225 mAh at 3 V, each device's capacity scaled
    np.testing.assert_allclose(fleet.battery_life_s, energy_j / fleet.average_power_w, rtol=1e-12)
    doc = fleet.to_dict()
    assert doc["devices"] == 12
    for key in ("average_power_w", "battery_life_s"):
        p = doc[key]
        values = getattr(fleet, key)
        assert values.min() <= p["p5"] <= p["p50"] <= p["p95"] <= values.max()
        assert p["p50"] == pytest.approx(float(np.median(values)))


def test_rate_scale_moves_power_as_the_keywords_do():
    """A device speaking 4x as often draws more: the extra is about 4x the base device's keyword energy."""
    one = FleetSpec(seed=1, event_rate_scale=Distribution(Dist.CHOICE, (1.0,)))
    quiet = FleetSpec(seed=1, event_rate_scale=Distribution(Dist.CHOICE, (0.0,)))
    busy = FleetSpec(seed=1, event_rate_scale=Distribution(Dist.CHOICE, (4.0,)))
    week = 7 * DAY_S
    p0, p1, p4 = (_fleet(1, spec=s, duration_s=week).average_power_w[0] for s in (quiet, one, busy))
    assert p0 < p1 < p4
    assert (p4 - p0) / (p1 - p0) == pytest.approx(
        4.0, rel=0.1
    )  # keywords over a week: ~1500 vs ~6000 (Bernoulli per window)


def test_bad_fleet_blocks_name_the_field(tmp_path):
    data = load_yaml(_setup()[0].path)
    for bad, words in (
        ({"event_rate_scale": {"dist": "gamma"}}, "fleet.event_rate_scale.dist"),
        ({"capacity_scale": {"dist": "normal", "mean": 1, "sigma": 2}}, "`sigma` is not read by normal"),
        ({"temperature_c": {"dist": "uniform", "low": 5, "high": 1}}, "high >= low"),
        ({"colour": 1}, "colour"),
    ):
        with pytest.raises(TinysimError, match=words.replace("(", r"\(")):
            parse_scenario({**data, "fleet": bad}, file=str(tmp_path / "s.yaml"))
    with pytest.raises(TinysimError, match="at least one device"):
        _fleet(0)


def test_cli_fleet_json_and_histogram(tmp_path):
    import json
    import subprocess
    import sys

    plot = tmp_path / "fleet.png"
    args = ["always-on", "kws_fleet", "--fleet", "5", "--duration", "2h", "--format", "json", "--fleet-plot", str(plot)]
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from tinysim.cli.main import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)["fleet"]
    assert doc["devices"] == 5 and doc["seed"] == 7 and doc["duration_s"] == 7200
    assert doc["average_power_w"]["p5"] <= doc["average_power_w"]["p95"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
