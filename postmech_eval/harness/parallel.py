"""A run's postmech analyses spread over forked copies of the lm_eval process (``jobs``).

Why: a small pair (the bundled organisms: 128 wide, 6 layers) is bound by the fixed cost of
each of its many small ops, not by arithmetic, so a second torch thread barely helps: on 2
cores the five organism analyses took 60.9 s with one thread and 55.8 s with two, with the
same metrics. lm-eval hands every ``generate_until`` request of a run to the model in one
call, so all of the run's analyses are known at once: here they are split into ``jobs``
groups of about equal cost, and each group after the first runs in a copy of this process
made by ``fork`` once the imports are done and the pair is loaded (a second lm_eval process
would pay the ~10 s start-up again), each process with one torch thread. A child hands each
task's answers back as a JSON file as soon as the task is done; a task whose answers do not
come back (the child crashed or was killed) is run again here, so nothing is lost and an
error surfaces as it would in one process.

Every task's numbers are the same in any split: a task reads only its own items, settings
and seeds, and the models in a child are the parent's, byte for byte. Forking is used only
where it is safe and pays: one rank, the models on the CPU (a CUDA context does not survive a
fork), both resident (not ``one_at_a_time``), and, for ``jobs=auto``, weights of at most
:data:`SMALL_PAIR_BYTES` on two or more cores (a large pair is arithmetic-bound, and a copy's
pages diverge as it runs). The children use one thread each (as PyTorch's DataLoader workers
do after a fork: OpenMP's thread pool does not survive one).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from postmech_eval.atomic import write_text
from postmech_eval.config import UserError

log = logging.getLogger(__name__)

#: weights (both models, resident) up to which ``jobs=auto`` forks: the organisms are ~3 MB
SMALL_PAIR_BYTES = 256 << 20
#: relative cost of each task (seconds on the organism pair, one thread): what the split balances
TASK_COST = {
    "postmech_knowledge_patching": 26.0,
    "postmech_truth_probe": 8.5,
    "postmech_truth_steering": 5.7,
    "postmech_refusal_transfer": 16.3,
    "postmech_entropy_neurons": 4.7,
}
#: tasks kept in one process: they read the same statement captures from the item cache
TOGETHER: tuple[tuple[str, ...], ...] = (("postmech_truth_probe", "postmech_truth_steering"),)


def parse_jobs(value: object) -> int | None:
    """The ``jobs`` model argument: ``auto`` (None) or a positive number of processes."""
    if value is None or value == "auto":
        return None
    text = str(value).strip()
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise UserError(
        f"The 'jobs' parameter of postmech must be 'auto' or a positive integer. Got {value!r} instead."
    )


def cpu_cores() -> int:
    """Cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def units(tasks: Sequence[str]) -> list[list[str]]:
    """The tasks as groups that stay in one process (:data:`TOGETHER`), in the given order."""
    out: list[list[str]] = []
    placed: set[str] = set()
    for task in tasks:
        if task in placed:
            continue
        group = next((g for g in TOGETHER if task in g), (task,))
        unit = [t for t in tasks if t in group]
        placed.update(unit)
        out.append(unit)
    return out


def split(tasks: Sequence[str], jobs: int) -> list[list[str]]:
    """``tasks`` over at most ``jobs`` processes, the costliest unit first onto the least
    loaded process (:data:`TASK_COST`; unknown tasks cost 1); each keeps the given order."""
    groups = units(tasks)
    jobs = max(1, min(jobs, len(groups)))
    if jobs == 1:
        return [list(tasks)] if tasks else []
    load = [0.0] * jobs
    member: dict[str, int] = {}
    for unit in sorted(groups, key=lambda u: -sum(TASK_COST.get(t, 1.0) for t in u)):
        j = min(range(jobs), key=lambda i: (load[i], i))
        load[j] += sum(TASK_COST.get(t, 1.0) for t in unit)
        member.update(dict.fromkeys(unit, j))
    return [g for g in ([t for t in tasks if member[t] == j] for j in range(jobs)) if g]


def choose_jobs(
    requested: int | None, n_tasks: int, *, world_size: int, on_cpu: bool, both_resident: bool,
    pair_bytes: Callable[[], int], cores: int,
) -> int:  # fmt: skip
    """How many processes run this call's tasks (1: no fork); see the module docstring.
    ``pair_bytes`` is asked only when the answer depends on it (it may load a model)."""
    if n_tasks < 2 or requested == 1 or world_size > 1 or not on_cpu or not both_resident:
        return 1
    if not hasattr(os, "fork"):
        return 1
    if requested is not None:
        return requested
    return 2 if cores >= 2 and pair_bytes() <= SMALL_PAIR_BYTES else 1


def _die_with_parent() -> None:
    """Linux: the child gets SIGKILL if the lm_eval process dies first (no orphaned work)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _child(tasks: Sequence[str], run_task: Callable[[str], list[str]], scratch: Path) -> None:
    """In the forked copy: run ``tasks``, each one's answers to ``scratch/<task>.json``; exit."""
    code = 1
    try:
        _die_with_parent()
        import torch

        torch.set_num_threads(1)
        for task in tasks:
            write_text(scratch / f"{task}.json", json.dumps(run_task(task)))
        code = 0
    except BaseException:  # noqa: BLE001 - reported, and the parent reruns what is missing
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def run_tasks(
    tasks: Sequence[str], run_task: Callable[[str], list[str]], jobs: int, scratch: Path
) -> dict[str, list[str]]:
    """``{task: run_task(task)}``, the tasks split over ``jobs`` processes (this one runs the
    first group; ``scratch``: an empty folder of this run for the children's answers)."""
    groups = split(tasks, jobs)
    if len(groups) <= 1:
        return {t: run_task(t) for t in tasks}
    import torch

    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    threads = torch.get_num_threads()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # else tokenizers warns at the fork
    children: list[tuple[int, list[str]]] = []
    out: dict[str, list[str]] = {}
    try:
        for group in groups[1:]:
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(group, run_task, scratch)
            children.append((pid, group))
        torch.set_num_threads(1)
        for task in groups[0]:
            out[task] = run_task(task)
        while children:
            pid, group = children[0]
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            for task in group:
                path = scratch / f"{task}.json"
                if path.is_file():
                    out[task] = json.loads(path.read_text())
                    continue
                log.warning(
                    "postmech: the forked job running %s ended with status %s; running it here", task, status
                )
                out[task] = run_task(task)
    finally:
        for pid, _ in children:  # interrupted: stop the copies too
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGINT)
                os.waitpid(pid, 0)
        torch.set_num_threads(threads)
        shutil.rmtree(scratch, ignore_errors=True)
    return {t: out[t] for t in tasks}
