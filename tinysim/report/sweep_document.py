"""The sweep report's text: cells formatted with their units, the report laid out as a list of blocks
(headings, paragraphs, tables, images), and those blocks rendered once as Markdown and once as HTML.

`sweep_report` computes what is shown (rows, fronts, top N, the PNGs); this module only says how it reads.
Every piece of text from the store is escaped in both documents.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tinysim.explore.pareto import column_value
from tinysim.units import Dimension, format_quantity

if TYPE_CHECKING:
    from tinysim.report.sweep_report import WorkloadSection

__all__ = [
    "column_dim",
    "column_label",
    "document_blocks",
    "format_value",
    "group_name",
    "to_html",
    "to_markdown",
]

_MAX_FRONT_ROWS = 40
_COLUMN_DIMS = {
    "latency_s": Dimension.TIME,
    "energy_j": Dimension.ENERGY,
    "average_power_w": Dimension.POWER,
    "cycles": Dimension.CYCLES,
    "arena_bytes": Dimension.SIZE,
    "weights_bytes": Dimension.SIZE,
    "area_m2": Dimension.AREA,
}
_COLUMN_LABELS = {
    "latency_s": "latency",
    "energy_j": "energy / inference",
    "average_power_w": "average power",
    "area_m2": "area",
    "cycles": "cycles",
    "arena_bytes": "arena",
    "weights_bytes": "weights",
    "operating_point": "operating point",
    "meets_deadline": "meets deadline",
}


def _param_dim(name: str) -> Dimension | None:
    leaf = name.rsplit(".", 1)[-1].lower()
    if "size" in leaf or "capacity" in leaf or leaf.endswith("bytes"):
        return Dimension.SIZE
    if "freq" in leaf or leaf.endswith("hz"):
        return Dimension.FREQUENCY
    if "volt" in leaf:
        return Dimension.VOLTAGE
    return None


def column_dim(name: str) -> Dimension | None:
    """The dimension of a result column or a parameter path (None: a plain number or text)."""
    return _COLUMN_DIMS.get(name) or _param_dim(name)


def column_label(name: str) -> str:
    """'latency_s' → 'latency'; parameter paths stay as they are."""
    return _COLUMN_LABELS.get(name, name)


def format_value(name: str, value: Any) -> str:
    """A cell: SI value with its unit ('1.25 ms', '256 KiB', '0.42 mm²'), yes/no flags, '—' when absent."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if name in ("fits", "meets_deadline"):
        return "yes" if value else "no"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    dim = column_dim(name)
    if dim is not None:
        return format_quantity(value, dim)
    if name == "area_mm2":  # the column of version-1 results files and of CSVs written from them
        return f"{value:.4g} mm²"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# --- documents: a list of blocks, rendered once as Markdown and once as HTML ---------------------------------------
# ("h1"|"h2"|"h3", text) · ("p", text) · ("pre", text) · ("img", file, alt) · ("table", headers, rows)


def document_blocks(
    summary: Mapping[str, Any], sections: Sequence[WorkloadSection], params: Sequence[str]
) -> list[tuple]:
    meta, objectives = summary["meta"], summary["objectives"]
    blocks: list[tuple] = [("h1", f"Sweep report: {meta.get('sweep_name') or 'sweep'}")]
    facts = [
        ("sweep file", meta.get("sweep_path") or "—"),
        ("base architecture", meta.get("base_arch") or "—"),
        ("created (UTC)", meta.get("created_utc") or "—"),
        ("tinysim version", meta.get("tinysim_version") or "—"),
        ("average power at", _rate(meta.get("rate_hz"))),
        ("deadline", _seconds(meta.get("deadline_s"))),
        ("objectives (minimised)", ", ".join(f"{column_label(o)} ({o})" for o in objectives)),
        ("constraints", ", ".join(summary["constraints"]) or "none"),
    ]
    blocks.append(("table", ("", "value"), facts))
    if meta.get("sweep_path"):
        blocks.append(
            (
                "p",
                f"Made with: tinysim sweep {meta['sweep_path']} -o RESULTS.sqlite; tinysim report RESULTS.sqlite -o DIR",
            )
        )
    blocks += [("h2", "Counts"), ("p", _counts_sentence(summary))]
    per_workload = [
        (s.workload, str(s.rows), str(s.ok), str(s.invalid), str(len(s.excluded)), str(len(s.front))) for s in sections
    ]
    headers = ("workload", "results", "ok", "invalid", "ok but excluded", "Pareto points")
    blocks.append(("table", headers, per_workload))
    if summary["reasons"]:
        blocks += [
            ("h3", "Most common reasons for invalid points"),
            ("table", ("reason", "results"), [(reason, str(count)) for reason, count in summary["reasons"]]),
        ]
    blocks += [("h2", "Sweep definition"), ("pre", meta.get("sweep_yaml") or "(not recorded)")]
    for s in sections:
        blocks += _section_blocks(s, params, objectives, summary["top"])
    return blocks


def _counts_sentence(summary: Mapping[str, Any]) -> str:
    return (
        f"{summary['points']} design points, {summary['rows']} results "
        f"({len(summary['workloads_present'])} workloads): {summary['ok']} ok, {summary['invalid']} invalid. "
        "Ok results that miss a constraint, or lack a value of an objective, are left out of the fronts."
    )


def _rate(text: str | None) -> str:
    try:
        return format_quantity(float(text), Dimension.FREQUENCY) if text else "—"
    except ValueError:
        return str(text)


def _seconds(text: str | None) -> str:
    try:
        return format_quantity(float(text), Dimension.TIME) if text else "none"
    except ValueError:
        return str(text)


