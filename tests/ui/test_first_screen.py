"""The first screen: a launch with a starter query shows a ranking without any typing; a query
given on the command line wins over it."""

from __future__ import annotations

import pytest
from ui_helpers import wait_ranked


async def test_a_starter_query_is_ranked_without_typing(make_app):
    app = make_app(starter_query="moons of mars")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        editor = app.main.query_one("#query")
        assert editor.text == "moons of mars"
        assert editor.cursor_location == (0, len("moons of mars"))  # typing goes on after it
        assert any("Example query" in n for n, _ in app.notices)
        assert app.session.result.documents  # ranked, nothing typed


async def test_a_given_query_wins_over_the_starter(make_app):
    app = make_app(query="espresso grind", starter_query="moons of mars")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "espresso grind")
        assert not any("Example query" in n for n, _ in app.notices)


def test_the_first_run_of_a_launch_gets_every_core_and_later_runs_leave_one(monkeypatch):
    import torch

    from workbench.ui import cpu

    monkeypatch.delenv("WORKBENCH_TORCH_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "usable_cores", lambda: 4)
    before = torch.get_num_threads()
    try:
        assert cpu.threads_for_run(first_run=True) == 4 and torch.get_num_threads() == 4
        assert cpu.threads_for_run(first_run=False) == 3 and torch.get_num_threads() == 3
        assert cpu.threads_for_run(first_run=False, single_threaded_passes=True) == 4
        monkeypatch.setenv("WORKBENCH_TORCH_THREADS", "2")  # the user's choice wins
        assert cpu.threads_for_run(first_run=True) == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("single_threaded", [False, True], ids=["multi-threaded passes", "single-threaded passes"])
async def test_a_typed_run_leaves_a_core_to_the_interface_unless_every_pass_is_single_threaded(
        make_app, tiny_scorer, monkeypatch, single_threaded):
    """A multi-threaded pass waits at its barriers for a core the interface takes; a scorer whose
    passes each run on a core of their own (the offline fallback) gets every core, typed or not."""
    import torch

    from workbench.testing.slow_scorer import SlowScorer
    from workbench.ui import app as app_module
    from workbench.ui import cpu

    monkeypatch.delenv("WORKBENCH_TORCH_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "usable_cores", lambda: 4)
    counts = []
    real = app_module.threads_for_run
    monkeypatch.setattr(app_module, "threads_for_run", lambda *a, **k: counts.append(real(*a, **k)) or counts[-1])
    scorer = SlowScorer(tiny_scorer, delay=0.0)
    scorer.single_threaded_passes = single_threaded
    before = torch.get_num_threads()
    try:
        app = make_app(scorer=scorer, query="nightly backups")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_ranked(pilot, "nightly backups")
            app.action_focus_query()
            await pilot.press("end", *" kept")
            await wait_ranked(pilot, "nightly backups kept")
    finally:
        torch.set_num_threads(before)
    assert counts[0] == 4  # the launch's first run: every core either way
    assert counts[-1] == (4 if single_threaded else 3)


def test_the_fallback_runs_single_threaded_passes_on_a_cpu_and_the_reranker_does_not(tiny_scorer):
    from workbench.engine.fallback import EmbeddingFallback

    assert EmbeddingFallback().single_threaded_passes
    assert not tiny_scorer.single_threaded_passes  # its small calls run one multi-threaded pass
