#!/usr/bin/env python3
"""Compare the junit XML of run.sh without / with postmech-eval.

usage: compare.py [results_without.xml results_with.xml]   (defaults: /tmp/lmeval_suite/results_*.xml)
Exit status 0 if the per-test outcomes are identical, 1 if they differ.
"""

import os
import sys
import xml.etree.ElementTree as ET

BASE = "/tmp/lmeval_suite"
SRC = os.path.join(BASE, "src")
RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def node_id(classname: str, name: str) -> str:
    """junit classname 'tests.models.test_x.TestY' + name -> 'tests/models/test_x.py::TestY::name'."""
    if not classname:  # collection error: name is the dotted module path
        return name.replace(".", "/") + ".py" if not name.endswith(".py") else name
    parts = classname.split(".")
    for i in range(len(parts), 0, -1):
        if os.path.isfile(os.path.join(SRC, *parts[:i]) + ".py"):
            return "::".join(["/".join(parts[:i]) + ".py", *parts[i:], name])
    return f"{classname}::{name}"


def load(path: str) -> dict:
    out = {}
    for tc in ET.parse(path).iter("testcase"):
        tags = {ch.tag for ch in tc}
        outcome = (
            "error"
            if "error" in tags
            else "failed"
            if "failure" in tags
            else "skipped"
            if "skipped" in tags
            else "passed"
        )
        nid = node_id(tc.get("classname", ""), tc.get("name", ""))
        if nid not in out or RANK[outcome] > RANK[out[nid]]:  # e.g. pass + teardown error -> error
            out[nid] = outcome
    return out


def counts(d: dict) -> str:
    c = {k: 0 for k in RANK}
    for v in d.values():
        c[v] += 1
    return f"{len(d)} tests: " + ", ".join(f"{k}={c[k]}" for k in ("passed", "failed", "skipped", "error"))


def main() -> int:
    a_path, b_path = (
        sys.argv[1:3] if len(sys.argv) >= 3 else (f"{BASE}/results_without.xml", f"{BASE}/results_with.xml")
    )
    a, b = load(a_path), load(b_path)
    print(f"without: {counts(a)}   [{a_path}]")
    print(f"with:    {counts(b)}   [{b_path}]")
    diff = sorted(t for t in set(a) | set(b) if a.get(t) != b.get(t))
    print(f"tests run (union of both modes): {len(set(a) | set(b))}")
    print(f"differing outcomes: {len(diff)}")
    for t in diff:
        print(f"  {t}: without={a.get(t, 'absent')} with={b.get(t, 'absent')}")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
