"""The first screen: a launch with a starter query shows a ranking without any typing; a query
given on the command line wins over it."""

from __future__ import annotations

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
        monkeypatch.setenv("WORKBENCH_TORCH_THREADS", "2")  # the user's choice wins
        assert cpu.threads_for_run(first_run=True) == 2
    finally:
        torch.set_num_threads(before)
