"""Make the plain ``lm_eval`` command find ``--model postmech`` and the ``postmech_*`` tasks.

lm-eval 0.4.13 reads no plugin entry points, so ``postmech_eval.pth`` imports this module at
interpreter start-up. It imports only ``sys`` then and installs a ``sys.meta_path`` finder that
does nothing until lm-eval itself is imported: after ``lm_eval.models`` loads, the model is
registered as a lazy "module:Class" string (registering earlier breaks ``--model hf``), and after
``lm_eval.tasks.manager`` loads, our task folder joins every ``TaskManager`` that includes
lm-eval's default tasks (``include_defaults=False`` keeps only the caller's paths). When
lm-eval reads the ``lm_eval.models`` / ``lm_eval.tasks`` entry-point groups itself
(upstream PRs #4013/#4015), each step stands aside and the entry points declared in
``pyproject.toml`` take over.
"""

import logging
import os
import sys

MODEL_NAME = "postmech"
MODEL_TARGET = "postmech_eval.harness.lm:PostMechLM"
_WATCHED = ("lm_eval.models", "lm_eval.tasks.manager")
#: The metadata of the newest TaskManager (see ``_after_task_manager``); None before one exists.
LAST_METADATA: dict | None = None
#: Task names the newest TaskManager matched (lm-eval's CLI matches them before the model).
REQUESTED_TASKS: list[str] = []


def tasks_dir() -> str:
    """The folder of task YAMLs: inside the wheel, or at the top of a source checkout."""
    import os

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    here = package
    for candidate in (os.path.join(package, "tasks"), os.path.join(os.path.dirname(package), "tasks")):
        if os.path.isdir(os.path.join(candidate, "postmech_refusal_transfer")):
            return candidate
    raise FileNotFoundError(f"postmech-eval task folder not found next to {here}")


def _reads_entry_points(module) -> bool:
    """True when this lm-eval version loads plugin entry points on its own."""
    path = getattr(module, "__file__", None)
    if not path:
        return False
    try:
        with open(path, encoding="utf-8") as handle:
            return "entry_points(" in handle.read()
    except OSError:
        return False


def _excepthook(exc_type, exc, tb, _previous=None) -> None:
    """Our user errors (bad spec, config, file, name) end lm_eval with one line, no traceback;
    ``POSTMECH_DEBUG=1`` shows the traceback. Every other exception is untouched."""
    from postmech_eval.config import UserError, debug_enabled, one_line

    cause = exc
    while cause is not None and not isinstance(cause, UserError):  # lm-eval may wrap ours
        cause = cause.__cause__ or cause.__context__
    if cause is not None and not debug_enabled():
        print(one_line(cause), file=sys.stderr)
        return
    (_previous or sys.__excepthook__)(exc_type, exc, tb)


def _install_excepthook() -> None:
    if getattr(sys.excepthook, "_postmech", False):
        return
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        _excepthook(exc_type, exc, tb, previous)

    hook._postmech = True
    sys.excepthook = hook


class _OwnCountsFilter(logging.Filter):
    """Drops lm-eval's "not scored on the same number of documents" warning for postmech
    tasks only: there it is by design (a harmful prompt has no harmless refusal rate, so
    each rate is the mean over its own kind's docs) and the per-metric counts are in each
    task's ``result.json``. Other tasks' warnings pass untouched."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not (text.startswith("[postmech_") and "not scored on the same number of documents" in text)


def _install_log_filter() -> None:
    log = logging.getLogger("lm_eval.evaluator_utils")
    if not any(isinstance(f, _OwnCountsFilter) for f in log.filters):
        log.addFilter(_OwnCountsFilter())


def _after_models(module) -> None:
    from lm_eval.api import registry

    _install_excepthook()
    _install_log_filter()
    if _reads_entry_points(registry) or MODEL_NAME in registry.model_registry:
        return
    registry.model_registry.register(MODEL_NAME, target=MODEL_TARGET)


def _after_task_manager(module) -> None:
    if _reads_entry_points(module) or getattr(module.TaskManager, "_postmech_patched", False):
        return
    original_init = module.TaskManager.__init__

    def __init__(self, *args, include_path=None, include_defaults=True, **kwargs):
        # lm-eval's CLI builds its TaskManager (with --metadata) before the model: keep the
        # metadata so the postmech model can refuse a misspelt key before any weights load.
        global LAST_METADATA
        LAST_METADATA = dict(kwargs.get("metadata") or {})
        REQUESTED_TASKS.clear()
        # Installed plugin tasks count as defaults (as lm-eval's task entry-point proposal
        # treats them): include_defaults=False means only the paths the caller gives.
        paths = include_path
        if include_defaults:
            given = (
                []
                if include_path is None
                else list(include_path)
                if isinstance(include_path, (list, tuple))
                else [include_path]
            )
            paths = [tasks_dir(), *given]
            from postmech_eval.config import SUITE_ONLY_ENV  # set by postmech-eval run

            include_defaults = os.environ.get(SUITE_ONLY_ENV) != "1"
        original_init(self, *args, include_path=paths, include_defaults=include_defaults, **kwargs)

    original_match = module.TaskManager.match_tasks

    def match_tasks(self, task_list, *args, **kwargs):
        # The CLI resolves the task names before it builds the model: remember them, so the
        # postmech model can check every setting of exactly those tasks before any weights.
        matches = original_match(self, task_list, *args, **kwargs)
        REQUESTED_TASKS.extend(m for m in matches if isinstance(m, str) and m not in REQUESTED_TASKS)
        return matches

    module.TaskManager.__init__ = __init__
    module.TaskManager.match_tasks = match_tasks
    module.TaskManager._postmech_patched = True


_CALLBACKS = {"lm_eval.models": _after_models, "lm_eval.tasks.manager": _after_task_manager}


class _Loader:
    """Wraps the real loader so our callback runs right after the module executes."""

    def __init__(self, loader, callback):
        self._loader = loader
        self._callback = callback

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            self._callback(module)
        except Exception as err:  # never break lm-eval itself
            print(f"postmech-eval: could not register with lm-eval: {err}", file=sys.stderr)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class _Finder:
    """A meta-path finder that only looks at the two lm-eval modules we extend."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _CALLBACKS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _Loader(spec.loader, _CALLBACKS[fullname])
                return spec
        return None


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    for name, callback in _CALLBACKS.items():  # lm-eval imported before us: patch in place
        if name in sys.modules:
            callback(sys.modules[name])


install()
