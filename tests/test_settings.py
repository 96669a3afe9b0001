"""A broken config.toml (or WORKBENCH_* variable) is one line naming the file, line and key, for
every command: never a TOMLDecodeError or pydantic traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from workbench.settings import ConfigError, Settings

BROKEN_SYNTAX = 'model = "Qwen/Qwen3-Reranker-0.6B"\n\nchunk_tokens = \n'
BAD_VALUE = 'model = "Qwen/Qwen3-Reranker-0.6B"\nchunk_tokens = "abc"\n'


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("WORKBENCH_CHUNK_TOKENS", "WORKBENCH_DB", "WORKBENCH_MODEL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir()

    def write(text: str):
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_a_syntax_error_names_the_file_and_line(config):
    path = config(BROKEN_SYNTAX)
    with pytest.raises(ConfigError) as err:
        Settings()
    assert str(err.value) == f"{path} line 3: Invalid value (column 16)"


def test_a_bad_value_names_the_file_line_and_key(config):
    path = config(BAD_VALUE)
    with pytest.raises(ConfigError) as err:
        Settings()
    message = str(err.value)
    assert message.startswith(f"{path} line 2: chunk_tokens: Input should be a valid integer")
    assert "'abc'" in message and "\n" not in message


def test_a_bad_environment_variable_is_named(config, monkeypatch):
    config('model = "x"\n')
    monkeypatch.setenv("WORKBENCH_CHUNK_TOKENS", "lots")
    with pytest.raises(ConfigError, match=r"^environment variable WORKBENCH_CHUNK_TOKENS: Input should be"):
        Settings()


@pytest.mark.parametrize("text", [BROKEN_SYNTAX, BAD_VALUE])
@pytest.mark.parametrize("args", [["sessions", "list"], ["sessions", "export"], ["score", "x.txt", "-q", "q"], ["open"]])
def test_every_command_reports_a_broken_config_in_one_line(config, text, args):
    from workbench.cli import app

    path = config(text)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path} line ")


def test_locate_still_says_where_the_config_is(config):
    from workbench.cli_sessions import locate
    import typer

    path = config(BROKEN_SYNTAX)
    app = typer.Typer()
    app.command()(locate)
    app.command("other", hidden=True)(lambda: None)
    result = CliRunner().invoke(app, ["locate"])
    assert result.exit_code == 2
    assert f"config:    {path}" in result.stdout and f"{path} line 3" in result.stderr
