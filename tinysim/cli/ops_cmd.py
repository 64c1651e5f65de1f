"""`tinysim ops [ARCH]`: the ops the engine runs, per quantization scheme, and which unit of ARCH runs each.

Generated from the engine's kernel table (`KERNELS`, `SCHEMES`) and, with an architecture, from the
placement rule the cost model uses (the first compute unit whose `runs:` lists the op; no `runs:` runs all).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tinysim.arch import load_arch
from tinysim.cost.placement import unit_for
from tinysim.engine.interpreter import KERNELS, SCHEMES, op_schemes
from tinysim.ops import OpKind
from tinysim.report.table import format_table

EXAMPLES = """examples:
  tinysim ops                                  # every op the engine runs, per quantization scheme
  tinysim ops archs/ndp120.yaml                # ... and which compute unit of the NDP120 runs it
  tinysim ops archs/stm32l4r5.yaml --format json
"""


def register(sub) -> None:
    p = sub.add_parser(
        "ops",
        help="list the ops tinysim runs (and, with ARCH, which compute unit runs each)",
        description="List the TFLite ops the engine runs, per quantization scheme (int8 activations and "
        "weights, and legacy asymmetric per-tensor uint8 for most ops; int16x8 and float models are refused). "
        "With ARCH, also the "
        "compute unit of that architecture that runs each op (the first unit whose `runs:` lists it; a "
        "unit without `runs:` runs everything), or 'no unit'.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("arch", metavar="ARCH", nargs="?", help="architecture YAML (archs/*.yaml)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    listing = supported_ops(args.arch)
    print(json.dumps(listing, indent=2) if args.format == "json" else _table(listing))
    return 0


def supported_ops(arch_path: str | None) -> dict[str, Any]:
    """{schemes, ops: [{op, schemes, unit, unit_kind}], not_run, arch}: what `tinysim ops` prints."""
    arch = load_arch(arch_path) if arch_path else None
    rows = []
    for kind in KERNELS:
        row: dict[str, Any] = {"op": kind.value, "schemes": list(op_schemes(kind))}
        if arch is not None:
            unit = unit_for(arch, kind)
            row.update(unit=unit.name if unit else None, unit_kind=unit.kind if unit else None)
        rows.append(row)
    return {
        "arch": arch.name if arch is not None else None,
        "schemes": list(SCHEMES),
        "ops": rows,
        "not_run": [kind.value for kind in OpKind if kind not in KERNELS],
    }


def _table(listing: dict[str, Any]) -> str:
    headers = ["op", *listing["schemes"]]
    if listing["arch"] is not None:
        headers.append(f"unit ({listing['arch']})")
    rows = []
    for row in listing["ops"]:
        cells = [row["op"], *("yes" if s in row["schemes"] else "no" for s in listing["schemes"])]
        if listing["arch"] is not None:
            cells.append(f"{row['unit']} ({row['unit_kind']})" if row["unit"] else "no unit")
        rows.append(cells)
    schemes = ", ".join(listing["schemes"])
    notes = [f"{len(rows)} ops; quantization: {schemes} only (activations and weights; other models are refused)"]
    if listing["not_run"]:
        notes.append(f"read from a model but not run: {', '.join(listing['not_run'])}")
    return format_table(headers, rows, numeric=[False] * len(headers)) + "\n\n" + "\n".join(notes)
