"""Setup files on the command line: `workbench score --setup FILE` and
`workbench sessions export-setup RUN_ID` (registered on the sessions group in cli.py).

A setup file's values act as defaults under the flags given: `--setup tuned.toml --chunk-tokens
128` ranks with the file's instruction and model and 128-token chunks. The file wins over
WORKBENCH_* variables and config.toml, since naming a file is as explicit as a flag.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from .cli_common import fail, warn
from .cli_sessions import DbOption, clean_errors, run_log

# Setup keys that are `configure` flags of the same name (instruction and model are handled apart).
_FLAG_KEYS = ("device", "dtype", "quantize", "chunk_tokens", "chunk_overlap", "max_length", "aggregate", "top_k")


def with_setup(path: Path | None, flags: dict[str, Any], normalize: str | None) -> tuple[dict[str, Any], str]:
    """`flags` (for `configure`) with the setup file's values filled in where no flag was given,
    and the normalization to apply. Exit status 2 with one line when the file cannot be used."""
    if path is None:
        return flags, normalize or "none"
    from .setup_file import SetupError, read_setup

    try:
        setup = read_setup(path)
    except SetupError as e:
        fail(str(e), 2)
    given = dict(flags)
    from_file = setup.to_dict(all_keys=True)  # defaults too: the file wins over WORKBENCH_* and config.toml
    for key in ("instruction", *_FLAG_KEYS):
        if given.get(key) is None and key in from_file:
            given[key] = from_file[key]
    if given.get("model") is None and setup.backend:
        if not given.get("backend"):  # (with --backend: those servers, the file's tokenizer)
            given["backend"] = list(setup.backend)
            for key in ("backend_api", "backend_scores"):
                given[key] = given.get(key) or getattr(setup, key)
        given["model"] = setup.tokenizer  # with a server, the model names the tokenizer
    else:
        given["model"] = setup.model if given.get("model") is None else given["model"]
        if not given.get("backend") and "backend" in flags:
            given["backend"] = ""  # the file names a local model: a WORKBENCH_BACKEND does not apply
    return given, normalize or setup.normalize


@clean_errors
def export_setup(
    run_id: Annotated[int, typer.Argument(help="A logged run (see `workbench sessions show`).")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (.toml, or .json); none or -: stdout.", dir_okay=False)] = None,
    best: Annotated[bool, typer.Option("--best", help="The best instruction tried for this run's query, under its labels.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --output if it exists.")] = False,
    db: DbOption = None,
) -> None:
    """Write the setup a run was ranked with (or the best so far for its query) for
    `workbench score --setup`, `workbench.load_setup` and the LangChain / LlamaIndex adapters."""
    from .setup_file import SetupError, setup_comment, setup_from_run, write_setup

    with run_log(db, readonly=True) as log:
        run = log.load_run(run_id)
        if best:
            run = log.load_run(_best_run(log, run))
    setup, notes = setup_from_run(run)
    for note in notes:
        warn(f"note: {note}")
    comment = setup_comment(run.id, run.query)
    if output is None or str(output) == "-":
        sys.stdout.write(setup.to_toml(comment))
        return
    try:
        write_setup(setup, output, comment, force=force)
    except SetupError as e:
        fail(f"{e} or pass --force" if "already exists" in str(e) else str(e))
    typer.echo(f"wrote the setup of run {run.id} to {output}", err=True)


def _best_run(log, run) -> int:
    """The run with the best instruction tried for `run`'s query (chunk nDCG under its labels)."""
    from .session.history import RunHistory
    from .session.live_metrics import LIVE_K
    from .session.labelling import QueryLabels
    from .session.tried import instructions_tried
    from .store.labels import labels_for

    class _Labels:  # the one recorder method QueryLabels.load reads
        def labels(self, query):
            return labels_for(log.store, query)

    labels = QueryLabels()
    labels.load(_Labels(), run.query, run.documents)
    tried = instructions_tried(RunHistory(log.store, lambda: (None, "")), run.query, labels, run.documents)
    # Chunk nDCG as the app's list (F6) ranks them; document nDCG when only whole documents are labelled.
    level = "chunk" if any(t.key_figure() is not None for t in tried) else "document"
    figures = [(t.metrics or {}).get(level, {}).get(f"nDCG@{LIVE_K}") for t in tried]
    if all(f is None for f in figures):
        fail(f"--best needs relevance labels for run {run.id}'s query (label chunks in the app, or `workbench labels import`)")
    best = max(range(len(tried)), key=lambda n: (figures[n] if figures[n] is not None else -1.0, -n))  # ties: newest
    top = tried[best]
    warn(f"best so far: run {top.run_id}, {level} nDCG@{LIVE_K} {figures[best]:.3f} over {len(tried)} instruction(s) tried")
    return top.run_id
