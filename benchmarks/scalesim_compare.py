"""tinysim's `systolic` compute cycles vs SCALE-Sim v3, layer by layer, on the MLPerf Tiny workloads.

    python benchmarks/scalesim_compare.py [--scalesim-python ../venvs/scalesim/bin/python]
        [--arrays 16x16 32x32] [--dataflows os ws is] [--workloads ad ic kws vww] [--no-depthwise]
        [--jobs 2] [--write tinysim/validation/scalesim_reference.yaml]

SCALE-Sim is a benchmark-only dependency living in its own virtualenv (it needs numpy < 2.4):
    python3 -m venv ../venvs/scalesim && ../venvs/scalesim/bin/pip install scalesim 'numpy<2.4'
(beside the repository, or anywhere with TINYSIM_SCALESIM_VENV=/path/to/venv)
This script runs in tinysim's environment and drives SCALE-Sim through that interpreter with its
Python API (save_disk_space=True: no trace files). Each MAC layer of workloads/<name>.yaml becomes a
SCALE-Sim topology row: the padded ifmap (so SCALE-Sim's output size equals the graph's), the filter,
channels, filters, stride; a fully connected layer is a 1x1 conv on a 1 x rows ifmap; a depthwise
layer is named with "DP", which SCALE-Sim splits into one single-channel conv per channel (slow).
SCALE-Sim's per-layer count is the "Total Cycles" column of COMPUTE_REPORT.csv (summed over a
depthwise layer's channels); with InterfaceBandwidth CALC it reports no stall cycles, so these are
compute cycles. tinysim's side is `tinysim.cost.systolic.schedule(...).cycles` for the same layer.
Prints a table per (array, dataflow, workload) and, with --write, records SCALE-Sim's numbers for
tests/test_systolic.py.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_tools import peer_executable

from tinysim.arch.compute_systolic import Dataflow
from tinysim.cost.systolic import gemm_of, schedule
from tinysim.ops import MAC_OPS, OpKind
from tinysim.workload import load_workload
from tinysim.workload.graph import Graph, Op

ROOT = Path(__file__).resolve().parent.parent
DATAFLOWS = {"os": Dataflow.OUTPUT_STATIONARY, "ws": Dataflow.WEIGHT_STATIONARY, "is": Dataflow.INPUT_STATIONARY}
SRAM_KB = 64  # ifmap / filter / ofmap SRAM sizes given to SCALE-Sim (no effect on compute cycles with CALC)

CONFIG = """[general]
run_name = tinysim
[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {sram}
FilterSramSzkB: {sram}
OfmapSramSzkB: {sram}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 32
WriteRequestBuffer: 32
[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2
[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40
[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""
HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
DRIVER = """
import contextlib, io, sys
from scalesim.scale_sim import scalesim
d = sys.argv[1]
with contextlib.redirect_stdout(io.StringIO()):
    scalesim(save_disk_space=True, verbose=False, config=d + "/scalesim.cfg", topology=d + "/topology.csv",
             layout=d + "/layout.csv").run_scale(top_path=d + "/out")
"""


def topology_row(graph: Graph, op: Op) -> tuple[list, int]:
    """SCALE-Sim's topology row for a MAC op, and how many report rows it expands to."""
    w = graph.tensor(op.inputs[1]).shape
    out = graph.tensor(op.outputs[0]).shape
    name = op.name.replace("DP", "dp")  # "DP" in a name means depthwise to SCALE-Sim
    if op.kind is OpKind.FULLY_CONNECTED:
        rows = graph.tensor(op.outputs[0]).size // w[0]
        return [name, 1, rows, 1, 1, w[1], w[0], 1], 1
    kh, kw = w[1], w[2]
    s = op.attrs.stride_h  # one stride for both axes: pad the width so the output width still matches
    ih, iw = (out[1] - 1) * s + kh, (out[2] - 1) * s + kw
    if op.kind is OpKind.DEPTHWISE_CONV_2D:
        mult = op.attrs.depth_multiplier
        return [f"{name}_DP", ih, iw, kh, kw, w[3] // mult, mult, s], w[3] // mult
    return [name, ih, iw, kh, kw, w[3], w[0], s], 1


def run_scalesim(python: str, graph: Graph, ops: list[Op], rows: int, cols: int, df: str) -> list[int]:
    """SCALE-Sim's compute cycles per op of `ops` (a depthwise op's channels summed)."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "scalesim.cfg").write_text(CONFIG.format(rows=rows, cols=cols, sram=SRAM_KB, dataflow=df))
        topo = [topology_row(graph, op) for op in ops]
        (d / "topology.csv").write_text(HEADER + "".join(", ".join(map(str, r)) + ",\n" for r, _ in topo))
        (d / "layout.csv").write_text(HEADER)
        subprocess.run([python, "-c", DRIVER, str(d)], check=True, capture_output=True, text=True)
        (report,) = (d / "out").rglob("COMPUTE_REPORT.csv")
        with report.open() as f:
            cycles = [int(row[2]) for row in list(csv.reader(f))[1:] if row]
    per_op, i = [], 0
    for _, count in topo:
        per_op.append(sum(cycles[i : i + count]))
        i += count
    if i != len(cycles):
        raise RuntimeError(f"SCALE-Sim reported {len(cycles)} layers, expected {i}")
    return per_op


def scalesim_version(python: str) -> str:
    code = "from importlib.metadata import version; print(version('scalesim'), version('numpy'))"
    ss, np_ = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return f"scalesim {ss} (numpy {np_})"


def compare(python: str, workload: str, rows: int, cols: int, df: str, depthwise: bool) -> dict:
    graph = load_workload(ROOT / "workloads" / f"{workload}.yaml")
    ops = [op for op in graph.ops if op.kind in MAC_OPS and (depthwise or op.kind is not OpKind.DEPTHWISE_CONV_2D)]
    theirs = run_scalesim(python, graph, ops, rows, cols, df)
    ours = [schedule(gemm_of(graph, op), rows, cols, DATAFLOWS[df]).cycles for op in ops]
    return {
        "array": [rows, cols],
        "dataflow": df,
        "workload": workload,
        "layers": [{"name": op.name, "op": op.kind.value, "cycles": c} for op, c in zip(ops, theirs)],
        "tinysim": ours,
    }


def table(run: dict) -> str:
    rows, cols = run["array"]
    lines = [
        f"\n{run['workload']} on {rows}x{cols} {run['dataflow']}",
        "| layer | op | tinysim | SCALE-Sim | error |",
        "|---|---|---|---|---|",
    ]
    for layer, ours in zip(run["layers"], run["tinysim"]):
        err = (ours - layer["cycles"]) / layer["cycles"]
        lines.append(f"| {layer['name']} | {layer['op']} | {ours:,} | {layer['cycles']:,} | {err:+.3%} |")
    ours, theirs = sum(run["tinysim"]), sum(layer["cycles"] for layer in run["layers"])
    lines.append(f"| **total** | | {ours:,} | {theirs:,} | {(ours - theirs) / theirs:+.3%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scalesim-python", default=peer_executable("scalesim"))
    p.add_argument("--arrays", nargs="+", default=["16x16", "32x32"])
    p.add_argument("--dataflows", nargs="+", choices=sorted(DATAFLOWS), default=["os"])
    p.add_argument("--workloads", nargs="+", default=["ad", "ic", "kws"])
    p.add_argument("--no-depthwise", action="store_true", help="skip depthwise layers (slow in SCALE-Sim)")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--write", type=Path, help="record SCALE-Sim's cycles here (YAML) for the tests")
    args = p.parse_args(argv)
    jobs = [(w, *map(int, a.split("x")), df) for a in args.arrays for df in args.dataflows for w in args.workloads]
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = list(pool.map(lambda j: compare(args.scalesim_python, *j, not args.no_depthwise), jobs))
    for run in runs:
        print(table(run))
    if args.write:
        doc = {
            "generated_by": "benchmarks/scalesim_compare.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": datetime.date.today().isoformat(),
            "scalesim": scalesim_version(args.scalesim_python),
            "config": {
                "ifmap_sram_kb": SRAM_KB,
                "filter_sram_kb": SRAM_KB,
                "ofmap_sram_kb": SRAM_KB,
                "interface_bandwidth": "CALC",
                "report": "COMPUTE_REPORT.csv 'Total Cycles' per layer; a depthwise layer's per-channel layers summed",
                "workloads": "workloads/<name>.yaml",
            },
            "runs": [{k: v for k, v in run.items() if k != "tinysim"} for run in runs],
        }
        text = "# Generated by benchmarks/scalesim_compare.py; do not edit by hand: rerun it.\n"
        args.write.write_text(text + yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120))
    return 0


if __name__ == "__main__":
    sys.exit(main())
