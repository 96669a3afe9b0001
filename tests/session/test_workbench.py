"""The headless session: edits, runs, superseded runs, reopening; the same path the app and CLI use."""

from __future__ import annotations

import threading

import pytest

from workbench.engine.types import ChunkSettings
from workbench.session import NullRecorder, RunRecorder, RunSettings, SessionInputError, Workbench
from workbench.testing.slow_scorer import SlowScorer

from tokenizer_calls import tokenised_texts, unseen_documents

SETTINGS = RunSettings(ChunkSettings(24, 4))


class Recording(RunRecorder):
    records_runs = True

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, object]] = []

    @property
    def description(self) -> str:
        return "in memory"

    def begin(self, inputs, model):
        self.events.append(("begin", inputs.query))
        return len(self.events)

    def finish(self, run_id, result):
        self.events.append(("finish", run_id))

    def discard(self, run_id):
        self.events.append(("discard", run_id))


class Collect:
    """A RunListener that keeps what it is told, and can stop the run after the first batch."""

    def __init__(self, session: Workbench, stop_after_first: threading.Event | None = None) -> None:
        self.session, self.stop = session, stop_after_first
        self.calls: list[str] = []
        self.notices: list[str] = []

    def chunked(self, generation, spans):
        self.calls.append("chunked")

    def scores(self, generation, scores, done, total):
        self.calls.append("scores")
        if self.stop is not None:
            self.stop.set()

    def finished(self, generation, result):
        self.calls.append("finished")

    def notice(self, text):
        self.notices.append(text)


def test_run_now_ranks_and_records_the_run(tiny_scorer, documents):
    recorder = Recording()
    wb = Workbench(SETTINGS, recorder, query="moons of mars", documents=documents)
    wb.attach(tiny_scorer)
    result = wb.run_now()
    assert [d.doc_id for d in result.documents] and result.stats.pairs == sum(len(v) for v in wb.spans.values())
    assert wb.result is result and not wb.running
    assert recorder.events == [("begin", "moons of mars"), ("finish", 1)]
    # What the views show is the result's ranking, ties and all.
    assert [c.doc_id for c in wb.view().chunks] == [c.doc_id for c in result.ranked_chunks()]


def test_nothing_runs_without_a_query_or_documents(tiny_scorer, documents):
    wb = Workbench(SETTINGS, query="  ", documents=documents)
    wb.attach(tiny_scorer)
    with pytest.raises(SessionInputError, match="Type a query"):
        wb.run_now()
    assert wb.start_run() is None
    wb.set_query("mars")
    for d in list(wb.documents):
        wb.remove_document(d.id)
    with pytest.raises(SessionInputError, match="No documents"):
        wb.run_now()


def test_a_superseded_run_reports_nothing_more_and_is_discarded(tiny_scorer, documents):
    recorder = Recording()
    wb = Workbench(RunSettings(ChunkSettings(8, 0)), recorder, query="espresso", documents=documents)
    wb.attach(SlowScorer(tiny_scorer, delay=0))
    first = wb.start_run()
    stop = threading.Event()
    listener = Collect(wb, stop)
    # The user types on after the first batch: the session moves to a new generation.
    assert wb.execute(first, listener, should_cancel=stop.is_set) is None
    assert "finished" not in listener.calls
    assert recorder.events == [("begin", "espresso"), ("discard", 1)]
    # Late reports of the first run change nothing on screen.
    wb.set_query("espresso grind")
    second = wb.start_run()
    assert not wb.accept_chunked(first.generation, {})
    assert wb.accept_chunked(second.generation, {d.id: [] for d in documents})


def test_a_run_over_prepared_documents_tokenises_none_of_their_text(tiny_scorer, monkeypatch):
    docs = unseen_documents("prep")
    wb = Workbench(SETTINGS, documents=docs)
    wb.attach(tiny_scorer)
    prepared = wb.prepare(docs, SETTINGS.chunking, should_stop=lambda: False)
    assert prepared.documents == len(docs) and prepared.pass_s > 0
    seen = tokenised_texts(monkeypatch, tiny_scorer.tokenizer)
    wb.set_query("glaze batch")
    result = wb.run_now()
    assert result.stats.scored == result.stats.pairs > len(docs)  # every chunk scored, none cached
    assert not any("kiln" in text for text in seen)  # no chunking, no document tokenised again
    # ...and the scores are those of a run that did the work itself.
    fresh = Workbench(SETTINGS, query="glaze batch", documents=docs)
    fresh.attach(tiny_scorer)
    tiny_scorer.forget_texts()
    again = fresh.run_now()
    assert [(c.doc_id, round(c.logit, 5)) for c in again.ranked_chunks()] == [(c.doc_id, round(c.logit, 5)) for c in result.ranked_chunks()]


