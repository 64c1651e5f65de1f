# %% [markdown]
# # tinysim quickstart
#
# Simulate MLPerf Tiny keyword spotting on a Cortex-M4F, compare two architectures, and run a short
# always-on day in the life — from Python, with the command line's defaults. Open it as a notebook
# (`jupytext --to notebook examples/quickstart.py`) or run it: `python examples/quickstart.py`.

# %%
from pathlib import Path

import tinysim

ROOT = Path(__file__).resolve().parents[1]  # the repository: archs/, workloads/
STM32 = ROOT / "archs" / "stm32l4r5.yaml"
ECM3532 = ROOT / "archs" / "ecm3532.yaml"
KWS = ROOT / "workloads" / "kws.yaml"

# %% [markdown]
# ## One inference, priced
#
# `evaluate` runs the int8 network through the engine (seeded random input) and prices what it did on
# the architecture — what `tinysim run` prints. Quantities take units: `rate="5 Hz"`, `deadline="50 ms"`.

# %%
arch = tinysim.load_arch(STM32)
workload = tinysim.load_workload(KWS)
ev = tinysim.evaluate(arch, workload, rate="1 Hz")
print(
    f"{workload.name} on {arch.name}: {ev.latency_s * 1e3:.1f} ms, {ev.energy_j * 1e3:.3f} mJ per inference, "
    f"{ev.average_power_w * 1e3:.3f} mW at 1 Hz"
)

# %%
layers = ev.to_dataframe(per_layer=True)
print(layers[["layer", "op", "macs", "cycles", "latency_s", "energy_j", "bound"]].to_string())

# %% [markdown]
# ## Two architectures on the same run
#
# `compare` runs each workload once and prices it on every architecture; an architecture that cannot run
# a workload gets a row saying why. With a deadline, each picks its lowest-energy operating point that meets it.

# %%
comparison = tinysim.compare([STM32, ECM3532], KWS, rate="1 Hz", deadline="200 ms")
columns = ["arch", "operating_point", "latency_s", "energy_j", "average_power_w", "fits", "note"]
print(comparison.to_dataframe()[columns].to_string())

# %% [markdown]
# ## Always on
#
# A microphone streams frames, a front end extracts features, the network runs every few frames and a
# keyword wakes the host. 60 simulated seconds here; try `duration="24 h"`.

# %%
day = tinysim.always_on(ROOT / "workloads" / "scenarios" / "kws_always_on.yaml", arch="ecm3532", duration="60 s")
print(
    f"{day.arch}: system {day.average_power_w * 1e6:.1f} uW, chip {day.chip_power_w * 1e6:.1f} uW, "
    f"battery life {day.battery_life_s / 86400:.1f} days"
)
print(day.to_dataframe(breakdown=True).to_string())
