"""``--model postmech``: an lm-eval HFLM over the post-trained model that also knows its base.

Stock lm-eval tasks run on the post model through the inherited HFLM methods. Requests of the
``postmech_*`` tasks carry their analysis item in ``request.doc``; they are grouped per task and
each analysis runs once over the pair (see ``postmech_eval.harness.task``).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.catalogue import check_emitted
from postmech_eval.harness import task as task_support

log = logging.getLogger(__name__)

DEFAULT_BASE = "organism:base"
DEFAULT_POST = "organism:sft"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "model"


@register_model("postmech")
class PostMechLM(HFLM):
    """HFLM over ``post`` plus a lazily loaded ``base``, for the pair analyses.

    Args beyond HFLM's: ``base``/``post`` (hub id, local directory or ``organism:NAME``),
    ``one_at_a_time`` (never keep both models resident when an analysis needs only one),
    ``artifacts_dir`` (where heatmaps, directions and per-item files go; default
    ``postmech_artifacts/<pair>``).
    """

    def __init__(
        self,
        base: str = DEFAULT_BASE,
        post: str = DEFAULT_POST,
        one_at_a_time: bool | str = False,
        artifacts_dir: str | None = None,
        pretrained: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        trust_remote_code: bool | str = False,
        **kwargs: Any,
    ) -> None:
        import torch

        from postmech_eval.models.pair import ModelPair
        from postmech_eval.models.specs import resolve_spec

        if pretrained is not None and pretrained != post:
            raise ValueError(
                "The 'pretrained' argument of postmech is the post model; pass it as post=... "
                f"(got pretrained={pretrained!r}, post={post!r})."
            )
        # Fail on a bad name before any weights load (one message, naming the argument).
        for arg, spec in (("base", base), ("post", post)):
            try:
                resolve_spec(spec)
            except (KeyError, ValueError, FileNotFoundError) as err:
                raise ValueError(f"postmech: bad {arg}={spec!r}: {err}") from None
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = dtype or ("float32" if device == "cpu" else "auto")
        trust = str(trust_remote_code).lower() in ("true", "1", "yes")
        self.base_spec, self.post_spec = base, post
        self.one_at_a_time = str(one_at_a_time).lower() in ("true", "1", "yes")
        pair_name = f"{_slug(base)}__{_slug(post)}"
        self.artifacts_dir = Path(artifacts_dir or Path("postmech_artifacts") / pair_name)
        super().__init__(
            pretrained=str(resolve_spec(post)),
            device=device,
            dtype=dtype,
            trust_remote_code=trust,
            **kwargs,
        )
        self.pair = ModelPair(
            base,
            post,
            dtype=dtype if dtype != "auto" else "float32",
            device=str(self.device),
            trust_remote_code=trust,
            one_at_a_time=self.one_at_a_time,
        )
        # The pair reuses the post model and tokenizer HFLM already holds instead of loading them
        # twice (Gemma-3's 262k-token tokenizer alone is ~300 MB resident).
        self.pair.adopt("post", self.model, self.tokenizer)

    # ------------------------------------------------------------------ lm-eval entry points
    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        ours: dict[str, list[int]] = {}
        others: list[int] = []
        for i, request in enumerate(requests):
            doc = request.doc if isinstance(request.doc, dict) else {}
            task = doc.get(task_support.TASK_KEY)
            if task is None:
                others.append(i)
            else:
                ours.setdefault(task, []).append(i)
        answers: list[str | None] = [None] * len(requests)
        for task, indices in ours.items():
            docs = [requests[i].doc for i in indices]
            for i, text in zip(indices, self.run_analysis(task, docs), strict=True):
                answers[i] = text
        if others:
            stock = super().generate_until([requests[i] for i in others], disable_tqdm=disable_tqdm)
            for i, text in zip(others, stock, strict=True):
                answers[i] = text
        return [a if a is not None else "" for a in answers]

    def run_analysis(self, task: str, docs: list[dict[str, Any]]) -> list[str]:
        """Run one analysis over these docs; one JSON answer per doc."""
        kwargs = json.loads(docs[0].get(task_support.CONFIG_KEY) or "{}")
        config = task_support.build_config(task, kwargs)
        run, _, _ = task_support.spec_for(task).load()
        items = [task_support.strip_doc(d) for d in docs]
        out_dir = self.artifacts_dir / task
        out_dir.mkdir(parents=True, exist_ok=True)
        log.info(
            "postmech: running %s on %d items (base=%s, post=%s)",
            task,
            len(items),
            self.base_spec,
            self.post_spec,
        )
        if self.one_at_a_time:
            # Let go of HFLM's references (model and tokenizer) so the pair can free the post
            # model while the base model is resident; handed back (reloaded if needed) afterwards.
            self._model = None
            self.tokenizer = None
        try:
            result: AnalysisResult = run(self.pair, config, items=items, output_dir=out_dir)
        finally:
            if self.one_at_a_time:
                self._model, self.tokenizer = self.pair.get("post")
        check_emitted(task, result.metrics)
        if len(result.records) != len(items):
            raise RuntimeError(
                f"{task}: analysis returned {len(result.records)} records for {len(items)} items"
            )
        # which stream "layer" means in this analysis (METHODS: h_l = resid_post, r_l = resid_pre)
        result.config.setdefault("layer_stream", type(config).LAYER_STREAM)
        summary = {
            "task": task,
            "base": self.base_spec,
            "post": self.post_spec,
            "metrics": result.metrics,
            "config": result.config,
            "seed": result.seed,
            "artifacts": result.artifacts,
        }
        (out_dir / "result.json").write_text(json.dumps(summary, indent=2, default=str))
        return [task_support.encode_response(rec, result.metrics, result.seed) for rec in result.records]
