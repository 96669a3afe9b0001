"""A broken config.toml (or WORKBENCH_* variable) is one line naming the file, line and key, for
every command: never a TOMLDecodeError or pydantic traceback."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from workbench.engine.loading import LoadOptions
from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.engine.types import DEFAULT_CHUNK_OVERLAP, DEFAULT_TOP_K, ChunkSettings
from workbench.session.inputs import RunSettings
from workbench.settings import ConfigError, Settings

BROKEN_SYNTAX = 'model = "Qwen/Qwen3-Reranker-0.6B"\n\nchunk_tokens = \n'
BAD_VALUE = 'model = "Qwen/Qwen3-Reranker-0.6B"\nchunk_tokens = "abc"\n'


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    for name in [key for key in os.environ if key.upper().startswith("WORKBENCH_") and "_DIR" not in key.upper()]:
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


# --------------------------------------------------------------------------------------------
# Sources, first wins: flags (init kwargs), WORKBENCH_* variables, config.toml, built-in defaults
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_config", "in_env", "flag", "expected"),
    [
        (None, None, None, DEFAULT_TOP_K),
        (5, None, None, 5),
        (5, "6", None, 6),
        (5, "6", 7, 7),
        (None, None, 7, 7),
        (5, None, 7, 7),
    ],
)
def test_top_k_comes_from_the_first_source_that_sets_it(config, monkeypatch, in_config, in_env, flag, expected):
    config(f"top_k = {in_config}\n" if in_config is not None else "")
    if in_env is not None:
        monkeypatch.setenv("WORKBENCH_TOP_K", in_env)
    settings = Settings(**({"top_k": flag} if flag is not None else {}))
    assert settings.top_k == expected
    assert settings.run_settings().top_k == expected


def test_source_of_names_where_each_value_was_set(config, monkeypatch):
    path = config("model = 'x'\n\nchunk_tokens = 64\n")
    monkeypatch.setenv("WORKBENCH_TOP_K", "4")
    settings = Settings(aggregate="topk")
    assert settings.source_of("aggregate") == "--aggregate"
    assert settings.source_of("top_k") == "environment variable WORKBENCH_TOP_K"
    assert settings.source_of("chunk_tokens") == f"{path} line 3: chunk_tokens"
    assert settings.source_of("chunk_overlap") is None


def test_the_defaults_are_the_engines(config):
    config("")
    settings = Settings()
    assert settings.run_settings() == RunSettings()  # the session's own defaults
    options = settings.load_options()
    assert options == LoadOptions() and settings.instruction == DEFAULT_INSTRUCTION


@pytest.mark.parametrize("where", ["flag", "env", "config"])
def test_a_small_chunk_size_gets_a_smaller_overlap_unless_one_is_set(config, monkeypatch, where):
    flags = {}
    if where == "flag":
        flags["chunk_tokens"] = 16
    elif where == "env":
        monkeypatch.setenv("WORKBENCH_CHUNK_TOKENS", "16")
    config("chunk_tokens = 16\n" if where == "config" else "")
    assert Settings(**flags).run_settings().chunking == ChunkSettings(16, 2)
    with pytest.raises(ConfigError, match="chunk overlap must be"):  # set by the user: never replaced
        Settings(**flags, chunk_overlap=DEFAULT_CHUNK_OVERLAP).run_settings()


def test_a_bad_flag_value_is_one_line_naming_the_flag(config):
    config("")
    with pytest.raises(ConfigError) as err:
        Settings(top_k=0, aggregate="topk").run_settings()
    assert str(err.value).startswith("--top-k must be at least 1 (got 0)")
    with pytest.raises(ConfigError, match=r"^--chunk-tokens: chunk size must be .* \(got -3\)$"):
        Settings(chunk_tokens=-3).run_settings()
    with pytest.raises(ConfigError, match=r"^--dtype must be one of"):
        Settings(dtype="fp8").load_options()
    with pytest.raises(ConfigError, match=r"^--top-k: Input should be a valid integer"):
        Settings(top_k="many")


@pytest.mark.parametrize(("where", "expected"), [(None, False), ("flag", True), ("env", True), ("config", True)])
def test_compile_is_off_unless_asked_for_anywhere(config, monkeypatch, where, expected):
    """--compile, WORKBENCH_COMPILE or `compile = true` in config.toml all reach the model loader."""
    config("compile = true\n" if where == "config" else "")
    if where == "env":
        monkeypatch.setenv("WORKBENCH_COMPILE", "1")
    settings = Settings(**({"compile": True} if where == "flag" else {}))
    assert settings.load_options().compile is expected
