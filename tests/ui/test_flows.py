"""Pilot tests: each user flow of the workbench, driven by keys, with the tiny model."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from contextlib import nullcontext

import pytest
from textual.widgets import DataTable, Input, OptionList, TextArea

from workbench.engine.loading import LoadOptions
from workbench.session.pacing import MAX_DELAY_S
from workbench.testing.slow_scorer import SlowScorer
from workbench.ui.presets import StorePresets
from workbench.ui.screens.dialogs import InputDialog, PasteDialog
from workbench.ui.screens.edit_document import EditDocumentScreen
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.presets import PresetsScreen
from workbench.ui.screens.prompt import PromptScreen
from workbench.ui.widgets.document_view import DocumentView
from workbench.ui.widgets.chunk_list import ChunkList
from workbench.ui.widgets.status_bar import StatusBar

from no_hang import release_fifo
from tokenizer_calls import tokenised_texts, unseen_documents
from ui_helpers import FakeRecorder, wait_for, wait_ranked

SIZE = (120, 40)


def status_text(app) -> str:
    return app.widget(StatusBar).render_status().plain


def run_message(app) -> str:
    return str(app.main.query_one("#run-message").render())


async def type_query(pilot, text: str) -> None:
    pilot.app.action_focus_query()
    await pilot.press(*text)


async def test_model_loads_then_typing_a_query_ranks(make_app):
    app = make_app(scorer=None)  # really load the tiny model from its directory
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model_state == "loaded", what="the model")
        assert "tiny-qwen3" in status_text(app) and "cpu" in status_text(app)
        assert "Type a query" in run_message(app)
        await type_query(pilot, "grind size")
        await wait_ranked(pilot, "grind size")
        table = app.widget(ChunkList)
        assert table.row_count == sum(len(s) for s in app.session.spans.values()) > 3
        assert "last run" in status_text(app)
        assert app.session.result.stats.pairs == table.row_count


async def test_documents_are_tokenised_while_the_first_query_is_typed(make_app, tiny_scorer, monkeypatch):
    """With no query yet, the app chunks and tokenises the documents: the first query's run then
    starts scoring at once instead of tokenising every document first."""
    app = make_app(documents=unseen_documents("typed"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model_state == "loaded", what="the model")
        await wait_for(pilot, lambda: not app.preparing, what="the documents prepared")
        seen = tokenised_texts(monkeypatch, tiny_scorer.tokenizer)
        await type_query(pilot, "glaze")
        await wait_ranked(pilot, "glaze")
        assert app.session.result.stats.scored > 4
        assert not any("kiln" in text for text in seen)


async def test_the_first_query_waits_a_pause_sized_by_a_pass_timed_before_it(make_app):
    """Without a timing the first query would wait the longest pause (nothing measured yet);
    the tiny model's warm-up pass takes milliseconds, so the first query waits the shortest."""
    app = make_app(documents=unseen_documents("paced"), debounce_s=None)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.typing_pause.first_result_s is not None, what="the timed pass")
        assert app.typing_pause.delay_s() < MAX_DELAY_S


async def test_editing_cancels_the_previous_run_and_only_the_latest_is_shown(make_app, tiny_scorer):
    logger = FakeRecorder()
    app = make_app(scorer=SlowScorer(tiny_scorer, delay=0.2), recorder=logger)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ranker is not None)
        await type_query(pilot, "espresso")
        # The run starts after the typing pause, which may end after the keys are in (a loaded
        # machine): its generation is known once it runs (each key cancelled any earlier run).
        await wait_for(pilot, lambda: app.session.running, what="the run for espresso")
        first = app.session.generation
        await wait_for(pilot, lambda: app.session.shown is not None and app.session.shown.generation == first and app.session.scores, what="first scores")
        assert app.session.running and len(app.session.scores) < sum(len(s) for s in app.session.spans.values())
        await pilot.press(*" dose")
        await wait_ranked(pilot, "espresso dose")
        assert app.session.generation > first
        assert app.session.result.query == "espresso dose" and not app.session.result.cancelled
        # The first run was cancelled: never finished in the log, and its scores were replaced.
        assert [q for _, q in logger.finished] == ["espresso dose"]
        assert "espresso" in logger.begun
        # What is shown is exactly the latest run's scores.
        assert app.session.shown.generation == app.session.generation
        final = {(c.doc_id, c.chunk.index): c.score for c in app.session.result.ranked_chunks()}
        assert {k: c.score for k, c in app.session.scores.items()} == final
        assert app.widget(ChunkList).row_count == len(final)


