"""`tinysim list archs|workloads|scenarios|sweeps`: what ships with tinysim, one line each, usable by name."""

from __future__ import annotations

import argparse
import json

EXAMPLES = """examples:
  tinysim list archs
  tinysim list workloads
  tinysim list sweeps --format json
  tinysim run stm32l4r5 kws            # any listed name works wherever a file is accepted
"""

KINDS = ("archs", "workloads", "scenarios", "sweeps")


def register(sub) -> None:
    p = sub.add_parser(
        "list",
        help="list the shipped architectures, workloads, scenarios and sweeps",
        description="List what ships with tinysim, one line each: the name (usable wherever a file is accepted, "
        "from any folder: `tinysim run stm32l4r5 kws`, `--arch ndp100`, `base: ndp120` in a sweep) and its "
        "description. A path to a file of your own always takes precedence over a name.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("kind", choices=KINDS, help="what to list")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tinysim.catalog import Shipped, shipped_files

    entries = [
        {"name": p.stem, "description": _description(p), "path": str(p)} for p in shipped_files(Shipped(args.kind))
    ]
    if args.format == "json":
        print(json.dumps(entries, indent=2))
        return 0
    width = max((len(e["name"]) for e in entries), default=0)
    for e in entries:
        print(f"{e['name']:<{width}}  {e['description']}")
    return 0


def _description(path) -> str:
    """The file's `description:` (its first line), or its `name:`; '' when neither."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    if not isinstance(data, dict):
        return ""
    text = data.get("description") or data.get("name") or ""
    return " ".join(str(text).split())