def _section_blocks(s: WorkloadSection, params: Sequence[str], objectives: Sequence[str], top: int) -> list[tuple]:
    blocks: list[tuple] = [("h2", f"Workload {s.workload}")]
    if not s.candidates:
        blocks.append(("p", "No ok result meets the constraints: no front."))
    imgs = s.images
    if "scatter" in imgs:
        blocks.append(
            (
                "img",
                imgs["scatter"],
                (
                    f"{s.workload}: {column_label(objectives[0])} vs "
                    f"{column_label(objectives[1])}, Pareto front highlighted"
                ),
            )
        )
    n_groups = len(s.front_groups)
    blocks.append(("h3", f"Pareto front ({len(s.front)} design points, {n_groups} distinct results)"))
    if n_groups < len(s.front):
        blocks.append(("p", "Designs with equal objectives share a row: its cells list their values."))
    headers, cells = _table(s.front_groups[:_MAX_FRONT_ROWS], params, objectives)
    blocks.append(("table", headers, cells))
    if n_groups > _MAX_FRONT_ROWS:
        blocks.append(("p", f"First {_MAX_FRONT_ROWS} of {n_groups} by {column_label(objectives[0])}."))
    if "breakdown" in imgs:
        blocks.append(("img", imgs["breakdown"], f"{s.workload}: energy breakdown of the Pareto points"))
    if "op_curves" in imgs:
        blocks.append(("img", imgs["op_curves"], f"{s.workload}: latency and energy vs operating point"))
    headers, cells = _table(s.top, params, objectives, rank=True)
    title = f"Top {min(top, len(s.top))} distinct results by {column_label(objectives[0])}"
    blocks += [("h3", title), ("table", headers, cells)]
    return blocks


def group_name(group: Sequence[Mapping[str, Any]]) -> str:
    return f"#{group[0].get('point_index')}" + (f" +{len(group) - 1}" if len(group) > 1 else "")


def _cell(name: str, group: Sequence[Mapping[str, Any]]) -> str:
    """One value, or the distinct values of a group of equal-objective designs (smallest first)."""
    values = list(dict.fromkeys(column_value(r, name) for r in group))
    if len(values) > 1 and all(isinstance(v, (int, float)) for v in values):
        values.sort()
    return ", ".join(format_value(name, v) for v in values)


def _table(
    groups: Sequence[Sequence[Mapping[str, Any]]], params: Sequence[str], objectives: Sequence[str], rank: bool = False
):
    extra = [c for c in ("latency_s", "energy_j", "average_power_w") if c not in objectives]
    own = ["operating_point", *objectives, *extra, "fits", "meets_deadline"]
    columns = [*(p for p in params if p not in own), *own]
    headers = ["point (+ same-cost designs)", *(column_label(c) for c in columns)]
    cells = []
    for i, group in enumerate(groups, 1):
        cells.append([group_name(group), *(_cell(c, group) for c in columns)])
        if rank:
            cells[-1].insert(0, str(i))
    return (["rank", *headers] if rank else headers), cells


def to_markdown(blocks: Sequence[tuple]) -> str:
    out = []
    for kind, *rest in blocks:
        if kind in ("h1", "h2", "h3"):
            out.append(f"{'#' * int(kind[1])} {_md_cell(rest[0])}")
        elif kind == "p":
            out.append(_md_cell(rest[0]))
        elif kind == "pre":
            fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", rest[0])), default=0))
            out.append(f"{fence}yaml\n{rest[0].rstrip()}\n{fence}")
        elif kind == "img":
            out.append(f"![{_md_cell(rest[1])}]({rest[0]})")
        else:
            headers, rows = rest
            lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            out.append("\n".join(lines) if rows else "\n".join(lines) + "\n\n(none)")
    return "\n\n".join(out) + "\n"


def _md_cell(text: Any) -> str:
    """Text safe in a Markdown table cell, heading or paragraph: no raw HTML, pipes, brackets or newlines."""
    text = html.escape(str(text), quote=False).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return text.replace("[", "\\[").replace("]", "\\]").replace("*", "\\*")


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.25em .6em}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
div.wide{overflow-x:auto}
pre{background:#f6f6f6;padding:.8em;overflow:auto;font-size:.85em}img{max-width:100%;display:block;margin:.8em 0}"""

# Writes "loaded/total" images to <body data-images-loaded> once the page has loaded (checked by a test).
_SCRIPT = """window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) { ok++; } }
  document.body.setAttribute("data-images-loaded", ok + "/" + imgs.length);
});"""


def to_html(title: str, blocks: Sequence[tuple]) -> str:
    e = html.escape
    body = []
    for kind, *rest in blocks:
        if kind in ("h1", "h2", "h3"):
            body.append(f"<{kind}>{e(rest[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{e(rest[0])}</p>")
        elif kind == "pre":
            body.append(f"<pre>{e(rest[0])}</pre>")
        elif kind == "img":
            body.append(f'<img src="{e(rest[0])}" alt="{e(rest[1])}">')
        else:
            headers, rows = rest
            head = "".join(f"<th>{e(h).replace('.', '.<wbr>')}</th>" for h in headers)  # long paths may break
            trs = "".join(
                "<tr>" + "".join(f"<td{_num_class(c)}>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows
            )
            body.append(
                f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table></div>'
                if rows
                else f"<table><thead><tr>{head}</tr></thead></table><p>(none)</p>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{_STYLE}</style>\n<script>{_SCRIPT}</script>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _num_class(cell: Any) -> str:
    return ' class="n"' if re.match(r"^[-#]?\d", str(cell)) else ""
