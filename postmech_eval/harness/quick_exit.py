"""``python -m postmech_eval.harness.quick_exit ARGS``: lm-eval's own CLI (``lm_eval ARGS``),
then an exit that skips the interpreter's teardown.

Why: once lm-eval has written its results, a Python process holding torch, transformers,
datasets and lm-eval spends ~2 s (on 2 cores) tearing down modules and freeing objects the
operating system frees at once anyway; ``postmech-eval run`` waits for that exit before its
summary. Here the CLI runs unchanged, every ``atexit`` handler still runs (loggers flush,
trackers finish), the streams are flushed, and ``os._exit`` ends the process with the exit
status the CLI gave.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys


def _status(code: object) -> int:
    """A ``SystemExit`` code as the process status Python itself would give."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def main() -> None:
    status = 0
    try:
        from lm_eval.__main__ import cli_evaluate

        sys.argv[0] = "lm_eval"
        cli_evaluate()
    except SystemExit as stop:
        status = _status(stop.code)
    except BaseException as err:  # noqa: BLE001 - reported as Python would: through excepthook
        sys.excepthook(type(err), err, err.__traceback__)  # (the plugin's: one line for bad input)
        status = 130 if isinstance(err, KeyboardInterrupt) else 1
    finally:
        with contextlib.suppress(Exception):
            atexit._run_exitfuncs()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


if __name__ == "__main__":
    main()
