"""Tuning in the app: relevance labels (0-3, kept per query) and live A/B against a pinned ranking."""

from __future__ import annotations

from ui_helpers import wait_for, wait_ranked

from workbench.session.sqlite_recorder import SqliteRecorder
from workbench.store import open_store
from workbench.ui.widgets.chunk_list import ChunkList, DocList

SIZE = (100, 30)


async def test_labels_are_shown_kept_per_query_and_restored(make_app, tmp_path):
    db = tmp_path / "runs.db"
    app = make_app(query="moons of mars", recorder=SqliteRecorder(open_store(db), origin="app"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "moons of mars")
        await pilot.press("f2")  # the chunk list has focus: its top row is the best chunk
        top = app.widget(ChunkList).chunk_at_cursor()
        await pilot.press("3")
        assert app.session.view().grades == {top: 3}
        assert "3 " in app.widget(ChunkList).render_row(app.session.view().chunks[0], 0, 80).plain[:20]
        # The whole document in the document ranking.
        app.widget(DocList).focus()
        await pilot.pause()
        doc = app.widget(DocList).key_at_cursor()
        await pilot.press("0")
        rows = {r.doc_id: r.grade for r in app.session.view().documents}
        assert rows[doc] == 0
        # Another query has no labels; back to the first one, they return.
        app.main.query_one("#query").load_text("espresso grind")
        await wait_ranked(pilot, "espresso grind")
        assert app.session.view().grades == {}
        app.main.query_one("#query").load_text("moons of mars")
        await wait_ranked(pilot, "moons of mars")
        assert app.session.view().grades == {top: 3}
        # "-" removes a label; it stays removed for the next launch.
        app.widget(DocList).focus()
        await pilot.pause()
        assert app.widget(DocList).key_at_cursor() == doc
        await pilot.press("minus")
        assert doc not in {d for d, g in ((r.doc_id, r.grade) for r in app.session.view().documents) if g == 0}
    # A later launch on the same database finds them.
    later = SqliteRecorder(open_store(db), origin="app")
    assert [(label.doc_id, label.grade) for label in later.labels("moons of mars")] == [(top[0], 3)]


async def test_labelling_needs_a_selection(make_app):
    app = make_app(query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "mars")
        app.action_label(2)
        await wait_for(pilot, lambda: any("Select a chunk" in n for n, _ in app.notices))


async def test_pin_a_then_edit_the_instruction_compares_a_with_b(make_app):
    from workbench.ui.widgets.ab_pane import ABPane

    app = make_app(query="moons of mars")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        a = app.session.result
        await pilot.press("ctrl+b")
        assert app.session.ab.a is a
        app.main.use_instruction("Find passages about space missions")
        await wait_for(pilot, lambda: app.session.result is not a and not app.session.running and not app.run_pending,
                       what="run B")
        await pilot.press("f7")
        pane = app.widget(ABPane)
        shown = str(pane.query_one("#ab-text").render()) + str(pane.query_one("#ab-table").render())
        assert "A: Given a web search query" in shown and "B: Find passages about space missions" in shown
        assert "Kendall tau-b" in shown and "RBO" in shown and "rank A" in shown
        await pilot.press("ctrl+b")  # unpin
        assert app.session.ab.a is None


async def test_labels_give_live_metrics(make_app):
    app = make_app(query="moons of mars")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        await pilot.press("f2")
        await pilot.press("down")  # the second-best chunk is the relevant one
        await pilot.press("2")
        info = app.labelled_metrics()
        # One relevant chunk at rank 2: RR 0.5; it is found in the top 10: recall 1.
        assert "chunks nDCG@10" in info and "MRR@10 0.50" in info and "Recall@10 1.00" in info
        assert "documents" in info


async def test_instructions_tried_best_first_and_restorable(make_app, tmp_path):
    from workbench.session.sqlite_recorder import SqliteRecorder
    from workbench.store import open_store
    from workbench.ui.screens.tried import TriedScreen

    app = make_app(query="moons of mars", recorder=SqliteRecorder(open_store(tmp_path / "runs.db"), origin="app"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        first = app.session.result
        await pilot.press("f2", "down", "2")  # label the second-best chunk under the default instruction
        for instruction in ("Find passages about coffee", "Find passages about planets and their moons"):
            before = app.session.result
            app.main.use_instruction(instruction)
            await wait_for(pilot, lambda: app.session.result is not before and not app.session.running
                           and not app.run_pending, what=instruction)
        await wait_for(pilot, lambda: len(app.session.recorder.history().page(False).rows) == 3, what="3 runs logged")
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, TriedScreen), what="the list")
        tried = app.screen.tried
        assert {t.instruction for t in tried} == {first.instruction, "Find passages about coffee",
                                                  "Find passages about planets and their moons"}
        figures = [t.key_figure() for t in tried]
        assert None not in figures and figures == sorted(figures, reverse=True)  # best first
        await pilot.press("end", "enter")  # restore the worst one
        await wait_for(pilot, lambda: app.session.instruction == tried[-1].instruction, what="restored")


async def test_score_distribution_and_cut_off_from_labels(make_app):
    from workbench.ui.screens.distribution import DistributionScreen

    app = make_app(query="moons of mars")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        await pilot.press("f2", "d")
        assert isinstance(app.screen, DistributionScreen)
        assert any(line.startswith("probability histogram") for line in app.screen.lines)
        assert any(line.strip().startswith("minmax") and "min 0.0000" in line and "max 1.0000" in line for line in app.screen.lines)
        assert any(line.strip().startswith("zscore") for line in app.screen.lines)
        assert not any("best cut-off" in line for line in app.screen.lines)  # no labels yet
        await pilot.press("escape", "f2", "3")  # the best chunk is the relevant one
        await pilot.press("d")
        cut = next(line for line in app.screen.lines if line.startswith("best cut-off"))
        assert "F1 1.000" in cut and "1 chunks kept" in cut  # only the top chunk passes the cut


async def test_query_set_is_scored_in_the_background_and_again_after_an_edit(make_app, tmp_path):
    import json

    from workbench.ui.widgets.query_set_pane import QuerySetPane

    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(json.dumps(q) for q in [
        {"id": "m1", "query": "What are the moons of Mars called?", "relevant": [{"doc": "mars.md", "contains": "Phobos and Deimos"}]},
        {"id": "b1", "query": "How long are nightly backups kept?", "relevant": [{"doc": "backups.txt", "contains": "thirty days"}]},
    ]) + "\n", encoding="utf-8")
    app = make_app(query="moons of mars", queries=queries)

    def report() -> str:
        return str(app.widget(QuerySetPane).query_one("#set-report").render())

    async with app.run_test(size=(160, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        await wait_for(pilot, lambda: "nDCG@10" in report(), what="the query set's report")
        assert "2 queries" in report() and "[current] Given a web search query" in report()
        assert "across the set (current): probability histogram" in report() and "one cut-off for every query" in report()
        await pilot.press("ctrl+b")  # pin A: the set is then scored under both instructions
        app.main.use_instruction("Find passages about planets")
        await wait_for(pilot, lambda: "[A] Given a web search query" in report() and "[current] Find passages about planets" in report(),
                       what="the set under A and the edited instruction")
        assert "A vs current" in report()  # wins / losses / p-values against the current instruction


async def test_a_query_set_naming_unknown_documents_is_refused_with_a_message(make_app, tmp_path):
    import json

    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps({"id": "x", "query": "q", "relevant": [{"doc": "missing.md", "contains": "y"}]}) + "\n")
    app = make_app(query="mars", queries=queries)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_ranked(pilot, "mars")
        assert app.session.query_set is None
        assert any("missing.md" in n and sev == "error" for n, sev in app.notices)


async def test_a_b_across_two_precisions_of_the_model(make_app):
    """Pin A under fp32, load the same model in bf16: the A/B pane compares the two."""
    from workbench.ui.widgets.ab_pane import ABPane

    app = make_app(query="moons of mars")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_ranked(pilot, "moons of mars")
        a = app.session.result
        await pilot.press("ctrl+b")
        app.load_other_model(dtype="bf16")
        await wait_for(pilot, lambda: app.model_state == "loaded" and app.session.model.dtype == "bf16", what="bf16")
        await wait_for(pilot, lambda: app.session.result is not a and not app.session.running and not app.run_pending,
                       what="run B")
        pane = app.widget(ABPane)
        shown = str(pane.query_one("#ab-text").render()) + str(pane.query_one("#ab-table").render())
        assert "Kendall tau-b" in shown and app.session.result.model.dtype == "bf16" and a.model.dtype == "fp32"
        app.load_other_model(dtype="fp64")  # not a choice: a message, nothing reloaded
        assert any("dtype" in n and sev == "error" for n, sev in app.notices)