def test_preparing_stops_when_a_run_starts_or_it_is_told_to(tiny_scorer):
    docs = unseen_documents("stop")
    wb = Workbench(SETTINGS, query="kiln", documents=docs)
    wb.attach(tiny_scorer)
    asked = []

    def run_starts_after_the_first() -> bool:
        if asked:
            wb.start_run()  # the user's run supersedes the preparation
        asked.append(1)
        return False

    assert wb.prepare(docs, SETTINGS.chunking, should_stop=run_starts_after_the_first).documents == 1
    assert wb.prepare(docs, SETTINGS.chunking, should_stop=lambda: True).documents == 0


def test_a_document_the_tokenizer_cannot_read_stops_preparing_without_an_error(tiny_scorer, monkeypatch):
    docs = unseen_documents("bad")
    wb = Workbench(SETTINGS, documents=docs)
    wb.attach(tiny_scorer)

    def broken(document, settings):
        raise RuntimeError("cannot tokenise")

    monkeypatch.setattr(wb.ranker, "prepare", broken)
    assert wb.prepare(docs, SETTINGS.chunking, should_stop=lambda: False).documents == 0  # the run will say what is wrong


def test_edits_say_whether_a_run_is_due(documents):
    wb = Workbench(SETTINGS, documents=documents)
    assert wb.set_query("mars") and not wb.set_query("mars")
    assert not wb.set_settings(SETTINGS) and wb.set_settings(RunSettings(ChunkSettings(32, 4)))
    assert not wb.set_settings(None, "enter whole numbers")
    assert wb.blocker() == "Fix the settings first: enter whole numbers"
    with pytest.raises(SessionInputError):
        wb.replace_text("mars.md", "   ")
    assert wb.document("mars.md").text.startswith("Mars")
    assert wb.replace_text("mars.md", "Phobos only") and wb.edited == {"mars.md"}
    added = wb.add_documents([documents[0]])
    assert [d.id for d in added] == ["grind.md#2"]


def test_recorder_problems_reach_the_listener_as_notices(tiny_scorer, documents):
    class Locked(NullRecorder):
        def begin(self, inputs, model):
            self.notice("run log: this run is not recorded (database is locked)")
            return None

    wb = Workbench(SETTINGS, Locked(), query="mars", documents=documents)
    wb.attach(tiny_scorer)
    listener = Collect(wb)
    assert wb.execute(wb.start_run(), listener) is not None
    assert listener.notices == ["run log: this run is not recorded (database is locked)"]
    assert listener.calls[0] == "chunked" and listener.calls[-1] == "finished"


def test_invalid_settings_are_refused_with_a_message():
    with pytest.raises(ValueError, match="aggregate must be one of"):
        RunSettings(aggregate="median")
    with pytest.raises(ValueError, match="at least 1"):
        RunSettings(top_k=0)


def test_a_compile_that_failed_is_said_in_the_model_notes(tiny_scorer, documents):
    """Scores stay right when the compiled forward fails (it scores eagerly); the user can still
    find out why typing got no faster."""
    from workbench.engine.reranker import Qwen3Reranker

    def no_compiler(graph, example_inputs):
        raise RuntimeError("no C compiler found")

    scorer = Qwen3Reranker(tiny_scorer.model, tiny_scorer.tokenizer, tiny_scorer.info)
    scorer.compile, scorer.compile_backend = True, no_compiler
    session = Workbench(SETTINGS, query="how many copies of my data should I keep?", documents=documents)
    session.attach(scorer)
    assert session.engine_notes() == []
    result = session.run_now()
    assert result.documents[0].doc_id == "backups.txt"
    (note,) = session.engine_notes()
    assert note.startswith("compiled forward off, scoring eagerly: ") and "no C compiler found" in note
