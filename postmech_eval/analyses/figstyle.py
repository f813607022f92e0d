"""One look for every analysis figure: colours, fonts, sizes, and how a figure is saved.

Why shared: a reader compares figures across the four analyses and across pairs, so base
must be the same colour everywhere, a difference map the same diverging scale, and every
figure must be printable (PNG at >= 150 dpi for slides and the HTML report, SVG for a paper's
vector pipeline). The figures are built on ``matplotlib.figure.Figure`` with the Agg canvas,
never ``pyplot``, so drawing holds no global state and is safe in a library.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from postmech_eval.atomic import atomic_path

#: PNG resolution (the issue's floor is 150; 200 keeps 7 pt ticks crisp when enlarged)
DPI = 200
#: zlib level of the PNGs: 1 instead of PIL's 6 is ~5x less encoding time (a tenth of a
#: figure's drawing) for files ~10% larger
PNG_COMPRESS = 1
#: the two models everywhere: base blue, post orange (colour-blind safe pair)
COLOURS = {"base": "#1f77b4", "post": "#ff7f0e"}
#: lighter shades of the same hue, for an intervention on that model (ablation / addition)
LIGHT = {"base": "#9ecae1", "post": "#fdd0a2"}
NEUTRAL = "#7f7f7f"
DIVERGING = "RdBu_r"
NAMES = {"base": "base (B)", "post": "post-trained (P)"}
RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "legend.fontsize": 7.5,
    "figure.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text in the SVG (searchable, editable)
    "svg.hashsalt": "postmech",  # same figure -> same SVG bytes
}


@contextmanager
def style() -> Iterator[None]:
    """Matplotlib settings of the house, restored on exit."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def new_figure(width: float, height: float) -> Any:
    """A figure (inches) on the Agg canvas, constrained layout, no pyplot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Any, stem: Path) -> dict[str, str]:
    """Write ``stem.png`` (``DPI``) and ``stem.svg`` atomically; returns format -> path.
    Metadata that changes per run (dates, versions) is left out so a redraw is reproducible."""
    out: dict[str, str] = {}
    engine = fig.get_layout_engine()
    for fmt, meta in (("png", {"Software": None}), ("svg", {"Date": None, "Creator": None})):
        path = stem.with_suffix(f".{fmt}")
        extra = {"pil_kwargs": {"compress_level": PNG_COMPRESS}} if fmt == "png" else {}
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=meta, **extra)
        out[fmt] = str(path)
        # the layout is solved once, on the first format: the second reuses the positions
        fig.set_layout_engine("none")
    fig.set_layout_engine(engine)
    return out


def ci_text(value: float | None, interval: Any = None, digits: int = 2) -> str:
    """``0.91 [0.72, 0.95]`` or ``0.91`` or ``undefined`` for captions and titles."""
    if value is None or value != value:
        return "undefined"
    head = f"{value:.{digits}f}"
    if interval is None or len(interval) != 2 or any(b is None or b != b for b in interval):
        return head
    lo, hi = interval
    if f"{lo:.{digits}f}" == f"{hi:.{digits}f}" == head:
        return head
    return f"{head} [{lo:.{digits}f}, {hi:.{digits}f}]"


def mean_ci(values: Any) -> tuple[float, float, float, int]:
    """Mean of per-item values with its 95% interval (± 1.96·stderr, ddof = 1, as lm-eval's
    ``mean_stderr``), ignoring missing items; NaNs when there are none."""
    import numpy as np

    v = np.asarray([x for x in values if x is not None and x == x], dtype=float)
    if v.size == 0:
        return float("nan"), float("nan"), float("nan"), 0
    m = float(v.mean())
    half = 1.959963984540054 * float(v.std(ddof=1)) / np.sqrt(v.size) if v.size > 1 else 0.0
    return m, m - half, m + half, int(v.size)
