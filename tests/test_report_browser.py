"""The HTML report opened in a real headless browser (Debian's chromium), at 1400 and 800 px.

A probe script is appended to a copy of the page; after the load event it records, in
the DOM, the table's rows, whether every <img> decoded (``naturalWidth > 0``) and whether
the page is wider than the window (horizontal overflow: tables must scroll in their own
wrapper instead). ``chromium --dump-dom`` then hands back that DOM; ``--screenshot`` keeps
a picture of each width (under ``$POSTMECH_SCREENSHOTS`` when set, else the test's tmp dir).
A deliberately broken image and a deliberately too-wide page check that the probe can fail.
"""

from __future__ import annotations

import html
import json
import os
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
    viewport: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    captions: Array.from(document.querySelectorAll("figcaption")).map(c => c.textContent),
    sections: Array.from(document.querySelectorAll("section.analysis h3")).map(h => h.textContent),
    metadata: document.querySelectorAll("[id^=meta-] tbody tr").length,
  });
  document.body.appendChild(out);
});
</script>"""


WIDTHS = (1400, 800)


def _browse(page: Path, tmp_path: Path, width: int = 1400) -> dict:
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
        "--hide-scrollbars",
        f"--window-size={width},1600",
    ]
    proc = subprocess.run([*cmd, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, re.S)
    assert match, f"probe did not run; DOM starts {proc.stdout[:500]!r}"
    shots = Path(os.environ.get("POSTMECH_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / f"{page.stem}_{width}px.png"
    subprocess.run(
        [*cmd, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True
    )
    assert shot.is_file() and shot.stat().st_size > 1000
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


@pytest.mark.parametrize("width", WIDTHS)
def test_html_report_renders_table_and_every_image(tmp_path, width):
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

    probe = _browse(page, tmp_path, width)
    assert probe["viewport"] == width and probe["pageWidth"] <= width, probe  # no horizontal overflow
    assert probe["tableVisible"]
    # two pairs: transposed, metrics as rows and one column per pair
    assert probe["header"] == ["Metric", "organism: base / sft", "organism: base / cpt"]
    rows = {r[0]: r[1:] for r in probe["rows"]}
    assert rows["Knowledge: patch corr B vs P (r)"] == ["0.93 [0.91, 0.95]", "0.97 [0.95, 0.99]"]
    # cpt ran refusal but its ratios have no value: undefined, not the not-measured dash
    assert rows["Refusal: forward transfer (ratio)"][1] == "undefined"
    assert probe["findings"] == 8  # 2 pairs x 4 findings
    assert probe["summary"] == [5, 5]  # one row per pair: name + 4 verdicts
    assert probe["metadata"] >= 2 * 6  # run metadata per pair
    alts = [i["alt"] for i in probe["images"]]
    # sft: refusal figure (drawn from the results file) + 2 legacy heatmaps; cpt: refusal figure
    assert len(alts) == 4, alts
    assert sum("heatmap_" in a for a in alts) == 2 and sum("refusal_rates" in a for a in alts) == 2
    assert all(i["ok"] for i in probe["images"]), probe["images"]
    assert (
        probe["sections"][0].startswith("Knowledge")
        and "Refusal direction and its transfer" in probe["sections"]
    )
    assert all(c.strip() for c in probe["captions"])


def test_report_of_the_committed_runs_at_both_widths(tmp_path):
    """The committed organism runs: every figure from the manifests loads, no overflow."""
    repo = Path(__file__).resolve().parents[1]
    page = tmp_path / "report.html"
    assert leaderboard.run_cli([str(repo / "leaderboard" / "runs"), "--format", "html", "-o", str(page)]) == 0
    for width in WIDTHS:
        probe = _browse(page, tmp_path, width)
        assert probe["pageWidth"] <= width, (width, probe["pageWidth"])
        assert len(probe["images"]) >= 2 * 7 and all(i["ok"] for i in probe["images"])
        assert all(len(c) > 60 for c in probe["captions"])  # a sentence, not a file path


def test_probe_detects_overflow(tmp_path):
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><html><body><table id="leaderboard"><thead><tr><th>x</th></tr></thead>'
        '<tbody><tr><td style="min-width:2000px">1</td></tr></tbody></table></body></html>'
    )
    probe = _browse(page, tmp_path, 800)
    assert probe["pageWidth"] > 800


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
