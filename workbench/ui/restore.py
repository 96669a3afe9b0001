"""Starting where the user left off: the previous launch's documents, query, instruction and
settings come back, except what this launch was given on the command line (`--new`: nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.store import StoredRun

if TYPE_CHECKING:
    from .app import WorkbenchApp


def restore_last_launch(app: WorkbenchApp, run: StoredRun) -> None:
    config, session = app.config, app.session
    given = config.explicit
    keep = set(given & {"query", "instruction", "aggregate", "top_k"})
    if given & {"chunk_tokens", "chunk_overlap"}:
        keep.add("chunking")
    if config.documents_given:
        keep.add("documents")
    session.restore_inputs(run, frozenset(keep))
    app.main.load_inputs(session.query, session.instruction, session.settings)
    app.refresh_views()
    what = ", ".join(
        part for part, restored in (
            (f"{len(session.documents)} documents", not config.documents_given),
            ("the query", "query" not in given and bool(run.query)),
            ("the instruction", "instruction" not in given),
            ("the settings", not given),
        ) if restored
    )
    app.notify(f"Restored from your last session: {what}. `workbench --new` starts clean.",
               title="Welcome back", timeout=8)
    app.schedule_run(0)


def start_with_starter_query(app: WorkbenchApp) -> None:
    """A first launch shows a ranking without any typing: the starter query (scripts/launch gives
    one for the sample documents) is filled in and scored as soon as the model is ready."""
    app.session.set_query(app.config.starter_query)
    app.main.load_inputs(app.session.query, app.session.instruction, app.session.settings)
    app.notify(f"Example query: “{app.config.starter_query}”. Type your own in the query box.", title="Welcome", timeout=8)
    app.schedule_run(0)
