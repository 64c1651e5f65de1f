"""Design points per second per core of `tinysim sweep`'s evaluation on KWS, and what one point costs in peers.

    python benchmarks/sweep.py [--points 20000] [--zigzag-python ../venvs/zigzag/bin/python]
        [--scalesim-python ../venvs/scalesim/bin/python] [--no-peers]
(peer virtualenvs default to ../venvs/<tool> beside the repository, or $TINYSIM_<TOOL>_VENV)

tinysim: a random sample of `--points` design points over archs/ndp120.yaml (array rows, columns,
count, weight and input bits, operating point, activation SRAM size and read energy), priced on KWS in
one process (one core). The engine runs once, before timing (its cost is per workload, not per point).
"cold" includes parsing each distinct block of the architecture and building each distinct set of
compute units' structure; "warm" prices the same points again with those caches filled; "exact path"
is the per-point path of `tinysim sweep --exact` (whole-YAML parse + `tinysim.pipeline.evaluate` of the
workload's one run), on a subsample.

Peers, one comparable point each (KWS's MAC layers on one hardware configuration), in their own
virtualenvs (benchmark-only dependencies; ../shared/peers.md):
  ZigZag (zigzag-dse): digital IMC (`inputs/hardware/dimc.yaml`, `default_imc.yaml` mapping), KWS's
    convolutions as ZigZag layers (depthwise as grouped convolutions, the fully connected layer as a
    1 x 1 one); its loop-ordering text dump is switched off (it crashes on layers without temporal loops).
  SCALE-Sim v3: 32 x 32 output-stationary array, KWS's MAC layers (benchmarks/scalesim_compare.py's
    topology, its depthwise layers split per channel as SCALE-Sim does).
Times are CPU seconds (this process; the peer's child process, interpreter start-up included), so a
loaded machine does not skew the ratio: the peer's seconds for its one point over tinysim's per point.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from peer_tools import peer_executable
from scalesim_compare import run_scalesim

from tinysim.arch import parse_arch
from tinysim.errors import TinysimError
from tinysim.explore.design import DesignSpace, point_mapping
from tinysim.explore.evaluate import Evaluator
from tinysim.explore.executors import LocalExecutor
from tinysim.explore.runner import run_sweep
from tinysim.explore.store import point_id
from tinysim.explore.sweep_spec import load_sweep, sample_points
from tinysim.ops import MAC_OPS, OpKind
from tinysim.pipeline import evaluate
from tinysim.workload import load_workload
from tinysim.workload.graph import Graph

SWEEP = """\
version: 1
name: bench_ndp120_kws
base: {root}/archs/ndp120.yaml
axes:
  compute.core2.rows: [32, 64, 128, 256]
  compute.core2.columns: [32, 64, 128, 256]
  compute.core2.arrays: [512, 1024, 1536, 3072, 6144]
  compute.core2.weight_bits: [2, 4, 8]
  compute.core2.input_bits: [4, 8]
  operating_point: [mlperf, mid, fast]
  memories.act_sram.size: [32 KiB, 64 KiB, 128 KiB, 256 KiB, 512 KiB]
  memories.act_sram.read_energy: [2 pJ, 5 pJ, 10 pJ, 20 pJ]
