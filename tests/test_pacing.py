"""The analyses' thread budget while ``postmech-eval run`` draws figures (harness.pacing),
with real torch thread counts."""

from __future__ import annotations

import torch

from postmech_eval.config import DRAWING_ENV
from postmech_eval.harness.pacing import ThreadPacer, marker


def test_one_thread_while_the_marker_exists_then_the_count_it_had(tmp_path):
    before = torch.get_num_threads()
    path = tmp_path / ".drawing"
    pacer = ThreadPacer(path)
    try:
        torch.set_num_threads(2)
        pacer()
        assert torch.get_num_threads() == 2  # nothing drawn: untouched
        path.touch()
        pacer()
        assert torch.get_num_threads() == 1
        pacer()
        assert torch.get_num_threads() == 1
        path.unlink()
        pacer()
        assert torch.get_num_threads() == 2  # drawing over: the analysis' own count again
        path.touch()
        pacer()
        pacer.restore()  # the analysis ends while the suite still draws
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_marker_only_under_the_suite(monkeypatch, tmp_path):
    monkeypatch.delenv(DRAWING_ENV, raising=False)
    assert marker() is None
    monkeypatch.setenv(DRAWING_ENV, str(tmp_path / ".drawing"))
    assert marker() == tmp_path / ".drawing"
