"""The query set (--queries): read it once the window is open, score it in the background after
each complete live ranking, cancel it on every edit (workbench/session/query_set.py)."""

from __future__ import annotations

from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from workbench.session import SessionInputError
from workbench.session.query_set import QuerySet, read_query_set, score_query_set

from .app_parts import AppPart
from .widgets.query_set_pane import QuerySetPane


class QuerySetProgress(Message):
    def __init__(self, text: str, lines: list[str] | None = None) -> None:
        super().__init__()
        self.text, self.lines = text, lines


class QuerySetActions(AppPart):
    def load_query_set(self) -> None:
        config = self.config
        if config.queries is None:
            return
        texts = {d.id: d.text for d in self.session.documents}
        try:
            query_set, problems = read_query_set(config.queries, config.qrels, texts)
        except OSError as e:
            query_set, problems = None, [f"{config.queries}: {e.strerror or e}"]
        for problem in problems[:5]:
            self.notify(problem, title="Query set not loaded", severity="error", timeout=15)
        self.session.query_set = query_set
        if query_set is not None:
            self.widget(QuerySetPane).status(f"{len(query_set.queries)} judged queries from {query_set.source}: "
                                             "scored when the live ranking is complete.")

    def rescore_query_set(self) -> None:
        """After a complete live ranking: the set under the current instruction (and the pinned A's)."""
        query_set, session = self.session.query_set, self.session
        if query_set is None or session.ranker is None:
            return
        instructions = [("current", session.instruction)]
        if session.ab.a is not None and session.ab.a.instruction != session.instruction:
            instructions.append(("A", session.ab.a.instruction))
        self.widget(QuerySetPane).status(f"Scoring {len(query_set.queries)} queries × {len(instructions)} instructions…")
        self.score_set(query_set, instructions)

    def cancel_query_set(self) -> None:
        if self.session.query_set is not None:
            self.workers.cancel_group(self, "query set")

    def stop_query_set(self) -> None:
        """Cancel on request (the palette); the next complete live ranking starts it again."""
        self.cancel_query_set()
        if self.session.query_set is not None:
            self.widget(QuerySetPane).status("Cancelled. It starts again after the next run (ctrl+r).")

    @work(thread=True, exclusive=True, exit_on_error=False, group="query set", name="scoring the query set")
    def score_set(self, query_set: QuerySet, instructions: list[tuple[str, str]]) -> None:
        worker = get_current_worker()
        try:
            lines = score_query_set(self.session, query_set, instructions, lambda: worker.is_cancelled,
                                    lambda text: self.post_message(QuerySetProgress(text)))
        except SessionInputError:
            return  # cancelled by an edit: a new one starts when the live ranking is complete
        self.post_message(QuerySetProgress("Scored for the instruction on screen" + (" and A." if len(instructions) > 1 else "."), lines))

    def on_query_set_progress(self, message: QuerySetProgress) -> None:
        self.widget(QuerySetPane).status(message.text)
        if message.lines is not None:
            self.widget(QuerySetPane).report(message.lines)
