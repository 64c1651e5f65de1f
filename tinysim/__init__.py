"""tinysim: a cycle-approximate simulator of always-on TinyML hardware.

The public API is one import away; each name is loaded on first use, so `import tinysim` stays fast:

    import tinysim
    ev = tinysim.evaluate("archs/stm32l4r5.yaml", "workloads/kws.yaml", rate="5 Hz")
    ev.latency_s, ev.energy_j, ev.average_power_w, ev.to_dataframe(per_layer=True)

`load_arch`, `load_workload`, `evaluate`, `evaluate_frames`, `compare`, `always_on`, `sweep` and `compress` take the command
line's defaults; see `tinysim.api`. The compression steps themselves live in `tinysim.compression`.
"""

from __future__ import annotations

import importlib

from tinysim.version import __version__

_API = ("load_arch", "load_workload", "evaluate", "evaluate_frames", "compare", "always_on", "sweep", "compress")
__all__ = ["__version__", "always_on", "compare", "compress", "evaluate", "evaluate_frames", "load_arch", "load_workload",
           "sweep"]


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'tinysim' has no attribute {name!r}")
    value = getattr(importlib.import_module("tinysim.api"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
