"""`tinysim ops [ARCH]`: the ops the engine runs, per quantization scheme, and which unit of ARCH runs each.

Generated from the engine's kernel table (`KERNELS`, `SCHEMES`) and, with an architecture, from the
placement rule the cost model uses (cost.placement: the first compute unit whose `runs:` lists the op and
whose `schemes:` lists its quantization scheme; a unit without them runs all).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EXAMPLES = """examples:
  tinysim ops                                  # every op the engine runs, per quantization scheme
  tinysim ops ndp120                # ... and which compute unit of the NDP120 runs it
  tinysim ops stm32l4r5 --format json
"""


def register(sub) -> None:
    p = sub.add_parser(
        "ops",
        help="list the ops tinysim runs (and, with ARCH, which compute unit runs each)",
        description="List the TFLite ops the engine runs, per quantization scheme (int8: int8 activations "
        "and weights; uint8: legacy asymmetric per-tensor; int16x8: int16 activations, int8 weights; float32). "
        "With ARCH, each scheme's cell names the compute unit of that architecture that runs the op (the "
        "first unit whose `runs:` and `schemes:` list it; a unit without them runs everything), or 'no unit'.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("arch", metavar="ARCH", nargs="?", help="architecture YAML, or a shipped name (tinysim list archs)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    listing = supported_ops(args.arch)
    print(json.dumps(listing, indent=2) if args.format == "json" else _table(listing))
    return 0


def supported_ops(arch_path: str | None) -> dict[str, Any]:
    """{schemes, ops: [{op, schemes, units: {scheme: {unit, unit_kind} or None}}], not_run, arch}: what
    `tinysim ops` prints (`units` only with an architecture)."""
    from tinysim.arch import load_arch
    from tinysim.cost.placement import unit_for
    from tinysim.engine.interpreter import KERNELS, SCHEMES, op_schemes
    from tinysim.ops import OpKind

    arch = load_arch(arch_path) if arch_path else None
    rows = []
    for kind in KERNELS:
        row: dict[str, Any] = {"op": kind.value, "schemes": list(op_schemes(kind))}
        if arch is not None:
            placed = {scheme: unit_for(arch, kind, scheme) for scheme in op_schemes(kind)}
            row["units"] = {s: {"unit": u.name, "unit_kind": u.kind} if u else None for s, u in placed.items()}
        rows.append(row)
    return {
        "arch": arch.name if arch is not None else None,
        "schemes": list(SCHEMES),
        "ops": rows,
        "not_run": [kind.value for kind in OpKind if kind not in KERNELS],
    }


def _table(listing: dict[str, Any]) -> str:
    from tinysim.report.table import format_table

    headers = ["op", *listing["schemes"]]
    rows = [
        [row["op"], *(_cell(row, s, listing["arch"] is not None) for s in listing["schemes"])] for row in listing["ops"]
    ]
    where = f"; cells: the unit of {listing['arch']} that runs the op in that scheme" if listing["arch"] else ""
    notes = [f"{len(rows)} ops; '-': the engine does not run the op in that scheme{where}"]
    if listing["not_run"]:
        notes.append(f"read from a model but not run: {', '.join(listing['not_run'])}")
    return format_table(headers, rows, numeric=[False] * len(headers)) + "\n\n" + "\n".join(notes)


def _cell(row: dict[str, Any], scheme: str, with_arch: bool) -> str:
    if scheme not in row["schemes"]:
        return "-"
    if not with_arch:
        return "yes"
    placed = row["units"][scheme]
    return f"{placed['unit']} ({placed['unit_kind']})" if placed else "no unit"
