"""The HTML leaderboard opened in a real headless browser (Debian's chromium).

A probe script is appended to a copy of the page; after the load event it records, in
the DOM, the table's rows and whether every <img> decoded (``naturalWidth > 0``).
``chromium --dump-dom`` then hands back that DOM. A deliberately broken image checks
that the probe can fail.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from postmech_eval.suite import leaderboard
from tests.results_fixtures import KP, cpt_metrics, sft_metrics, write_results

CHROMIUM = next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium binary not found (Debian: apt-get install -y chromium chromium-driver)",
)

PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const rows = Array.from(document.querySelectorAll("#leaderboard tbody tr"))
    .map(tr => Array.from(tr.cells).map(td => td.textContent));
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    images: imgs.map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth})),
    header: Array.from(document.querySelectorAll("#leaderboard thead th")).map(th => th.textContent),
    rows: rows,
    findings: document.querySelectorAll("#findings tbody tr").length,
    summary: Array.from(document.querySelectorAll("#findings-summary tbody tr")).map(tr => tr.cells.length),
    tableVisible: document.getElementById("leaderboard").getBoundingClientRect().height > 0,
  });
  document.body.appendChild(out);
});
</script>"""


def _browse(page: Path, tmp_path: Path) -> dict:
    probed = page.with_name(page.stem + "_probed.html")
    probed.write_text(
        page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probed.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"probe did not run; DOM starts {proc.stdout[:500]!r}"
    return json.loads(html.unescape(match.group(1)))


def _write_heatmaps(folder: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("heatmap_base", "heatmap_post"):
        fig = Figure(figsize=(2, 2), dpi=50)
        FigureCanvasAgg(fig)
        fig.add_subplot().imshow(rng.random((6, 4)))
        fig.savefig(folder / f"{name}.png")


def test_html_report_renders_table_and_every_image(tmp_path):
    runs = tmp_path / "runs"
    sft_dir = runs / "organism-sft"
    _write_heatmaps(sft_dir / "artifacts" / KP)
    write_results(sft_dir, sft_metrics(), extra_model_args={"artifacts_dir": str(sft_dir / "artifacts")})
    write_results(runs / "organism-cpt", cpt_metrics(), post="organism:cpt")
    corrupt = write_results(runs / "third", sft_metrics(), post="organism:other")
    corrupt.write_text(corrupt.read_text()[:100])  # corrupted: skipped, the rest still render
    page = tmp_path / "board.html"
    assert leaderboard.run_cli([str(runs), "--format", "html", "--output", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text  # self-contained
    assert html.escape(str(corrupt)) in text  # the skipped file is named on the page too

    probe = _browse(page, tmp_path)
    assert probe["tableVisible"]
    assert "Knowledge: patch corr (r)" in probe["header"]
    assert sorted(row[2] for row in probe["rows"]) == ["organism:cpt", "organism:sft"]
    cpt_row = next(r for r in probe["rows"] if r[2] == "organism:cpt")
    # cpt ran refusal but its ratios have no value: undefined, not the not-measured dash
    assert cpt_row[probe["header"].index("Refusal: forward transfer (ratio)")] == "undefined"
    assert probe["findings"] == 8  # 2 pairs x 4 findings
    assert probe["summary"] == [5, 5]  # one row per pair: name + 4 verdicts
    alts = [i["alt"] for i in probe["images"]]
    assert len(alts) == 3, alts  # sft: refusal bars + 2 heatmaps; cpt: no refusal, no figures
    assert any("heatmap_base.png" in a for a in alts) and any("refusal" in a for a in alts)
    assert all(i["ok"] for i in probe["images"]), probe["images"]


def test_probe_detects_a_broken_image(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><body><table id="leaderboard"><thead><tr><th>x</th></tr></thead>'
        "<tbody><tr><td>1</td></tr></tbody></table>"
        '<img alt="bad" src="data:image/png;base64,AAAA"></body></html>'
    )
    probe = _browse(page, tmp_path)
    assert probe["rows"] == [["1"]]
    assert probe["images"] == [{"alt": "bad", "ok": False, "w": 0}]
