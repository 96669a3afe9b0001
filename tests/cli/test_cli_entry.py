"""The console entry: which first words are commands (derived from the app, never a hand list),
and a `--help` that stays instant (no torch, no pydantic-settings at import)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from workbench import cli


@pytest.fixture
def dispatched(monkeypatch):
    """main()'s argv as it reaches the typer app."""
    seen: list[list[str]] = []
    monkeypatch.setattr(cli, "app", lambda args, prog_name: seen.append(list(args)))

    def run(*argv: str) -> list[str]:
        monkeypatch.setattr(sys, "argv", ["workbench", *argv])
        cli.main()
        return seen[-1]

    return run


@pytest.mark.parametrize(
    "argv",
    [
        ["locate"],
        ["sessions", "list"],
        ["sessions", "show", "3", "--run"],
        ["score", "notes.txt", "-q", "tides"],
        ["eval", "q.jsonl", "docs"],
        ["open", "notes.txt"],
        ["--help"],
        ["-h"],
    ],
)
def test_commands_are_not_taken_for_documents(dispatched, argv):
    assert dispatched(*argv) == argv


@pytest.mark.parametrize("argv", [[], ["notes.txt"], ["docs/", "-q", "tides"], ["scores"], ["--new", "notes.txt"]])
def test_anything_else_opens_the_app(dispatched, argv):
    assert dispatched(*argv) == ["open", *argv]


def test_the_dispatch_list_is_every_command_typer_knows():
    known = set(typer.main.get_command(cli.app).commands)  # what click itself dispatches on
    assert cli.subcommands() == known == {"score", "eval", "open", "sessions", "labels", "locate"}


def test_a_new_command_or_group_is_dispatched_without_editing_a_list():
    app = typer.Typer()

    def export_all() -> None: ...

    group = typer.Typer(name="presets")
    group.command("list")(export_all)
    app.command()(export_all)
    app.add_typer(group)
    app.add_typer(typer.Typer(), name="runs")
    assert cli.subcommands(app) == {"export-all", "presets", "runs"} == set(typer.main.get_command(app).commands)


def test_importing_the_cli_loads_neither_torch_nor_pydantic_settings():
    code = "import sys, workbench.cli; print(sorted(m for m in ('torch', 'pydantic_settings') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"
