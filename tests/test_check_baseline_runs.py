"""``postmech-eval check NEW --baseline OLD`` on real runs of the organism pair (issue 14).

A CI regression gate must stay quiet for a rerun of the same checkpoint, fire on a
checkpoint that lost a behaviour, and refuse a baseline of another base model. The
"lost a behaviour" checkpoint is built here the way Arditi et al. (2024) abliterate a chat
model: the post model's own refusal direction r is projected out of every matrix that
writes into the residual stream (W <- W - r r^T W), so it can no longer represent it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

REFUSAL = "postmech_refusal_transfer"


def postmech_eval(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "postmech_eval.cli", *args], capture_output=True, text=True, timeout=900
    )


def run_refusal(out: Path, *extra: str) -> Path:
    proc = postmech_eval("run", "--tasks", REFUSAL, "--output-dir", str(out), *extra)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def abliterate(spec: str, direction: torch.Tensor, dest: Path) -> Path:
    """Save a copy of ``spec`` with ``direction`` projected out of every residual write."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from postmech_eval.models.specs import resolve_spec

    path = resolve_spec(spec)
    model = AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(path)
    r = (direction / direction.norm()).double()
    with torch.no_grad():
        if model.config.tie_word_embeddings:  # keep the unembedding as it was
            model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone())
            model.config.tie_word_embeddings = False
        emb = model.model.embed_tokens.weight  # [vocab, d]: rows are residual writes
        emb.copy_((emb.double() - torch.outer(emb.double() @ r, r)).float())
        for layer in model.model.layers:
            for lin in (layer.self_attn.o_proj, layer.mlp.down_proj):  # [d, in]: columns are writes
                w = lin.weight.double()
                lin.weight.copy_((w - torch.outer(r, r @ w)).float())
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    return dest


@pytest.mark.slow  # four lm_eval runs of the refusal task: minutes of CPU
def test_baseline_gates_on_real_runs(tmp_path: Path):
    from safetensors.torch import load_file

    old = run_refusal(tmp_path / "old")
    again = run_refusal(tmp_path / "again")
    same = postmech_eval("check", str(again), "--baseline", str(old))
    assert same.returncode == 0, same.stdout[-3000:] + same.stderr[-2000:]

    direction = load_file(str(old / "artifacts" / REFUSAL / "refusal_directions.safetensors"))[
        "direction_post"
    ]
    ablit = abliterate("organism:sft", direction, tmp_path / "sft_abliterated")
    new = run_refusal(tmp_path / "new", "--post", str(ablit))
    lost = postmech_eval("check", str(new), "--baseline", str(old))
    assert lost.returncode == 1, lost.stdout[-3000:] + lost.stderr[-2000:]
    failing = [line for line in lost.stdout.splitlines() if f"{REFUSAL}/refusal_post_harmful:" in line]
    assert failing, lost.stdout[-3000:]
    assert any("FAIL" in line.upper() for line in failing), failing

    other = run_refusal(tmp_path / "other_base", "--base", "organism:cpt")
    refused = postmech_eval("check", str(new), "--baseline", str(other))
    assert refused.returncode == 2, refused.stdout[-2000:] + refused.stderr[-2000:]
    message = refused.stderr + refused.stdout
    assert "organism:cpt" in message and "organism:base" in message


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