sampling: {{method: random, count: {count}, seed: 1}}
workloads: [{root}/workloads/kws.yaml]
objectives: [latency, energy, average_power]
rate: 1 Hz
"""


def bench_tinysim(count: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(SWEEP.format(root=ROOT, count=count))
        spec = load_sweep(path)
        points = [(point_id(p), p) for p in sample_points(spec)]
        evaluator = Evaluator(DesignSpace(spec), spec.workloads[0])  # the engine runs here, untimed
        evaluator.space = DesignSpace(spec)  # fresh caches: the cold run parses every block it meets
        start, wall = time.process_time(), time.perf_counter()
        rows = evaluator.evaluate(points)
        cold, cold_wall = time.process_time() - start, time.perf_counter() - wall
        start, wall = time.process_time(), time.perf_counter()
        evaluator.evaluate(points)
        warm, warm_wall = time.process_time() - start, time.perf_counter() - wall
        sample = [p for _, p in points[:: max(1, len(points) // 200)]]
        start = time.process_time()
        for point in sample:
            try:
                arch = parse_arch(point_mapping(evaluator.space.base_data, point), file=evaluator.space.base_file)
                evaluate(arch, evaluator.run, operating_point=point["operating_point"])
            except TinysimError:  # invalid points cost their parse too
                continue
        exact = (time.process_time() - start) / len(sample)
        start = time.process_time()
        run_sweep(spec, Path(tmp) / "bench.sqlite", LocalExecutor(1))  # engine + pricing + SQLite, one process
        end_to_end = time.process_time() - start
    invalid = sum(r.status != "ok" for r in rows)
    compute_sets = len({tuple(p[a] for a in p if a.startswith("compute.")) for _, p in points})
    return {
        "points": len(points),
        "invalid": invalid,
        "compute_sets": compute_sets,
        "cold_s": cold,
        "warm_s": warm,
        "cold_wall_s": cold_wall,
        "warm_wall_s": warm_wall,
        "exact_s_per_point": exact,
        "end_to_end_s": end_to_end,
    }


ZIGZAG_DRIVER = """
import json, logging, os, sys, time
logging.disable(logging.CRITICAL)
import zigzag
import zigzag.stages.results.visualization as vis
from zigzag.api import get_hardware_performance_zigzag
vis.print_mapping = lambda *args, **kwargs: None  # its text dump crashes on layers without temporal loops
base = os.path.join(os.path.dirname(zigzag.__file__), "inputs")
layers = json.load(open(sys.argv[1]))
start = time.perf_counter()
out = get_hardware_performance_zigzag(layers, os.path.join(base, "hardware", "dimc.yaml"),
    os.path.join(base, "mapping", "default_imc.yaml"), opt="latency", dump_folder=sys.argv[2],
    in_memory_compute=True, loma_show_progress_bar=False)
