"""Starting where the user left off: the previous launch's documents, query, instruction and
settings come back, except what this launch was given on the command line (`--new`: nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.session import RunSettings
from workbench.store import StoredRun

if TYPE_CHECKING:
    from .app import WorkbenchApp


def restore_last_launch(app: WorkbenchApp, run: StoredRun) -> None:
    config, session = app.config, app.session
    given = config.explicit
    documents = session.documents if config.documents_given else list(run.documents)
    query = config.query if "query" in given else run.query
    instruction = config.instruction if "instruction" in given else run.instruction
    current = session.settings
    try:
        settings = RunSettings(
            current.chunking if given & {"chunk_tokens", "chunk_overlap"} else run.chunking,
            current.aggregate if "aggregate" in given else run.aggregate,
            current.top_k if "top_k" in given else run.top_k,
        )
    except ValueError:  # a logged setting this version refuses: keep this launch's
        settings = current
    session.set_documents(documents)
    session.set_query(query)
    session.set_instruction(instruction)
    session.set_settings(settings)
    app.main.load_inputs(query, instruction, settings)
    app.refresh_views()
    what = ", ".join(
        part for part, restored in (
            (f"{len(documents)} documents", not config.documents_given),
            ("the query", "query" not in given and bool(run.query)),
            ("the instruction", "instruction" not in given),
            ("the settings", not given),
        ) if restored
    )
    app.notify(f"Restored from your last session: {what}. `workbench --new` starts clean.",
               title="Welcome back", timeout=8)
    app.schedule_run(0)
