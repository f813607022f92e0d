"""The lm-eval face of the analyses: one task class for every ``postmech_*`` task.

A postmech task's docs are the analysis' test items. lm-eval hands all of a task's requests to
``PostMechLM.generate_until`` at once; the model runs the analysis once over exactly those items
(so ``--limit`` works as users expect) and answers each request with a JSON string holding the
item's record and the pair-level metrics. ``process_results`` unpacks that; the metrics are
pair-level, so every doc carries the same value and the aggregation takes the first.

:class:`PostMechTask` fills in everything a task YAML would otherwise repeat (docs, prompt,
generation settings, and the metric list with ``higher_is_better`` from the analysis' metric
catalogue), the way lm-eval's own squadv2 task puts its metric metadata in Python. A task
YAML is then its name, this class and its metadata.

Analysis configuration comes from lm-eval's task metadata, which lm-eval builds from
``--model_args`` merged with ``--metadata``: keys that name a field of the task's config
dataclass are used, everything else (model arguments, other tasks' keys) is left alone.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from typing import Any

from lm_eval.api.task import ConfigurableTask

from postmech_eval import __version__
from postmech_eval.analyses.catalogue import (  # noqa: F401  (spec_for, build_config: used by the model)
    ANALYSES,
    HUB_METADATA_KEYS,
    STATEMENT_HUB_KEYS,
    _resolve,
    build_config,
    config_fields,
    spec_for,
    task_metrics,
)
from postmech_eval.config import UnknownNameError, UserError, suggestion

TASK_KEY = "_postmech_task"
CONFIG_KEY = "_postmech_config"


#: The ``postmech`` model's own arguments (lm-eval merges ``--model_args`` into the metadata);
#: a test keeps this equal to ``PostMechLM.__init__``'s parameters.
POSTMECH_MODEL_ARGS: tuple[str, ...] = (
    "base",
    "post",
    "one_at_a_time",
    "artifacts_dir",
    "on_task_error",
    "progress",
    "allow_tokenizer_mismatch",
    "cache",
    "figures",
    "jobs",
    "pretrained",
    "device",
    "dtype",
    "trust_remote_code",
)
#: What lm-eval itself puts in a task's metadata, and the suite version the task class adds
#: (``check --baseline`` refuses a baseline made by another suite version).
LM_EVAL_METADATA_KEYS: tuple[str, ...] = (
    "version",
    "config_source",
    "_metadata",
    "num_fewshot",
    "postmech_eval_version",
)
#: Settings of the stock ``postmech_statements_mc`` task (its ``custom_dataset`` reads them).
STATEMENTS_MC_KEYS: tuple[str, ...] = ("dataset", "split")


@functools.cache
def _known_metadata_keys() -> frozenset[str]:
    """Every key lm-eval may legitimately put in a postmech task's metadata: any analysis'
    setting (``--metadata`` is shared by all tasks of a run), the model's arguments and
    lm-eval's own entries."""
    import inspect

    from lm_eval.models.huggingface import HFLM

    keys = {k for task in ANALYSES for k in config_fields(task)}
    keys |= set(inspect.signature(HFLM.__init__).parameters) - {"self", "kwargs"}
    keys |= {
        *POSTMECH_MODEL_ARGS,
        *LM_EVAL_METADATA_KEYS,
        *HUB_METADATA_KEYS,
        *STATEMENT_HUB_KEYS,
        *STATEMENTS_MC_KEYS,
    }
    return frozenset(keys)


def check_metadata_keys(metadata: dict[str, Any], where: str = "--metadata") -> None:
    """Refuse a key that configures nothing any postmech task or the model knows."""
    for key in metadata:
        if key not in _known_metadata_keys():
            fields = sorted({k for task in ANALYSES for k in config_fields(task)})
            raise UnknownNameError(f"{where}: " + suggestion("key", key, fields))


def check_requested(names: list[str], metadata: dict[str, Any]) -> None:
    """Build the config (and read the data files) of every postmech task among ``names``
    (the group ``postmech`` / tag ``postmech_tasks`` stand for the suite) from ``metadata``:
    a bad value or file is one line before the model loads, not after."""
    from postmech_eval.analyses.catalogue import SUITE_TASKS

    tasks: list[str] = []
    for name in names:
        for task in SUITE_TASKS if name in ("postmech", "postmech_tasks") else [name]:
            if task in ANALYSES and task not in tasks:
                tasks.append(task)
    for task in tasks:
        config = build_config(task, config_kwargs(task, metadata))
        if not spec_for(task).from_hub:  # hub docs are built (and checked) when lm-eval loads them
            spec_for(task).items_loader()(config)


