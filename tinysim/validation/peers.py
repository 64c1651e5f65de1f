"""tinysim vs peer tools' recorded outputs: SCALE-Sim (systolic cycles) and Arm Vela (Ethos-U cycles).

The peers' figures were produced by benchmarks/scalesim_compare.py and benchmarks/vela_compare.py
(which run the real tools in their own virtualenvs) and recorded beside this module with their
versions and configurations; here tinysim prices the same layers and the rows carry both numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from tinysim.arch import Arch, parse_arch
from tinysim.arch.compute_systolic import Dataflow
from tinysim.cost import simulate
from tinysim.cost.systolic import gemm_of, schedule
from tinysim.ops import MAC_OPS
from tinysim.schema.yamlio import load_yaml
from tinysim.workload import load_workload
from tinysim.workload.graph import Graph
from tinysim.workload.stats import estimate_events

HERE = Path(__file__).resolve().parent
SCALESIM = HERE / "scalesim_reference.yaml"
VELA = HERE / "vela_reference.yaml"
_DATAFLOWS = {"os": Dataflow.OUTPUT_STATIONARY, "ws": Dataflow.WEIGHT_STATIONARY, "is": Dataflow.INPUT_STATIONARY}


@dataclass(frozen=True)
class PeerRow:
    tool: str
    config: str
    workload: str
    tinysim_cycles: float
    peer_cycles: float

    @property
    def error(self) -> float:
        return self.tinysim_cycles / self.peer_cycles - 1.0


def compare_scalesim(root: Path) -> list[PeerRow]:
    """Compute cycles of every recorded SCALE-Sim run (array, dataflow, workload), summed over its layers."""
    doc = yaml.safe_load(SCALESIM.read_text(encoding="utf-8"))
    rows: list[PeerRow] = []
    graphs: dict[str, Graph] = {}
    for run in doc["runs"]:
        name = run["workload"]
        graph = graphs.setdefault(name, load_workload(root / "workloads" / f"{name}.yaml"))
        ops = {op.name: op for op in graph.ops if op.kind in MAC_OPS}
        r, c = run["array"]
        ours = sum(
            schedule(gemm_of(graph, ops[layer["name"]]), r, c, _DATAFLOWS[run["dataflow"]]).cycles
            for layer in run["layers"]
        )
        theirs = sum(layer["cycles"] for layer in run["layers"])
        rows.append(PeerRow("SCALE-Sim", f"{r}x{c} {run['dataflow']}", name, ours, theirs))
    return rows


def vela_arch(root: Path, config: str) -> Arch:
    """archs/ethos-u55-128.yaml with `compute.npu.config: <config>`, named after the config. The memories stay:
    Vela's estimate takes the bus bandwidth from the system config, the same for every size in the reference."""
    path = root / "archs" / "ethos-u55-128.yaml"
    data = load_yaml(path)
    data["compute"]["npu"]["config"] = config
    return replace(parse_arch(data, file=str(path)), name=config)


def compare_vela(root: Path, models_dir: Path) -> tuple[list[PeerRow], list[str]]:
    """Total cycles of every Ethos-U config vela_reference.yaml records vs Vela's, on the real .tflite files
    (weights' entropy matters); each config's arch is `vela_arch`.

    Returns the rows (config by config, in the file's order) and the models skipped because their file is not
    in `models_dir`.
    """
    doc = yaml.safe_load(VELA.read_text(encoding="utf-8"))
    rows: list[PeerRow] = []
    missing: list[str] = []
    graphs: dict[str, Graph] = {}
    for config, results in doc["results"].items():
        arch = vela_arch(root, config)
        for model, figures in results.items():
            path = models_dir / f"{model}.tflite"
            if not path.is_file():
                missing += [] if model in missing else [model]
                continue
            graph = graphs.setdefault(model, load_workload(path))
            result = simulate(arch, graph, [estimate_events(graph, op) for op in graph.ops])
            rows.append(PeerRow(f"Vela {doc['vela_version']}", config, model, result.cycles, figures["cycles_total"]))
    return rows, missing
