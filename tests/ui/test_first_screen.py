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


@pytest.mark.parametrize("per_core", [True, False], ids=["passes per core", "one pass at a time"])
async def test_a_typed_run_gets_every_core_when_its_passes_are_single_threaded_else_leaves_one(
        make_app, tiny_scorer, monkeypatch, per_core):
    """A multi-threaded pass waits at its barriers for a core the interface takes. While the user
    types, the reranker is asked for single-threaded passes, each on a core of its own, and the run
    gets every core; a scorer that runs one multi-threaded pass at a time leaves one to the
    interface. The launch's first run gets every core either way, multi-threaded passes allowed."""
    import torch

    from workbench.ui import app as app_module
    from workbench.ui import cpu

    if tiny_scorer.info.device != "cpu":
        pytest.skip("CPU threads: a GPU model runs on the GPU")
    monkeypatch.delenv("WORKBENCH_TORCH_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(cpu, "usable_cores", lambda: 4)
    runs = []  # (threads given, single-threaded passes) as each worker starts
    real = app_module.threads_for_run

    def counted(*args, **kwargs):
        runs.append((real(*args, **kwargs), tiny_scorer.single_threaded_passes))
        return runs[-1][0]

    monkeypatch.setattr(app_module, "threads_for_run", counted)
    tiny_scorer.pass_per_core = per_core
    before = torch.get_num_threads()
    try:
        app = make_app(scorer=tiny_scorer, query="nightly backups")
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_ranked(pilot, "nightly backups")
            app.action_focus_query()
            await pilot.press("end", *" kept")
            await wait_ranked(pilot, "nightly backups kept")
    finally:
        torch.set_num_threads(before)
        tiny_scorer.pass_per_core = True
        tiny_scorer.run_single_threaded_passes(False)
    assert runs[0] == (4, False)  # the launch's first run
    assert runs[-1] == ((4, True) if per_core else (3, False))


def test_the_fallback_runs_single_threaded_passes_on_a_cpu_and_the_reranker_when_asked(tiny_scorer):
    from workbench.engine.fallback import EmbeddingFallback

    if tiny_scorer.info.device != "cpu":
        pytest.skip("passes per core are a CPU's way")
    fallback = EmbeddingFallback()
    assert fallback.single_threaded_passes and fallback.run_single_threaded_passes(False)  # always, on a CPU
    assert not tiny_scorer.run_single_threaded_passes(False)  # its small calls: one multi-threaded pass
    try:
        assert tiny_scorer.run_single_threaded_passes(True) and tiny_scorer.single_threaded_passes
    finally:
        tiny_scorer.run_single_threaded_passes(False)