def config_kwargs(task: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The subset of lm-eval metadata that configures this task's analysis.

    A key that configures nothing (no analysis, not the model, not lm-eval) is a typo and is
    refused with this task's valid settings; it never silently falls back to a default.
    """
    fields = config_fields(task)
    for key in metadata:
        if key not in _known_metadata_keys():
            raise UnknownNameError(f"--metadata for {task}: " + suggestion("key", key, fields))
    return {k: v for k, v in metadata.items() if k in fields}


def load_docs(task: str, **metadata: Any):
    """``custom_dataset`` for a postmech task: the analysis' default test items as docs."""
    import datasets

    kwargs = config_kwargs(task, metadata)
    config = build_config(task, kwargs)
    default_items = spec_for(task).items_loader()
    items = default_items(config)
    if not items:
        raise UserError(f"Task {task!r} has no test items with config {kwargs}.")
    payload = json.dumps(kwargs, sort_keys=True, default=str)
    docs = [{**item, TASK_KEY: task, CONFIG_KEY: payload} for item in items]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def strip_doc(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in (TASK_KEY, CONFIG_KEY)}


def doc_to_text(doc: dict[str, Any]) -> str:
    """A readable context for ``--log_samples``; the model reads the doc itself."""
    for key in ("instruction", "statement", "text"):
        if isinstance(doc.get(key), str):
            return doc[key]
    return json.dumps(strip_doc(doc), sort_keys=True, default=str)


def encode_response(
    record: dict[str, Any], metrics: dict[str, float], seed: int, item: dict[str, float] | None = None
) -> str:
    """One doc's answer: its record, the pair-level values (same for every doc) and the
    doc's own item-metric values."""
    return json.dumps({"record": record, "metrics": metrics, "item": item or {}, "seed": seed}, default=str)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    try:
        response = json.loads(results[0])
        metrics = {**response["metrics"], **response.get("item", {})}
    except (json.JSONDecodeError, TypeError, KeyError, IndexError):
        task = doc.get(TASK_KEY, "this postmech task")
        raise UserError(
            f"{task} runs only with --model postmech (the analysis needs the base/post pair); "
            f"the model answered with plain text instead"
        ) from None
    # a doc that does not contribute to an item metric leaves it out (lm-eval then averages
    # that metric over the docs that do); None marks a key absent from a data-parallel rank's
    # docs, dropped again when the ranks are merged (``PostMechLM.gather_object``)
    return {name: None if value is None else _as_float(value) for name, value in metrics.items()}


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def first(values: list[float]) -> float:
    """Aggregation for pair-level metrics: every doc carries the same value."""
    return values[0] if values else math.nan


def _metric_list(task: str) -> list[dict[str, Any]]:
    """lm-eval's metric list: item metrics are means over docs (lm-eval adds ``_stderr``),
    pair metrics and their CI bounds carry the same value on every doc."""
    out: list[dict[str, Any]] = []
    for m in task_metrics(task):
        agg = "mean" if m.kind == "item" else first
        out.append({"metric": m.name, "aggregation": agg, "higher_is_better": m.higher_is_better})
        if m.has_interval:
            out += [{"metric": n, "aggregation": first, "higher_is_better": None} for n in m.interval_names]
    return out


class PostMechTask(ConfigurableTask):
    """Every ``postmech_*`` task: the YAML names the task (and its metadata), this class
    supplies the rest, and the metric list comes from the analysis' catalogue."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        cfg = {k: v for k, v in (config or {}).items() if k != "class"}
        task = cfg.get("task")
        spec = spec_for(task)
        cfg.update(
            custom_dataset=functools.partial(_resolve(spec.docs), task),
            test_split="test",
            output_type="generate_until",
            doc_to_text=doc_to_text,
            doc_to_target="",
            generation_kwargs={"until": [], "max_gen_toks": 1},
            process_results=process_results,
            metric_list=_metric_list(task),
            metadata={**(cfg.get("metadata") or {}), "postmech_eval_version": __version__},
        )
        super().__init__(config=cfg)


def statements_docs(dataset: str = "cities", split: str = "test", **_metadata: Any):
    """``custom_dataset`` of ``postmech_statements_mc``: bundled statements as plain docs."""
    import datasets

    from postmech_eval.data import load_statements

    rows = [dataclasses.asdict(s) for s in load_statements(dataset, split=split)]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})
