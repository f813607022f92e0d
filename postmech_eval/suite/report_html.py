"""The HTML leaderboard: one self-contained page (tables, heatmaps, refusal bars).

Everything is inlined (CSS, and images as base64 ``data:`` URIs) so the page can be
mailed, attached to a CI run, or opened from any directory and still show every figure.
Refusal bars are drawn here from the metrics, so they exist even when a run kept no PNG.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from pathlib import Path

from postmech_eval.suite.estimates import NOT_MEASURED, UNDEFINED
from postmech_eval.suite.findings import FINDINGS, VERDICTS_LEGEND
from postmech_eval.suite.runs import LoadedRuns, PairRun
from postmech_eval.suite.tables import (
    LEGEND,
    Column,
    findings_summary,
    findings_table,
    metrics_table,
    paired_table,
)

RT = "postmech_refusal_transfer"
#: analysis settings worth showing beside the numbers when a run set them (--metadata)
_SETTINGS = ("n_bootstrap", "seed")
_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.missing{color:#999;text-align:center}
td.undefined{color:#8a5a00;text-align:center;font-style:italic}
td.v-reproduced{background:#e6f4ea}
td.v-not-reproduced{background:#fce8e6}
td.v-inconclusive{background:#fff4e5}
td.v-undefined{background:#f3e8fd}
td.v-not-measured{color:#777}
.warn{background:#fff4e5;border:1px solid #f0c36d;padding:.5rem 1rem}
figure{display:inline-block;margin:.5rem;vertical-align:top}
figure img{max-width:480px;border:1px solid #ddd}
figcaption{font-size:.8rem;color:#555}
"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]], kinds: Sequence[str]) -> str:
    out = [f'<table id="{table_id}"><thead><tr>']
    out += [f"<th>{_esc(h)}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>")
        for cell, kind in zip(row, kinds, strict=True):
            cls = kind
            if kind == "num" and cell == NOT_MEASURED:
                cls = "missing"
            elif kind == "num" and cell == UNDEFINED:
                cls = "undefined"
            elif kind == "verdict":
                cls = "v-" + cell.split(" (")[0].replace("/", "-").replace(" ", "-")
            out.append(f'<td class="{cls}">{_esc(cell)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def refusal_bars_png(run: PairRun) -> bytes | None:
    """Bar chart of refusal rates per condition, one panel per target model; None if unmeasured."""
    names = {"base": "B", "post": "P"}
    panels: list[tuple[str, list[tuple[str, float | None, tuple[float, float] | None, str]]]] = []
    for target in ("base", "post"):
        other = "post" if target == "base" else "base"
        conds = [
            ("harmful", f"refusal_{target}_harmful"),
            (f"harmful −{names[target]} dir", f"refusal_{target}_harmful_ablate_{target}"),
            (f"harmful −{names[other]} dir", f"refusal_{target}_harmful_ablate_{other}"),
            ("harmless", f"refusal_{target}_harmless"),
            (f"harmless +{names[target]} dir", f"refusal_{target}_harmless_add_{target}"),
            (f"harmless +{names[other]} dir", f"refusal_{target}_harmless_add_{other}"),
        ]
        bars = [(label, run.value(RT, m), run.interval(RT, m), run.status(RT, m)) for label, m in conds]
        panels.append((target, bars))
    if all(v is None for _, conds in panels for _, v, _, _ in conds):
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.2), dpi=80)
    FigureCanvasAgg(fig)
    colors = ["#c0392b", "#e59866", "#f5cba7", "#2471a3", "#7fb3d5", "#d4e6f1"]
    for i, (target, conds) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1)
        xs = range(len(conds))
        heights = [0.0 if v is None else 100 * v for _, v, _, _ in conds]
        # 95% error bars (± 1.96·stderr of each rate); a bar without an interval gets none
        err = [
            [
                0.0 if ci is None else max(0.0, h - 100 * ci[0])
                for h, (_, _, ci, _) in zip(heights, conds, strict=True)
            ],
            [
                0.0 if ci is None else max(0.0, 100 * ci[1] - h)
                for h, (_, _, ci, _) in zip(heights, conds, strict=True)
            ],
        ]
        ax.bar(xs, heights, color=colors, yerr=err, capsize=2, ecolor="#444")
        for x, (_, v, _, status) in zip(xs, conds, strict=True):
            text = f"{100 * v:.0f}" if v is not None else ("undef." if status == "undefined" else "—")
            ax.text(x, 2, text, ha="center", fontsize=7)
        ax.set_xticks(list(xs), [bar[0] for bar in conds], rotation=35, ha="right", fontsize=7)
        ax.set_ylim(0, 105)
        ax.set_ylabel("refusal rate (%)")
        ax.set_title(f"model {names[target]} ({target})", fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _caption(path: Path, run: PairRun) -> str:
    roots = [src.parent for src in run.sources] + [src.parent.parent for src in run.sources]
    for root in roots:
        try:
            return str(path.relative_to(root.resolve()))
        except ValueError:
            continue
    return path.name


def run_info_text(run: PairRun) -> str:
    """How the pair's numbers were produced (versions, seeds), from what lm-eval recorded."""
    parts: list[str] = []
    infos = list({id(i): i for i in run.info.values()}.values())  # one per results file
    for label, get in (
        ("postmech-eval", lambda i: i.postmech_version),
        ("lm-eval", lambda i: i.lm_eval_version),
        ("transformers", lambda i: i.transformers_version),
    ):
        found = sorted({v for v in (get(i) for i in infos) if v})
        if found:
            parts.append(f"{label} {', '.join(found)}")
    if run.task_versions:
        parts.append("task versions " + ", ".join(f"{t.removeprefix('postmech_')} {v}" for t, v in sorted(run.task_versions.items())))  # fmt: skip
    seeds = sorted({f"{k}={v}" for i in infos for k, v in i.seeds.items()})
    seeds += sorted(
        {f"{k}={v}" for i in infos for m in i.task_metadata.values() for k, v in m.items() if k in _SETTINGS}
    )
    if seeds:
        parts.append("seeds and resamples " + " ".join(seeds))
    return "; ".join(parts)


