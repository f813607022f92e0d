"""``--model postmech``: an lm-eval HFLM over the post-trained model that also knows its base.

Stock lm-eval tasks run on the post model through the inherited HFLM methods. Requests of the
``postmech_*`` tasks carry their analysis item in ``request.doc``; they are grouped per task and
each analysis runs once over the pair (see ``postmech_eval.harness.task``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM

from postmech_eval.analyses import AnalysisResult
from postmech_eval.analyses.catalogue import (
    build_config,
    check_emitted,
    check_uncertainty,
    spec_for,
    task_metrics,
)
from postmech_eval.analyses.metrics import emitted_names
from postmech_eval.atomic import write_text
from postmech_eval.config import UserError, parse_bool
from postmech_eval.engine.shard import running
from postmech_eval.harness import pacing, parallel
from postmech_eval.harness import task as task_support

log = logging.getLogger(__name__)

#: Present in a task's artifacts folder while its analysis runs (left behind by a kill).
INCOMPLETE = ".incomplete"
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
    ``postmech_artifacts/<pair>``), ``on_task_error`` (``raise``, or ``continue``: a failing
    analysis writes ``<task>/error.json`` and NaN metrics so the other tasks' results are still
    saved; ``postmech-eval run`` uses it and reports the failure), ``progress`` (one
    ``[postmech]`` line per analysis on stderr), ``allow_tokenizer_mismatch`` (compare a
    pair whose tokenizers split text differently; refused by default), ``cache`` (per-item
    results under ``artifacts_dir/.cache``, content-addressed, so a killed run resumes; on by
    default), ``figures`` (an analysis draws its figures as it finishes; on by default;
    ``postmech-eval run`` turns it off and draws each task's figures from its artifacts as
    soon as the task is done, while the later analyses run: ``harness.pacing``), ``jobs``
    (``auto``, or how many processes run a call's analyses: a small pair's are split over
    forked copies of this process, ``harness.parallel``; 1 = all here, one after another).

    Data parallel (``accelerate launch`` / ``torchrun``, on GPUs or CPU processes): lm-eval
    gives each rank every k-th doc; ``generate_until`` gathers all ranks' docs, every rank runs
    the analysis on all of them with its per-item work sharded
    (``postmech_eval.engine.shard``), and answers its own docs, so the pair metrics agree on
    every rank and lm-eval's gather of per-doc values is exact. Only rank 0 writes artifacts.
    """

    def __init__(
        self,
        base: str = DEFAULT_BASE,
        post: str = DEFAULT_POST,
        one_at_a_time: bool | str = False,
        artifacts_dir: str | None = None,
        on_task_error: str = "raise",
        progress: bool | str = False,
        allow_tokenizer_mismatch: bool | str = False,
        cache: bool | str = True,
        figures: bool | str = True,
        jobs: int | str = "auto",
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
            raise UserError(
                "The 'pretrained' argument of postmech is the post model; pass it as post=... "
                f"(got pretrained={pretrained!r}, post={post!r})."
            )
        from postmech_eval.harness import plugin

        if plugin.LAST_METADATA:  # lm_eval's --metadata, seen by its TaskManager before us
            task_support.check_metadata_keys(plugin.LAST_METADATA)
        task_support.check_requested(plugin.REQUESTED_TASKS, plugin.LAST_METADATA or {})
        # Fail on a bad name before any weights load (one message, naming the argument).
        for arg, spec in (("base", base), ("post", post)):
            try:
                resolve_spec(spec)
            except (KeyError, ValueError, TypeError, FileNotFoundError) as err:
                raise UserError(f"bad {arg}={spec!r}: {err}") from None
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # parallelize=True (HFLM's accelerate device_map): the base model is placed the same way
        device_map = parse_bool(kwargs.get("parallelize", False), "parallelize", "postmech")
        dtype = dtype or ("float32" if device == "cpu" else "auto")
        trust = parse_bool(trust_remote_code, "trust_remote_code", "postmech")
        if on_task_error not in ("raise", "continue"):
            raise UserError(
                f"The 'on_task_error' parameter of postmech must be 'raise' or 'continue'. Got {on_task_error!r} instead."
            )
        self.on_task_error = on_task_error
        self.cache = parse_bool(cache, "cache", "postmech")
        self.figures = parse_bool(figures, "figures", "postmech")
        self.jobs = parallel.parse_jobs(jobs)
        self.progress = parse_bool(progress, "progress", "postmech")
        self.base_spec, self.post_spec = base, post
        self.one_at_a_time = parse_bool(one_at_a_time, "one_at_a_time", "postmech")
        pair_name = f"{_slug(base)}__{_slug(post)}"
        self.artifacts_dir = Path(artifacts_dir or Path("postmech_artifacts") / pair_name)
        _check_writable(self.artifacts_dir, "artifacts_dir")
        # Both configs (hub ids included) and both tokenizers are checked here, before HFLM
        # loads the post weights: a wrong pair costs seconds, not a model load.
        self.pair = ModelPair(
            base,
            post,
            dtype=dtype if dtype != "auto" else "float32",
            device="auto" if device_map else device,
            trust_remote_code=trust,
            one_at_a_time=self.one_at_a_time,
            allow_tokenizer_mismatch=parse_bool(
                allow_tokenizer_mismatch, "allow_tokenizer_mismatch", "postmech"
            ),
        )
        super().__init__(
            pretrained=str(resolve_spec(post)),
            device=device,
            dtype=dtype,
            trust_remote_code=trust,
            **kwargs,
        )
        self.pair.device = "auto" if device_map else str(self.device)
        accelerator = getattr(self, "accelerator", None)
        if accelerator is not None and accelerator.num_processes > 1 and self._world_size == 1:
            # HFLM turns on data parallel only with > 1 GPU; CPU processes (gloo) and several
            # processes sharing one device take part the same way.
            self._rank, self._world_size = accelerator.process_index, accelerator.num_processes
        # The pair reuses the post model and tokenizer HFLM already holds instead of loading them
        # twice (Gemma-3's 262k-token tokenizer alone is ~300 MB resident).
        self.pair.adopt("post", self.model, self.tokenizer)

    # ------------------------------------------------------------------ lm-eval entry points
    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        ours: dict[str, dict[int, list[int]]] = {}  # task -> doc_id -> request indices
        others: list[int] = []
        for i, request in enumerate(requests):
            doc = request.doc if isinstance(request.doc, dict) else {}
            task = doc.get(task_support.TASK_KEY)
            if task is None:
                others.append(i)
            else:  # lm-eval pads a rank's list with copies of its last request: one doc each
                ours.setdefault(task, {}).setdefault(int(request.doc_id), []).append(i)
        answers: list[str | None] = [None] * len(requests)
        by_task = self._all_ranks_docs(ours, requests)
        jobs = self._jobs(len(by_task))
        if jobs > 1:
            self._say(
                f"{len(by_task)} analyses in {jobs} processes side by side (jobs={self.jobs or 'auto'})"
            )
        done = parallel.run_tasks(
            list(by_task),
            lambda task: self._run_or_record(task, [doc for _, doc in by_task[task]]),
            jobs,
            self.artifacts_dir / ".jobs",
        )
        for task, docs in by_task.items():
            texts = done[task]
            if self.world_size > 1 and self.rank == 0:
                texts = _name_absent_items(texts, [d in ours.get(task, {}) for d, _ in docs])
            for (doc_id, _), text in zip(docs, texts, strict=True):
                for i in ours.get(task, {}).get(doc_id, []):
                    answers[i] = text
        if others:
            stock = super().generate_until([requests[i] for i in others], disable_tqdm=disable_tqdm)
            for i, text in zip(others, stock, strict=True):
                answers[i] = text
        return [a if a is not None else "" for a in answers]

    def _jobs(self, n_tasks: int) -> int:
        """Processes for this call's analyses (``harness.parallel``); may load base (which
        the analyses load anyway) to weigh the pair."""

        def pair_bytes() -> int:
            models = [self.pair.get(w)[0] for w in ("base", "post")]
            return sum(t.numel() * t.element_size() for m in models for t in (*m.parameters(), *m.buffers()))

        return parallel.choose_jobs(
            self.jobs, n_tasks, world_size=self.world_size,
            on_cpu=str(self.device) == "cpu" and self.pair.device == "cpu",
            both_resident=not self.one_at_a_time, pair_bytes=pair_bytes, cores=parallel.cpu_cores(),
        )  # fmt: skip

    def gather_object(self, obj: Any, dst: int = 0) -> Any:
        """HFLM's gather, then each rank's per-doc metrics completed for lm-eval's merge.

        lm-eval merges ranks by rank 0's metric keys and looks each one up in every rank's
        dict. A postmech doc leaves out item metrics that do not apply to it (a harmful prompt
        has no harmless rate), so with few docs, or docs of one kind per rank (the refusal
        docs alternate harmful / harmless: two ranks get one kind each), a rank lacks keys.
        Rank 0 names its missing ones with ``None`` on its first doc (``_name_absent_items``);
        here the ``None`` markers are dropped and absent keys become empty lists, so every
        mean is over exactly the docs that carry the metric, as in one process."""
        gathered = super().gather_object(obj, dst=dst)
        if gathered is None or self.world_size <= 1:
            return gathered
        return _complete_ranks(gathered)

    def _runtime(self) -> Any:
        from postmech_eval.engine.shard import Runtime

        return Runtime(
            rank=self.rank,
            world_size=self.world_size,
            cache_dir=self.artifacts_dir / ".cache" if self.cache else None,
        )

    def _all_ranks_docs(
        self, ours: dict[str, dict[int, list[int]]], requests: list[Any]
    ) -> dict[str, list[tuple[int, dict[str, Any]]]]:
        """Every rank's postmech docs, per task in doc order — the same on every rank, so all
        ranks run the same analyses over the same items (each computing its share)."""
        from postmech_eval.engine.shard import all_gather

        mine = {
            task: [(d, requests[idx[0]].doc) for d, idx in sorted(docs.items())]
            for task, docs in ours.items()
        }
        merged: dict[str, dict[int, dict[str, Any]]] = {}
        for shard in all_gather(mine, self._runtime()):
            for task, docs in shard.items():
                merged.setdefault(task, {}).update(dict(docs))
        return {task: sorted(merged[task].items()) for task in merged}

    def _say(self, text: str) -> None:
        if self.progress:
            print(f"[postmech] {text}", file=sys.stderr, flush=True)

    def _run_or_record(self, task: str, docs: list[dict[str, Any]]) -> list[str]:
        """``run_analysis``; with ``on_task_error=continue`` a failure is written down and the
        task's metrics are NaN, so one broken perspective does not lose the others."""
        out_dir = self.artifacts_dir / task
        marker = out_dir / INCOMPLETE
        if self.rank == 0:  # the writer of artifacts
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / "error.json").unlink(missing_ok=True)
            (out_dir / "result.json").unlink(missing_ok=True)  # a stale summary must not look current
            # Until this task finishes (or its failure is written down) its folder is marked: a
            # kill (SIGINT, SIGKILL) leaves the marker, and readers skip the half-written files.
            _write_json(marker, {"task": task, "pid": os.getpid(), "started": time.time()})
        start = time.perf_counter()
        self._say(f"{task}: {len(docs)} items ...")
        try:
            answers = self.run_analysis(task, docs)
        except Exception as err:
            if self.on_task_error == "raise":
                raise
            log.exception("postmech: %s failed", task)
            if self.rank == 0:
                out_dir.mkdir(parents=True, exist_ok=True)
                _write_json(
                    out_dir / "error.json",
                    {
                        "task": task,
                        "error": f"{type(err).__name__}: {err}",
                        "traceback": traceback.format_exc(),
                    },
                )
                marker.unlink(missing_ok=True)
            self._say(f"{task}: FAILED ({type(err).__name__}: {err})")
            metrics = task_metrics(task)
            nan = dict.fromkeys(emitted_names(m for m in metrics if m.kind == "pair"), math.nan)
            nan_items = {m.name: math.nan for m in metrics if m.kind == "item"}
            return [task_support.encode_response({"error": str(err)}, nan, 0, nan_items) for _ in docs]
        marker.unlink(missing_ok=True)
        drawing = pacing.marker()
        if drawing is not None and self.rank == 0 and self.progress:
            drawing.touch()  # the suite draws this task's figures once it reads the line below
        self._say(f"{task}: done in {time.perf_counter() - start:.0f}s")
        return answers

    def run_analysis(self, task: str, docs: list[dict[str, Any]]) -> list[str]:
        """Run one analysis over these docs; one JSON answer per doc."""
        kwargs = json.loads(docs[0].get(task_support.CONFIG_KEY) or "{}")
        config = build_config(task, kwargs)
        if not self.figures and "figures" in {f.name for f in dataclasses.fields(config)}:
            config = dataclasses.replace(config, figures=False)
        run, _, _ = spec_for(task).load()
        items = [task_support.strip_doc(d) for d in docs]
        # only rank 0 writes artifacts (every rank computes the same result)
        out_dir = self.artifacts_dir / task if self.rank == 0 else None
        runtime = self._runtime()
        drawing = pacing.marker()
        pacer = runtime.pace = pacing.ThreadPacer(drawing) if drawing is not None else None
        started = time.perf_counter()
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
            if pacer is not None:
                pacer()
            with running(runtime):
                result: AnalysisResult = run(self.pair, config, items=items, output_dir=out_dir)
        finally:
            if pacer is not None:
                pacer.restore()
            if self.one_at_a_time:
                self._model, self.tokenizer = self.pair.get("post")
        check_emitted(task, result.metrics)
        if len(result.records) != len(items):
            raise RuntimeError(
                f"{task}: analysis returned {len(result.records)} records for {len(items)} items"
            )
        per_item = result.item_metrics or [{} for _ in items]
        if len(per_item) != len(items):
            raise RuntimeError(f"{task}: {len(per_item)} per-item metric rows for {len(items)} items")
        check_uncertainty(task, result.metrics, per_item, result.intervals)
        doc_items, pair_values = _lm_eval_values(task, result, per_item)
        # which stream "layer" means in this analysis (METHODS: h_l = resid_post, r_l = resid_pre)
        result.config.setdefault("layer_stream", type(config).LAYER_STREAM)
        summary = {
            "task": task,
            "seconds": round(time.perf_counter() - started, 2),
            "base": self.base_spec,
            "post": self.post_spec,
            "metrics": result.metrics,
            "intervals": {k: list(v) for k, v in result.intervals.items()},
            "uncertainty": result.uncertainty,
            # docs each item metric is a mean over (lm-eval's own count is the task's largest)
            "item_counts": {
                m.name: sum(m.name in row for row in per_item) for m in task_metrics(task) if m.kind == "item"
            },
            "config": result.config,
            "seed": result.seed,
            "artifacts": result.artifacts,
            # content fingerprints of the weights (config + strided weight digest), per model
            **{f"{w}_fingerprint": fp for w, fp in getattr(self.pair, "fingerprints", {}).items()},
            "items": {
                "rank": self.rank,
                "world_size": self.world_size,
                "cache": str(runtime.cache_dir) if runtime.cache_dir else None,
                "steps": runtime.stats,
            },
        }
        if self.world_size > 1:
            done = {s: v["computed"] + v["cached"] for s, v in runtime.stats.items()}
            print(
                f"[postmech rank {self.rank}/{self.world_size}] {task}: per-item steps done here "
                + ", ".join(f"{s} {n}/{runtime.stats[s]['total']}" for s, n in done.items()),
                file=sys.stderr,
                flush=True,
            )
        answers = [
            task_support.encode_response(rec, pair_values, result.seed, item)
            for rec, item in zip(result.records, doc_items, strict=True)
        ]
        if out_dir is None:
            return answers
        # Per-item records always (not only with --log_samples): every interval and standard
        # error can be recomputed offline from them and the analysis' own artifacts.
        write_text(
            out_dir / "records.jsonl",
            "".join(json.dumps(r, default=str, allow_nan=True) + "\n" for r in result.records),
        )
        _write_json(out_dir / "result.json", summary)
        return answers


