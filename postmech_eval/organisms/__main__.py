"""`python -m postmech_eval.organisms list|path NAME|build|verify [NAME]`."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
