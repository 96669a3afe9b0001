"""Starting where the user left off: the previous launch's documents, query, instruction and
settings come back, except what this launch was given on the command line (`--new`: nothing),
and so does its ranking, from the run log, while the model loads, if nothing it came from changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.engine.types import DEFAULT_MODEL, ModelInfo
from workbench.store import StoredRun

if TYPE_CHECKING:
    from workbench.engine.loading import LoadOptions

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
    # The last ranking, as logged, while the model loads: it is what a run on the same inputs will
    # give (from the score cache, with the same model) and the model takes seconds to load.
    ranking_shown = loads_the_logged_model(config.load_options, run.model) and session.show_logged_if_current(run)
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
    ranking = " Its ranking is shown from the run log until the model has scored it again." if ranking_shown else ""
    app.notify(f"Restored from your last session: {what}.{ranking} `workbench --new` starts clean.",
               title="Welcome back", timeout=8)
    app.schedule_run(0)


def loads_the_logged_model(options: LoadOptions, logged: ModelInfo) -> bool:
    """Whether this launch is loading the model a logged run was ranked by, as far as can be told
    before it has loaded: the same name, or the default (which may come up as the offline
    fallback). Another model's ranking is not shown, not even for the seconds of loading."""
    if options.backend:
        return False  # a server's model is known only once it answers
    if options.model is None:
        return logged.model_id == DEFAULT_MODEL or logged.is_fallback
    return logged.model_id == options.model


def start_with_starter_query(app: WorkbenchApp) -> None:
    """A first launch shows a ranking without any typing: the starter query (scripts/launch gives
    one for the sample documents) is filled in and scored as soon as the model is ready."""
    app.session.set_query(app.config.starter_query)
    app.main.load_inputs(app.session.query, app.session.instruction, app.session.settings)
    app.notify(f"Example query: “{app.config.starter_query}”. Type your own in the query box.", title="Welcome", timeout=8)
    app.schedule_run(0)