def _pair_section(index: int, run: PairRun) -> str:
    out = [f'<section class="pair" id="pair-{index}"><h2>{_esc(run.label)}</h2>']
    out.append(f"<p>B = <code>{_esc(run.key.base)}</code>, P = <code>{_esc(run.key.post)}</code>; ")
    out.append("from " + ", ".join(f"<code>{_esc(os.fspath(s))}</code>" for s in run.sources) + "</p>")
    info = run_info_text(run)
    if info:
        out.append(f'<p class="run-info">{_esc(info)}</p>')
    bars = refusal_bars_png(run)
    if bars is None:
        out.append("<p>Refusal: not measured for this pair.</p>")
    else:
        out.append(
            '<figure><img class="refusal-bars" alt="refusal rates per condition" '
            f'src="{_data_uri(bars)}"><figcaption>Refusal rate per condition '
            "(−X dir: X's direction ablated; +X dir: X's direction added)</figcaption></figure>"
        )
    for path in run.images:
        try:
            png = path.read_bytes()
        except OSError:
            continue
        cap = _caption(path, run)
        out.append(
            f'<figure><img class="artifact" alt="{_esc(cap)}" src="{_data_uri(png)}">'
            f"<figcaption>{_esc(cap)}</figcaption></figure>"
        )
    out.append("</section>")
    return "".join(out)


def render_html(loaded: LoadedRuns, columns: Sequence[Column], view: str = "both") -> str:
    """The full page as a string (UTF-8, no external resources)."""
    runs = loaded.runs
    body = ["<h1>postmech-eval leaderboard</h1>"]
    body.append(
        "<p>How post-training reshapes a model: one row per (base B, post-trained P) pair. "
        f"{_esc(LEGEND)}</p>"
    )
    if loaded.skipped:
        items = "".join(f"<li>{_esc(reason)}</li>" for _, reason in loaded.skipped)
        body.append(f'<div class="warn" id="skipped"><p>Skipped files:</p><ul>{items}</ul></div>')
    if view in ("metrics", "both"):
        header, rows = metrics_table(runs, columns)
        kinds = ["text", "text", "text", *(["num"] * len(columns))]
        body.append("<h2>Pairs side by side</h2>" + _table("leaderboard", header, rows, kinds))
    if view in ("paired", "both"):
        header, rows = paired_table(runs)
        body.append("<h2>Base and post-trained model: B, P and Δ (P − B)</h2>")
        body.append("<p>Δ has no interval: B and P are measured on the same items.</p>")
        body.append(_table("paired", header, rows, ["text", "text", "num", "num", "num"]))
    if view in ("findings", "both"):
        header, rows = findings_table(runs)
        rules = "".join(f"<li><b>{_esc(f.title)}</b>: <code>{_esc(f.rule)}</code></li>" for f in FINDINGS)
        body.append("<h2>Findings of the paper: do they reproduce?</h2>")
        body.append(f"<ul>{rules}</ul><p>{_esc(VERDICTS_LEGEND)}</p>")
        s_header, s_rows = findings_summary(runs)
        body.append(_table("findings-summary", s_header, s_rows, ["text", *(["verdict"] * len(FINDINGS))]))
        body.append(_table("findings", header, rows, ["text", "text", "text", "text", "verdict"]))
    if view in ("metrics", "both"):
        body += [_pair_section(i, r) for i, r in enumerate(runs)]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>postmech-eval leaderboard</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )
