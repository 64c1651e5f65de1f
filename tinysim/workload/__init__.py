"""Workloads: the network IR (`graph`) and the front ends that build it.

`load_workload(path)` picks the front end by file suffix: `.tflite` (a TFLite flatbuffer, read by
`tflite_import`) or `.yaml`/`.yml` (a layer list, read by `layers_yaml`). Front ends are imported
on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from tinysim.catalog import Shipped, resolve
from tinysim.errors import WorkloadError
from tinysim.workload.graph import Graph

SUPPORTED_FORMATS = ".tflite (TFLite flatbuffer), .yaml / .yml (layer list)"


def load_workload(path: str | Path, *, runnable: Collection[str] | None = None) -> Graph:
    """Read a network from a `.tflite` model or a layer-list `.yaml` file. `runnable`: the op kinds the
    caller can execute (the engine's); a model with others is refused in one line naming all of them.
    A bare name (`kws`) is a shipped workload (tinysim.catalog)."""
    path = resolve(path, Shipped.WORKLOADS, WorkloadError)
    suffix = Path(path).suffix.lower()
    if suffix == ".tflite":
        from tinysim.workload.tflite_import import load_tflite

        return load_tflite(path, runnable=runnable)
    if suffix in (".yaml", ".yml"):
        from tinysim.workload.npz_graph import is_graph_npz, load_graph_npz

        if is_graph_npz(path):  # a whole graph with its weights in a .npz beside it (e.g. `tinysim compress`)
            return load_graph_npz(path)
        from tinysim.workload.layers_yaml import load_layers_yaml

        return load_layers_yaml(path)
    shown = f'"{suffix}"' if suffix else "no suffix"
    raise WorkloadError(f"unsupported workload format ({shown}); supported: {SUPPORTED_FORMATS}", file=str(path))