def _lm_eval_values(
    task: str, result: AnalysisResult, per_item: list[dict[str, float]]
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """What lm-eval receives: per doc, its item-metric values (mean aggregation gives the
    reported mean and its ``_stderr``); for every doc alike, the pair metrics and the CI
    bounds (``first`` aggregation). An item metric no doc contributes to (e.g. no harmless
    prompt under ``--limit 1``) is NaN on the first doc, so it still appears in the results."""
    pair_values: dict[str, float] = {}
    doc_items = [dict(row) for row in per_item]
    for m in task_metrics(task):
        if m.kind == "item":
            if doc_items and not any(m.name in row for row in doc_items):
                doc_items[0][m.name] = math.nan
            continue
        pair_values[m.name] = result.metrics[m.name]
        if m.has_interval:
            lo, hi = result.intervals[m.name]
            pair_values.update(zip(m.interval_names, (lo, hi), strict=True))
    return doc_items, pair_values


def _name_absent_items(texts: list[str], local: list[bool]) -> list[str]:
    """Rank 0's answers with every item metric that some doc (of any rank) carries but none of
    rank 0's docs does set to ``None`` on rank 0's first doc (see ``gather_object``)."""
    answers = [json.loads(t) for t in texts]
    everywhere = {k for a in answers for k in a.get("item", {})}
    here = {k for a, mine in zip(answers, local, strict=True) if mine for k in a.get("item", {})}
    missing = sorted(everywhere - here)
    if not missing or True not in local:
        return texts
    first_local = local.index(True)
    answers[first_local]["item"].update(dict.fromkeys(missing))
    texts = list(texts)
    texts[first_local] = json.dumps(answers[first_local], default=str)
    return texts


def _complete_ranks(gathered: list[Any]) -> list[Any]:
    """Per-rank {task: {(metric, filter): values}} completed to the same keys, ``None`` dropped;
    per-rank {task: [logged samples]} without the ``None`` markers."""
    tasks = {t for rank in gathered if isinstance(rank, dict) for t in rank}
    for task in tasks:
        parts = [rank.get(task) for rank in gathered]
        if all(isinstance(p, dict) for p in parts):  # raw metrics
            keys = {k for p in parts for k in p}
            for p in parts:
                for k in keys:
                    p[k] = [v for v in p.get(k, []) if v is not None]
        elif all(isinstance(p, list) for p in parts):  # logged samples
            for p in parts:
                for example in p:
                    if isinstance(example, dict):
                        absent = [
                            k for k, v in example.items() if v is None and k in example.get("metrics", [])
                        ]
                        for k in absent:
                            del example[k]
                        if absent:
                            example["metrics"] = [m for m in example["metrics"] if m not in absent]
    return gathered


def _write_json(path: Path, obj: Any) -> None:
    """Write whole or not at all (a temporary name, then an atomic rename)."""
    write_text(path, json.dumps(obj, indent=2, default=str))


def _check_writable(folder: Path, name: str) -> None:
    """Refuse an output folder that is a file or cannot be created/written, before any work."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UserError(
            f"the {name!r} parameter of postmech must be a directory. Got {str(folder)!r}, under a file."
        )
    if not os.access(probe, os.W_OK):
        raise UserError(
            f"the {name!r} parameter of postmech must be writable. Got {str(folder)!r} ({probe} is read-only)."
        )
