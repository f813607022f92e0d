"""Resident memory of one model loaded alone (load + a short greedy generate).

Why: issue 5's acceptance compares the refusal task's peak RSS on a one-at-a-time pair of two
copies of a model with this figure (target <= 1.3x). Run under ``/usr/bin/time -v`` and read
"Maximum resident set size"; the script also prints ru_maxrss itself.

    /usr/bin/time -v python benchmarks/rss_model_alone.py gguf:gemma3-270m
"""

from __future__ import annotations

import resource
import sys

import torch

from postmech_eval.engine.generation import generate
from postmech_eval.models.specs import load_model


def main(spec: str = "gguf:gemma3-270m", max_new_tokens: int = 8) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model, tok = load_model(spec)
    prompts = ["User: Give three tips for staying healthy.\nAssistant:"]
    text = generate(model, tok, prompts, max_new_tokens=max_new_tokens, progress=False)[0]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"spec={spec} completion={text!r} ru_maxrss_mib={peak_mib:.0f}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