async def test_a_runs_first_scores_are_drawn_at_once_even_after_a_redraw_of_the_previous_ones(make_app):
    # A redraw between a run's start and its first scores (a notice, a key) still shows the
    # previous run's scores. It used to count as the new run's first rows, so the real first
    # scores then waited for the redraw timer, and the latency benchmark reported them early.
    app = make_app(query="nightly backups")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot, "nightly backups")
        with app.session.model_lock:  # the next run can neither chunk nor score until released
            await type_query(pilot, " kept")
            await wait_for(pilot, lambda: app.session.running and "started" in app.timeline, what="the run's start")
            app.request_refresh()
            await pilot.pause()
            assert app.session.scores and "first_rows" not in app.timeline
        await wait_ranked(pilot, app.session.query)
        assert app.timeline["chunked"] <= app.timeline["first_rows"]


async def test_add_document_by_path(make_app, tmp_path):
    path = tmp_path / "extra.md"
    path.write_text("Tamping pressure matters less than an even distribution of the coffee bed.\n")
    app = make_app(query="tamping")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("ctrl+o")
        assert isinstance(app.screen, InputDialog)
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(d.id == "extra.md" for d in app.session.documents), what="the new document")
        await wait_ranked(pilot)
        await wait_for(pilot, lambda: any(d.doc_id == "extra.md" for d in app.session.result.documents), what="a run with it")
        assert app.main.query_one("#doc-list", DataTable).row_count == 4


async def test_adding_a_named_pipe_shows_a_notice_and_the_app_keeps_running(make_app, tmp_path):
    fifo = tmp_path / "stream.txt"
    os.mkfifo(fifo)
    app = make_app(query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("ctrl+o")
        app.screen.query_one(Input).value = str(fifo)
        await pilot.press("enter")
        try:
            await wait_for(pilot, lambda: any("named pipe" in n for n, _ in app.notices), timeout=10, what="a notice")
        finally:
            release_fifo(fifo)  # a reader wrongly blocked on it would otherwise never let the app exit
        assert len(app.session.documents) == 3
        await type_query(pilot, " rover")
        await wait_ranked(pilot, "mars rover")


async def test_unreadable_file_shows_a_notice_and_the_app_keeps_running(make_app, tmp_path):
    binary = tmp_path / "image.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    app = make_app(query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        for target in (binary, tmp_path / "missing.txt"):
            await pilot.press("ctrl+o")
            app.screen.query_one(Input).value = str(target)
            await pilot.press("enter")
        await wait_for(pilot, lambda: len([n for n in app.notices if n[1] == "warning"]) >= 2, what="notices")
        text = " ".join(n for n, _ in app.notices)
        assert "binary" in text and "no such file" in text
        assert len(app.session.documents) == 3
        await type_query(pilot, " rover")
        await wait_ranked(pilot, "mars rover")


async def test_paste_a_document(make_app):
    app = make_app(query="coffee")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("ctrl+n")
        assert isinstance(app.screen, PasteDialog)
        app.screen.query_one("#paste-text", TextArea).insert("A pasted note about coffee storage in airtight jars.")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(app.session.documents) == 4)
        assert app.session.documents[-1].id == "pasted-1" and app.session.documents[-1].path is None
        await wait_for(pilot, lambda: app.session.result and any(d.doc_id == "pasted-1" for d in app.session.result.documents))


async def test_remove_a_document(make_app):
    app = make_app(query="coffee")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f4")
        await pilot.press("down", "x")  # the second row: mars.md
        assert [d.id for d in app.session.documents] == ["espresso.md", "backups.txt"]
        await wait_for(pilot, lambda: app.session.result and len(app.session.result.documents) == 2, what="a run without it")


