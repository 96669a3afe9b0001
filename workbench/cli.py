"""Command line: `workbench [PATH...]` opens the app; `workbench score` ranks for scripts;
`workbench eval` judges a setup; `workbench sessions` and `workbench locate` reach the run log;
`workbench labels` lists, exports and imports relevance labels.

The commands live in cli_score.py, cli_eval.py, cli_open.py, cli_sessions.py and cli_labels.py; what they share (options,
settings, the model) in cli_common.py. Nothing imported here loads torch: `--help` is instant.
"""

from __future__ import annotations

import sys

import typer

from .cli_open import open_app
from .cli_eval import eval_command
from .cli_labels import labels_app
from .cli_score import score
from .cli_sessions import locate, sessions_app
from .cli_setup import export_setup

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Tune and inspect LLM rerankers (Qwen3-Reranker) on your own documents.",
)

app.command()(score)
app.command("eval")(eval_command)
app.command("open", hidden=True)(open_app)
sessions_app.command("export-setup")(export_setup)
app.add_typer(sessions_app, name="sessions", help="List, show, export and delete logged sessions and runs")
app.add_typer(labels_app, name="labels", help="List, export (queries + qrels for `workbench eval`) and import relevance labels")
app.command("locate", help="Print where the database and config live")(locate)


def _given(value):
    return getattr(value, "value", value)  # typer's Default(...) placeholder for "not given"


def _command_name(name, callback) -> str | None:
    name = _given(name) if isinstance(_given(name), str) else getattr(_given(callback), "__name__", None)
    return name.lower().replace("_", "-") if name else None  # as typer.main.get_command_name


def subcommands(typer_app: typer.Typer = app) -> set[str]:
    """The names `workbench NAME ...` dispatches on, as typer resolves them: every command and
    group registered on the app (so a new one can never be mistaken for a document path)."""
    names = {_command_name(c.name, c.callback) for c in typer_app.registered_commands}
    for group in typer_app.registered_groups:
        own = group.typer_instance
        name = _given(group.name) if isinstance(_given(group.name), str) else own.info.name
        callback = _given(group.callback) or getattr(own.registered_callback, "callback", None)
        names.add(_command_name(name, callback))
    names.discard(None)
    return names


def main() -> None:
    """Entry point: a bare `workbench [PATH...]` means `workbench open [PATH...]`."""
    argv = sys.argv[1:]
    if not argv or (argv[0] not in subcommands() and argv[0] not in ("-h", "--help")):
        argv = ["open", *argv]
    app(args=argv, prog_name="workbench")


if __name__ == "__main__":
    main()