print(json.dumps({"seconds": time.perf_counter() - start, "energy_pj": out[0], "latency_cycles": out[1]}))
"""


def zigzag_layers(graph: Graph) -> list[dict]:
    """KWS's convolutions (depthwise as grouped, pointwise and the fully connected layer as 1 x 1) as ZigZag layers."""
    layers = []
    for op in graph.ops:
        if op.kind not in MAC_OPS:
            continue
        w = graph.tensor(op.inputs[1]).shape
        x = graph.tensor(op.inputs[0]).shape
        out = graph.tensor(op.outputs[0]).shape
        if op.kind is OpKind.FULLY_CONNECTED:
            g, k, c, (oy, ox, fy, fx, s), (iy, ix) = 1, w[0], w[1], (1, 1, 1, 1, 1), (1, 1)
        else:
            g, k, c = (w[3], 1, 1) if op.kind is OpKind.DEPTHWISE_CONV_2D else (1, w[0], w[3])
            oy, ox, fy, fx, s = out[1], out[2], w[1], w[2], op.attrs.stride_h
            iy, ix = x[1], x[2]
        pad_y, pad_x = max(0, (oy - 1) * s + fy - iy), max(0, (ox - 1) * s + fx - ix)
        i = len(layers)
        layers.append(
            {
                "id": i,
                "name": op.name,
                "operator_type": "Conv",
                "equation": "O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
                "dimension_relations": [f"ix={s}*ox+1*fx", f"iy={s}*oy+1*fy"],
                "loop_dims": ["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
                "loop_sizes": [1, k, g, ox, oy, c, fx, fy],
                "operand_precision": {"W": 8, "I": 8, "O": 16, "O_final": 8},
                "operand_source": {"W": i, "I": i - 1} if i else {"W": i, "I": i},
                "pr_loop_dims": ["IX", "IY"],
                "pr_loop_sizes": [ix, iy],
                "padding": [[pad_x // 2, pad_x - pad_x // 2], [pad_y // 2, pad_y - pad_y // 2]],
            }
        )
    return layers


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_zigzag(python: str, graph: Graph) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        layers = zigzag_layers(graph)
        (Path(tmp) / "layers.json").write_text(json.dumps(layers))
        start, cpu = time.perf_counter(), _children_cpu_s()
        done = subprocess.run(
            [python, "-c", ZIGZAG_DRIVER, str(Path(tmp) / "layers.json"), str(Path(tmp) / "out")],
            check=False,
            capture_output=True,
            text=True,
            timeout=900,
        )
        wall, cpu = time.perf_counter() - start, _children_cpu_s() - cpu
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"
        return {"error": tail, "wall_s": wall, "layers": len(layers)}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"cpu_s": cpu, "wall_s": wall, "api_wall_s": result.pop("seconds"), **result, "layers": len(layers)}


def bench_scalesim(python: str, graph: Graph) -> dict:
    ops = [op for op in graph.ops if op.kind in MAC_OPS]
    start, cpu = time.perf_counter(), _children_cpu_s()
    cycles = run_scalesim(python, graph, ops, 32, 32, "os")
    wall, cpu = time.perf_counter() - start, _children_cpu_s() - cpu
    return {"cpu_s": cpu, "wall_s": wall, "cycles": sum(cycles), "layers": len(ops)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=20000)
    parser.add_argument("--zigzag-python", default=peer_executable("zigzag"))
    parser.add_argument("--scalesim-python", default=peer_executable("scalesim"))
    parser.add_argument("--no-peers", action="store_true")
    args = parser.parse_args(argv)

    t = bench_tinysim(args.points)
    cold, warm = t["points"] / t["cold_s"], t["points"] / t["warm_s"]
    print(f"tinysim sweep evaluation, KWS, ndp120 design space, one process (one core), {t['points']:,} random points")
    print(f"  ({t['compute_sets']} distinct compute-unit sets, {t['invalid']} invalid points)")
    print("  seconds are CPU time of this process (wall clock in brackets: other load on the machine shows there)")
    print(
        f"  cold (blocks parsed, structures built): {t['cold_s']:.3f} s ({t['cold_wall_s']:.3f}) = {cold:,.0f} points/s/core"
    )
    print(
        f"  warm (caches filled):                   {t['warm_s']:.3f} s ({t['warm_wall_s']:.3f}) = {warm:,.0f} points/s/core"
    )
    print(
        f"  exact path (parse_arch + evaluate()):   {t['exact_s_per_point'] * 1e3:.3f} ms/point "
        f"= {1 / t['exact_s_per_point']:,.0f} points/s/core"
    )
    e2e = t["end_to_end_s"]
    print(
        f"  end to end (tinysim sweep --jobs 1 into SQLite, engine run included): {e2e:.3f} s "
        f"= {t['points'] / e2e:,.0f} points/s/core"
    )
    if args.no_peers:
        return 0
    graph = load_workload(ROOT / "workloads" / "kws.yaml")
    per_point_cold, per_point_warm = t["cold_s"] / t["points"], t["warm_s"] / t["points"]
    print("\none comparable point (KWS's MAC layers on one hardware configuration), seconds, ratio to tinysim:")
    for name, run in (
        ("ZigZag (dimc, digital IMC)", lambda: bench_zigzag(args.zigzag_python, graph)),
        ("SCALE-Sim v3 (32x32 os)", lambda: bench_scalesim(args.scalesim_python, graph)),
    ):
        try:
            r = run()
        except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
            print(f"  {name}: not run ({exc})")
            continue
        if "error" in r:
            print(f"  {name}: failed after {r['wall_s']:.1f} s: {r['error']}")
            continue
        s = r["cpu_s"]
        print(
            f"  {name}: {s:.2f} s CPU ({r['wall_s']:.2f} s wall) for {r['layers']} layers = "
            f"{s / per_point_warm:,.0f}x tinysim's CPU time per point warm, {s / per_point_cold:,.0f}x cold"
        )
        print(f"      {textwrap.shorten(json.dumps(r), 150)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