async def test_edit_a_document_in_place(make_app):
    app = make_app(query="moons")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f4", "down", "e")
        assert isinstance(app.screen, EditDocumentScreen)
        editor = app.screen.query_one(TextArea)
        editor.load_text("Phobos and Deimos are the two moons of Mars.")
        await pilot.press("ctrl+s")
        mars = next(d for d in app.session.documents if d.id == "mars.md")
        assert mars.text.startswith("Phobos") and "mars.md" in app.session.edited
        await wait_for(pilot, lambda: app.session.result and len(app.session.spans["mars.md"]) == 1, what="a run on the edit")


async def test_edit_a_document_in_external_editor(make_app, tmp_path, monkeypatch):
    script = tmp_path / "fake_editor.py"
    script.write_text("import sys\np = sys.argv[1]\nopen(p, 'a').write('\\nAdded in the editor.')\n")
    monkeypatch.setenv("VISUAL", f"{sys.executable} {script}")
    monkeypatch.setattr(type(make_app()), "suspend", lambda self: nullcontext())
    app = make_app(query="backups")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f4", "down", "down", "ctrl+e")
        backups = next(d for d in app.session.documents if d.id == "backups.txt")
        assert backups.text.endswith("Added in the editor.")


async def test_changing_the_chunk_size_rechunks(make_app):
    app = make_app(query="grind")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        before = len(app.session.spans["espresso.md"])
        await pilot.press("f8")
        field = app.main.query_one("#chunk-tokens", Input)
        assert field.has_focus
        field.value = ""
        await pilot.press("2", "4")
        await wait_for(pilot, lambda: app.session.settings.chunking.tokens == 24 and app.session.result.chunking.tokens == 24 and not app.session.running)
        assert len(app.session.spans["espresso.md"]) > before
        field.value = "4"  # smaller than the overlap: refused with a message, nothing runs
        await pilot.pause(0.2)
        assert app.session.settings.chunking.tokens == 24 and "overlap" in app.session.settings_error
        field.value = "900000"  # can never fit in a prompt: refused before any run
        await pilot.pause(0.2)
        assert app.session.settings.chunking.tokens == 24 and "does not fit" in app.session.settings_error


async def test_instruction_preset_save_and_pick(make_app, tmp_path):
    app = make_app(query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        app.main.query_one("#instruction", TextArea).load_text("Find passages about space missions")
        await pilot.press("ctrl+t")
        assert isinstance(app.screen, PresetsScreen)
        await pilot.press("n")
        assert isinstance(app.screen, InputDialog)
        await pilot.press(*"space", "enter")
        # Saved in the database: a new app (a new StorePresets) finds it.
        saved = dict(StorePresets(tmp_path / "presets.db").list())
        assert saved["space"] == "Find passages about space missions"

        app.main.query_one("#instruction", TextArea).load_text("something else")
        await pilot.press("ctrl+t")
        options = app.screen.query_one(OptionList)
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = names.index("space")
        await pilot.press("enter")
        assert app.session.instruction == "Find passages about space missions"
        await wait_for(pilot, lambda: app.session.result.instruction == "Find passages about space missions" and not app.session.running)


async def test_heat_strip_selection_shows_the_chunk_in_its_document(make_app):
    app = make_app(query="temperature")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f3", "right", "right")
        assert app.session.options.selected == ("espresso.md", 1)
        view = app.widget(DocumentView)
        assert view.document.id == "espresso.md" and view.selected == 1
        span = app.session.spans["espresso.md"][1]
        shown = "".join(view.render_line(y).text for y in range(view.size.height))
        first_words = " ".join(app.session.documents[0].text[span.start : span.end].split()[:4])
        assert first_words in " ".join(shown.split())
        assert "chunk #1 of" in str(app.main.query_one("#doc-title").render())
        await pilot.press("down")  # next document, same column
        assert app.session.options.selected == ("mars.md", 1)


async def test_ranking_row_selection_shows_the_chunk(make_app):
    app = make_app(query="dust storms")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f2", "enter")
        best = app.session.result.ranked_chunks()[0]
        assert app.session.options.selected == (best.doc_id, best.chunk.index)
        assert app.main.query_one("#panes").active == "heat"
        assert app.widget(DocumentView).selected == best.chunk.index


async def test_sort_and_filter_the_ranking(make_app):
    app = make_app(query="planet")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f2", "s")
        assert app.session.options.sort == "document"
        await pilot.press("s")
        assert app.session.options.sort == "position"
        table = app.widget(ChunkList)
        assert [doc for doc, _ in table.keys()[:3]] == ["espresso.md"] * 3
        await pilot.press("f")
        assert app.session.options.doc_filter == "espresso.md"
        assert table.row_count == len(app.session.spans["espresso.md"])


async def test_a_ranking_filled_in_batch_by_batch_ends_with_its_best_row_under_the_cursor(make_app, tiny_scorer):
    # Two prompts a batch: the first rows shown are the best of the first batch only. A cursor left
    # on the first row stays there as better rows arrive; one the user moved stays on its chunk.
    app = make_app(scorer=SlowScorer(tiny_scorer, delay=0.0), query="nightly backups")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        table = app.widget(ChunkList)
        best = app.session.result.ranked_chunks()
        assert table.chunk_at_cursor() == (best[0].doc_id, best[0].chunk.index)
        rows = list(table.rows)
        table.set_rows(rows[::-1])  # new rows, the order changed: the top stays the top
        assert table.cursor == 0
        table.focus()
        await pilot.press("down", "down")
        chosen = table.chunk_at_cursor()
        table.set_rows(rows)
        assert table.chunk_at_cursor() == chosen and table.cursor == len(rows) - 3


async def test_prompt_inspection_shows_what_the_model_saw(make_app):
    app = make_app(query="nightly backups")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f2", "i")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the prompt view")
        best = app.session.result.ranked_chunks()[0]
        view = app.screen.view
        assert view.tokens == best.prompt_tokens
        assert "<Query>: nightly backups" in view.text and "<Document>:" in view.text
        assert f"{view.tokens} tokens" in str(app.screen.query_one("#prompt-facts").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, PromptScreen)


