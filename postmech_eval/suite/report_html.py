"""The HTML report: one self-contained page a researcher can read, print or attach to a CI run.

Order of the page: the pairs side by side, the paper's findings with their four outcomes and
the intervals behind them, B / P / Δ, how each pair was run (metadata), then the figures
grouped by analysis — each pair's figure of one analysis next to the other's, each with a
one-sentence caption saying what to look for, click to enlarge. Everything is inlined (CSS,
a few lines of script, images as base64 ``data:`` URIs) so the page opens from any directory.
Tables sit in scrolling wrappers so a narrow window scrolls a table instead of the page.
Figures come from each task's ``figures.json`` manifest; a run without one gets its
figures drawn here from its artifacts (or, for refusal, from the results file itself).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

from postmech_eval.suite import figures as figs
from postmech_eval.suite.estimates import NOT_MEASURED, UNDEFINED
from postmech_eval.suite.findings import FINDINGS, VERDICTS_LEGEND
from postmech_eval.suite.formats import TRANSPOSE_MAX, pairs_line, transpose
from postmech_eval.suite.metadata import metadata_rows
from postmech_eval.suite.runs import LoadedRuns, PairRun
from postmech_eval.suite.tables import (
    LEGEND,
    UNITS_NOTE,
    Column,
    findings_summary,
    findings_table,
    metrics_table,
    paired_table,
)

RT = "postmech_refusal_transfer"
_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1.5rem;max-width:1320px;color:#222;line-height:1.45}
h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}
.scroll{overflow-x:auto;max-width:100%;margin:1rem 0}
table{border-collapse:collapse;font-size:.88rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.missing{color:#999;text-align:center}
td.undefined{color:#8a5a00;text-align:center;font-style:italic}
td.v-reproduced{background:#e6f4ea}
td.v-not-reproduced{background:#fce8e6}
td.v-inconclusive{background:#fff4e5}
td.v-undefined{background:#f3e8fd}
td.v-not-measured{color:#777}
td.text-long{min-width:16rem}
.warn{background:#fff4e5;border:1px solid #f0c36d;padding:.5rem 1rem;overflow-wrap:anywhere}
code{overflow-wrap:anywhere}
figure{margin:1rem 0 1.6rem;max-width:100%}
figure img{display:block;width:100%;max-width:1200px;height:auto;border:1px solid #ddd;cursor:zoom-in}
figcaption{font-size:.85rem;color:#444;margin-top:.3rem;max-width:1200px}
figure.zoomed{position:fixed;inset:0;margin:0;z-index:10;background:rgba(20,20,20,.92);display:flex;
  flex-direction:column;align-items:center;justify-content:center;padding:1rem}
figure.zoomed img{width:auto;max-width:98vw;max-height:88vh;cursor:zoom-out;background:#fff}
figure.zoomed figcaption{color:#eee}
details{margin:.5rem 0 1rem}
"""
_SCRIPT = """<script>
document.addEventListener("click", e => {
  const img = e.target.closest("figure img");
  if (img) img.closest("figure").classList.toggle("zoomed");
});
document.addEventListener("keydown", e => {
  if (e.key === "Escape") document.querySelectorAll("figure.zoomed").forEach(f => f.classList.remove("zoomed"));
});
</script>"""


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(table_id: str, header: Sequence[str], rows: Sequence[Sequence[str]], kinds: Sequence[str]) -> str:
    out = [f'<div class="scroll"><table id="{table_id}"><thead><tr>']
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
    out.append("</tbody></table></div>")
    return "".join(out)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _png_bytes(fig: object) -> bytes:
    from postmech_eval.analyses import figstyle

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=figstyle.DPI, metadata={"Software": None})  # type: ignore[attr-defined]
    return buf.getvalue()


def run_figures(run: PairRun, task: str) -> list[tuple[bytes, str, str, bool]]:
    """(PNG, name, caption, main) of one task of one run: its manifest, else drawn from its
    artifacts, else (refusal) drawn from the results file, else its legacy PNGs."""
    folder = run.task_dirs.get(task)
    if folder is not None:
        listed = figs.manifest(folder)
        if listed:
            return [
                ((folder / e["png"]).read_bytes(), e["name"], e["caption"], bool(e.get("main")))
                for e in listed
            ]
        drawn = figs.draw(folder, task)
        if drawn:
            return [(_png_bytes(d["figure"]), d["name"], d["caption"], d["main"]) for d in drawn]
    if task == RT and task in run.metrics:
        from postmech_eval.analyses.refusal.figures import refusal_figure

        d = refusal_figure({"metrics": run.metrics[RT], "stderr": run.stderr.get(RT, {}),
                            "intervals": run.intervals.get(RT, {})})  # fmt: skip
        return [(_png_bytes(d["figure"]), d["name"], d["caption"] + " (drawn from the results file)", True)]
    legacy = [p for p in run.images if task in p.parts]
    return [(p.read_bytes(), p.stem, f"{p.name} (a figure of an older run; no caption)", True) for p in legacy if p.is_file()]  # fmt: skip


def _figure(png: bytes, name: str, caption: str, pair: str) -> str:
    alt = f"{pair}: {name}"
    return (
        f'<figure><img class="figure" alt="{_esc(alt)}" loading="eager" src="{_data_uri(png)}">'
        f"<figcaption><b>{_esc(pair)}.</b> {_esc(caption)}</figcaption></figure>"
    )


