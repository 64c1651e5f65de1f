"""Always-on system simulation (SimPy): sensor frames, feature front end, inference schedule, keyword
events and host wake-ups, power-state machine, DVFS policy; energy ledger, average power, battery life.

    scenario = load_scenario("workloads/scenarios/kws_always_on.yaml")
    result = run_always_on(scenario, resolve_arch(scenario, "ecm3532"), duration_s=86400)
"""

from __future__ import annotations

from tinysim.system.battery import Battery, parse_battery
from tinysim.system.result import AlwaysOnResult
from tinysim.system.run import Prepared, prepare_workload, resolve_arch, run_always_on
from tinysim.system.scenario import Scenario, load_scenario, parse_scenario

__all__ = [
    "AlwaysOnResult",
    "Battery",
    "Prepared",
    "Scenario",
    "load_scenario",
    "parse_battery",
    "parse_scenario",
    "prepare_workload",
    "resolve_arch",
    "run_always_on",
]