async def test_export_writes_a_parseable_json_file(make_app, tmp_path):
    app = make_app(query="mars")
    target = tmp_path / "out" / "results.json"
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("ctrl+s")
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for(pilot, target.exists, what="the export file")
        await wait_for(pilot, lambda: any("Exported" in n for n, _ in app.notices))
        data = json.loads(target.read_text())
        assert data["query"] == "mars" and len(data["documents"]) == 3
        assert data["model"]["kind"] == "qwen3-reranker"


async def test_copy_chunk_and_ranking_use_the_clipboard(make_app, monkeypatch):
    app = make_app(query="grinder")
    copied: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        await wait_ranked(pilot)
        await pilot.press("f2", "ctrl+y")
        best = app.session.result.ranked_chunks()[0]
        doc = next(d for d in app.session.documents if d.id == best.doc_id)
        assert copied == [best.chunk.text_of(doc.text)]
        await pilot.press("ctrl+g")
        from workbench.run_format import CSV_COLUMNS

        assert copied[-1].splitlines()[0] == ",".join(CSV_COLUMNS)  # the columns of `score --format csv`


async def test_run_log_records_completed_runs(make_app):
    logger = FakeRecorder()
    app = make_app(query="mars", recorder=logger)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await wait_for(pilot, lambda: logger.finished, what="the log entry")
        assert logger.finished == [(1, "mars")]


async def test_a_broken_run_log_is_a_notice_not_a_failure(make_app):
    class Broken(FakeRecorder):  # keeps the contract: a problem is a notice, never an exception
        def begin(self, inputs, model):
            self.notice("run log: this run is not recorded (database is locked)")
            return None

    app = make_app(query="mars", recorder=Broken())
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await wait_for(pilot, lambda: any("database is locked" in n for n, _ in app.notices))


async def test_model_load_failure_shows_a_notice_and_editing_still_works(make_app):
    app = make_app(scorer=None, load_options=LoadOptions(model="/nonexistent"), query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model_state == "failed", what="the load failure")
        assert any("/nonexistent" in n and sev == "error" for n, sev in app.notices)
        assert "NO MODEL" in status_text(app)
        await type_query(pilot, " rover")
        assert app.session.query == "mars rover"