def _figures_by_analysis(runs: Sequence[PairRun]) -> str:
    tasks = sorted(
        {t for r in runs for t in r.metrics} | {t for r in runs for t in r.task_dirs}, key=figs.order
    )
    out = ['<h2 id="figures">Figures by analysis</h2><p>Click a figure to enlarge it (Esc closes).</p>']
    for task in tasks:
        title = figs.ANALYSES.get(task, (task, 0))[0]
        section = [f'<section class="analysis" id="{_esc(task)}"><h3>{_esc(title)}</h3>']
        shown = False
        for run in runs:
            items = run_figures(run, task) if task in run.metrics else []
            main = [i for i in items if i[3]]
            extra = [i for i in items if not i[3]]
            section += [_figure(png, name, cap, run.label) for png, name, cap, _ in main]
            if extra:
                section.append(
                    f"<details><summary>{_esc(run.label)}: {len(extra)} more figures (per dataset)</summary>"
                )
                section += [_figure(png, name, cap, run.label) for png, name, cap, _ in extra]
                section.append("</details>")
            shown = shown or bool(items)
        if not shown:
            section.append("<p>No figures for this analysis in these runs.</p>")
        out.append("".join(section) + "</section>")
    return "\n".join(out)


def _warnings(loaded: LoadedRuns) -> list[str]:
    out = []
    if loaded.skipped:
        items = "".join(f"<li>{_esc(reason)}</li>" for _, reason in loaded.skipped)
        out.append(f'<div class="warn" id="skipped"><p>Skipped files:</p><ul>{items}</ul></div>')
    dups = [(r, d) for r in loaded.runs for d in r.duplicates]
    if dups:
        items = "".join(
            f"<li>{_esc(r.label)}: {_esc(task)} is in {len(files)} results files "
            f"({', '.join(_esc(f) for f in files)}); using <code>{_esc(used)}</code> ({_esc(why)})</li>"
            for r, (task, files, used, why) in dups
        )
        out.append(
            f'<div class="warn" id="duplicates"><p>Several runs of one pair: each task\'s numbers and '
            f"figures come from one file (<code>--per-run</code> shows one row per run directory).</p>"
            f"<ul>{items}</ul></div>"
        )
    return out


def render_html(loaded: LoadedRuns, columns: Sequence[Column], view: str = "both") -> str:
    """The full page as a string (UTF-8, no external resources)."""
    runs = loaded.runs
    body = ["<h1>postmech-eval report</h1>"]
    body.append(
        "<p>How post-training reshapes a model: each (base B, post-trained P) pair compared on the "
        f"four analyses of Du et al. (2025). {_esc(LEGEND)}</p>"
    )
    body += _warnings(loaded)
    if view in ("metrics", "both"):
        header, rows = metrics_table(runs, columns)
        if len(runs) <= TRANSPOSE_MAX:
            header, rows = transpose(header, rows)
            kinds = ["text", *(["num"] * len(runs))]
            body.append(f"<h2>Pairs side by side</h2><p>{_esc(pairs_line(runs))}</p>")
        else:
            kinds = ["text", "text", "text", *(["num"] * len(columns))]
            body.append("<h2>Pairs side by side</h2>")
        body.append(_table("leaderboard", header, rows, kinds))
    if view in ("findings", "both"):
        header, rows = findings_table(runs)
        rules = "".join(f"<li><b>{_esc(f.title)}</b>: <code>{_esc(f.rule)}</code></li>" for f in FINDINGS)
        body.append('<h2 id="findings-h">Findings of the paper: do they reproduce?</h2>')
        body.append(f"<ul>{rules}</ul><p>{_esc(VERDICTS_LEGEND)}</p>")
        s_header, s_rows = findings_summary(runs)
        body.append(_table("findings-summary", s_header, s_rows, ["text", *(["verdict"] * len(FINDINGS))]))
        body.append("<p>Each verdict with the rule and the numbers (95% intervals) it was judged on:</p>")
        order = (0, 1, 4, 3, 2)  # verdict before the long text, so a narrow window shows it
        rows = [[row[i] for i in order] for row in rows]
        header = [header[i] for i in order]
        body.append(_table("findings", header, rows, ["text", "text", "verdict", "text-long", "text-long"]))
    if view in ("paired", "both"):
        header, rows = paired_table(runs)
        body.append("<h2>Base and post-trained model: B, P and Δ (P − B)</h2>")
        body.append(f"<p>Δ has no interval: B and P are measured on the same items. {_esc(UNITS_NOTE)}</p>")
        body.append(_table("paired", header, rows, ["text", "text", "num", "num", "num"]))
    if view in ("metrics", "both"):
        body.append('<h2 id="metadata">How each pair was run</h2>')
        for i, run in enumerate(runs):
            rows = metadata_rows(run)
            body.append(f"<h3>{_esc(run.label)}</h3>" + _table(f"meta-{i}", ["", ""], rows, ["text", "text"]))
        body.append(_figures_by_analysis(runs))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>postmech-eval report</title>"
        f"<style>{_CSS}</style></head><body>" + "\n".join(body) + _SCRIPT + "</body></html>\n"
    )
