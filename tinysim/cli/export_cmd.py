"""`tinysim export RESULTS.sqlite --csv FILE | --parquet FILE`: a sweep's results as one flat table.

One row per (design point, workload): the identity fields, the point's id and index, every design
parameter as its own column (its dotted path), every result column, and the energy breakdown as
energy_<cause>_j columns — what pandas reads without a join or `json_normalize`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from tinysim.errors import TinysimError

EXAMPLES = """examples:
  tinysim export results/ndp_imc.sqlite --csv ndp_imc.csv
  tinysim export results/ndp_imc.sqlite --parquet ndp_imc.parquet    # needs pandas and pyarrow
"""


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="write a sweep's results as one flat CSV or Parquet table",
        description="Read a sweep results file (written by `tinysim sweep`) and write one row per (design point, "
        "workload) with every design parameter as its own column (named by its dotted path; 'param.' in front "
        "where it would clash with a result column) and every result column, SI units in the names.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("results", metavar="RESULTS", help="sweep results file (.sqlite)")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-' for stdout)")
    target.add_argument("--parquet", metavar="FILE", help="write Parquet to FILE (needs pandas and pyarrow)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.explore.store import read_sweep

    if args.parquet is not None:
        _check_parquet()
    rows = [{k: _cell(v) for k, v in row.items()} for row in read_sweep(args.results).flat_rows()]
    columns = list(dict.fromkeys(k for row in rows for k in row))  # parameters can differ between points
    if args.parquet is not None:
        _write_parquet(Path(args.parquet), rows, columns)
    elif args.csv == "-":
        print(_csv_text(rows, columns), end="")
    else:
        from tinysim.cli.output import write_atomic

        write_atomic(Path(args.csv), _csv_text(rows, columns))
    return 0


def _cell(value: Any) -> Any:
    """A scalar as it is; a list or mapping parameter as its canonical JSON text (one cell, one value)."""
    if isinstance(value, (list, tuple, dict)):
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def _csv_text(rows: list[dict[str, Any]], columns: list[str]) -> str:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _check_parquet() -> None:
    import importlib.util

    for module in ("pandas", "pyarrow"):
        if importlib.util.find_spec(module) is None:
            raise TinysimError(f"writing Parquet needs {module}: pip install pandas pyarrow", field="--parquet")


def _write_parquet(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=columns)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except OSError as err:
        raise TinysimError(f"cannot write: {err.strerror}", file=str(path), field="--parquet") from err
