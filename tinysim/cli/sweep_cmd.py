"""`tinysim sweep SWEEP.yaml -o RESULTS.sqlite`: evaluate a design-space sweep into a results store."""

from __future__ import annotations

import argparse

from tinysim.errors import TinysimError

EXAMPLES = """examples:
  tinysim sweep ndp_imc -o results/ndp_imc.sqlite --jobs 4
  tinysim sweep npu_macs -o results/npu_macs.sqlite --dask local:4
  tinysim sweep ndp_imc -o results/ndp_imc.sqlite --dask tcp://10.0.0.5:8786
  tinysim report results/ndp_imc.sqlite -o reports/ndp_imc/
"""


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="evaluate a design-space sweep (architecture axes x workloads) into a SQLite results file",
        description="Sample the design points of SWEEP.yaml (grid, random or Latin hypercube over dotted paths "
        "of a base architecture), run each workload once through the engine and price every point on it, "
        "writing one row per (point, workload) as results arrive. Points whose architecture does not parse or "
        "cannot run a workload are stored as 'invalid' with the reason. An existing results file of the same "
        "sweep is resumed (finished rows are kept); one of another sweep is an error.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sweep", metavar="SWEEP.yaml", help="sweep definition (workloads/sweeps/*.yaml)")
    p.add_argument("-o", "--output", required=True, metavar="RESULTS.sqlite", help="results file (SQLite)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="local worker processes (default 1)")
    where.add_argument(
        "--dask", metavar="ADDR", help='Dask scheduler "tcp://HOST:PORT", or "local:N" for a LocalCluster of N workers'
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep (also automatic)")
    p.add_argument("--chunk", type=int, default=None, metavar="N", help="points per task (default: automatic)")
    p.add_argument(
        "--exact",
        action="store_true",
        help="price every point on its own, as `tinysim run` does (the reference path: slower, identical rows)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--point-limit",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="multiply the limit on design points per sweep (10 million) by FACTOR",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.cli.progress import compile_notice, progress_bar
    from tinysim.explore.executors import make_executor
    from tinysim.explore.runner import run_sweep
    from tinysim.explore.sweep_spec import check_point_count, load_sweep

    spec = load_sweep(args.sweep)
    check_point_count(spec, args.point_limit)  # before a worker starts or the results file is created
    if args.chunk is not None and args.chunk < 1:
        raise TinysimError(f"expected a positive chunk size, got {args.chunk}", field="--chunk")
    executor = make_executor(args.jobs, args.dask)
    try:
        with compile_notice(), progress_bar(spec.name, "pt", enabled=not args.quiet) as progress:
            result = run_sweep(
                spec,
                args.output,
                executor,
                progress=progress,
                chunk_size=args.chunk,
                exact=args.exact,
                point_limit=args.point_limit,
            )
    finally:
        executor.close()
    print(
        f"{spec.name}: {result.points} points x {result.workloads} workloads; {result.written} rows written "
        f"({result.invalid} invalid), {result.skipped} already in {args.output}"
    )
    return 0