def fallback_app(make_app, tiny_scorer):
    fallback = SlowScorer(tiny_scorer, delay=0)
    fallback.info = dataclasses.replace(tiny_scorer.info, kind="embedding-fallback", fallback_reason="hub offline")
    return make_app(scorer=fallback, query="mars")


def shown_lines(widget) -> list[str]:
    return [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]


async def test_offline_fallback_is_shown_loudly(make_app, tiny_scorer):
    app = fallback_app(make_app, tiny_scorer)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        assert "OFFLINE FALLBACK" in status_text(app)
        banner = app.main.query_one("#fallback-banner")
        assert banner.display
        shown = " ".join(shown_lines(banner))
        assert "ignores the instruction" in shown and "cosine similarity" in shown
        assert "not probabilities" in shown
        # The reason, too long for the banner, is in a notice and on the help screen.
        assert any("hub offline" in notice and "instruction is ignored" in notice for notice, _ in app.notices)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        note = str(app.screen.query_one("#help-note").render())
        assert "hub offline" in note and "instruction is ignored" in note and "not a probability" in note


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_offline_fallback_banner_reads_completely(make_app, tiny_scorer, size):
    app = fallback_app(make_app, tiny_scorer)
    async with app.run_test(size=size) as pilot:
        await wait_ranked(pilot)
        banner = app.main.query_one("#fallback-banner")
        lines = shown_lines(banner)
        assert lines and "OFFLINE FALLBACK" in lines[0] and "ignores the instruction" in lines[0]
        for line in lines:
            assert line and not line.endswith("…") and len(line) <= banner.size.width


async def test_help_lists_each_key_once_per_pane(make_app):
    app = make_app(query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        for title, bindings in app.help_groups():
            keys = [b.key for b in bindings if b.description and b.id]  # what F1 lists
            assert len(keys) == len(set(keys)), f"{title}: a key listed twice: {keys}"
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert not app.screen.query("#help-note")  # a real reranker: no fallback note
        await pilot.press("escape")


async def test_document_ranking_space_filters_and_enter_does_not(make_app):
    app = make_app(query="planet")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f2")
        doc_list = app.main.query_one("#doc-table")
        doc_list.focus()
        await pilot.pause()
        first = doc_list.keys()[0]
        await pilot.press("enter")
        assert app.session.options.doc_filter is None
        await pilot.press("space")
        assert app.session.options.doc_filter == first
        await pilot.press("space")
        assert app.session.options.doc_filter is None


async def test_empty_query_shows_a_hint_and_does_not_run(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ranker is not None)
        await pilot.pause(0.2)
        assert app.session.result is None and not app.session.running and not app.session.scores
        assert "Type a query" in run_message(app)


async def test_help_and_command_palette(make_app):
    app = make_app(query="mars")
    async with app.run_test(size=SIZE) as pilot:
        await wait_ranked(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        generation = app.session.generation
        await pilot.press("ctrl+p", *"rerun now")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.session.generation > generation, what="the palette's rerun")
        await wait_ranked(pilot)
        assert app.session.result.stats.cached == app.session.result.stats.pairs  # unchanged pairs: all from cache


async def test_a_compile_is_said_while_it_runs(make_app, tiny_scorer):
    """With --compile the first batch of a shape stands still for seconds to minutes: the run
    line says it is compiling, then the ranking arrives as usual."""
    import threading

    import torch

    from workbench.engine.reranker import Qwen3Reranker

    release = threading.Event()

    def slow_backend(graph, example_inputs):
        release.wait(20)  # a compile that takes until the test has read the screen
        return graph.forward

    scorer = Qwen3Reranker(tiny_scorer.model, tiny_scorer.tokenizer, tiny_scorer.info)
    scorer.compile, scorer.compile_backend = True, slow_backend
    app = make_app(scorer=scorer, query="grind size")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: "compiling a new batch shape" in run_message(app),
                           what="the run line saying it compiles")
            assert run_message(app).startswith("Scoring… compiling")
            release.set()
            await wait_ranked(pilot, "grind size")
            assert "Ranked 3 documents" in run_message(app) and scorer.compile_off_reason is None
    finally:
        release.set()
        torch._dynamo.reset()
