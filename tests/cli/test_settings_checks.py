"""Chunk and aggregation settings are checked before any model loads, for `score`, `eval` and the
app: a bad value is one line on stderr at once, never a silent replacement, and never a message
that comes only after seconds of loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench.cli import app
from workbench.engine import loading
from workbench.engine.prompt import DEFAULT_INSTRUCTION, PREFIX, SUFFIX, TEMPLATE_TOKENS, check_chunk_fits
from workbench.engine.types import (
    DEFAULT_AGGREGATE,
    DEFAULT_CHUNK_OVERLAP,
    DEFAULT_CHUNK_TOKENS,
    DEFAULT_TOP_K,
    ChunkSettings,
)
from workbench.ui.app import WorkbenchApp

runner = CliRunner()


@pytest.fixture(autouse=True)
def nothing_loads(monkeypatch):
    """A model load (or the app opening) here means a bad setting got past the checks."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a model load was attempted before the settings were checked")

    monkeypatch.setattr(loading, "load_scorer", refuse)
    monkeypatch.setattr(WorkbenchApp, "run", refuse)


@pytest.fixture
def command(tmp_path):
    """argv for each command, on a real document, naming a model that does not exist."""
    doc = tmp_path / "doc.txt"
    doc.write_text("Tides rise and fall twice a day.\n", encoding="utf-8")
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "1", "query": "tides", "relevant": []}) + "\n", encoding="utf-8")
    model = str(tmp_path / "no-such-model")
    return {
        "score": ["score", str(doc), "-q", "tides", "--model", model],
        "eval": ["eval", str(queries), str(doc), "--model", model],
        "open": ["open", str(doc), "--model", model],
    }


def refused_before_loading(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "could not load" not in lines[0] and "no-such-model" not in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


CHUNKING = [
    (["--chunk-tokens", "-5"], "chunk size"),
    (["--chunk-tokens", "32", "--chunk-overlap", "32"], "overlap"),
    (["--chunk-overlap", "-1"], "overlap"),
    (["--max-length", "0"], "--max-length must be at least 64 tokens (got 0)"),  # was: silently 8192
    (["--max-length", "40"], "--max-length must be at least 64"),
    (["--chunk-tokens", "9000"], "--chunk-tokens 9000 does not fit in --max-length 8192"),
    (["--chunk-tokens", "200", "--max-length", "128"], "a chunk can have at most 80"),
]
AGGREGATION = [
    (["--top-k", "0"], "--top-k must be at least 1 (got 0)"),  # was: silently 3
    (["--aggregate", "topk", "--top-k", "-2"], "--top-k must be at least 1 (got -2)"),  # was: silently 1
]


@pytest.mark.parametrize("name", ["score", "eval", "open"])
@pytest.mark.parametrize(("args", "needle"), CHUNKING)
def test_bad_chunking_is_refused_before_the_model_loads(command, name, args, needle):
    refused_before_loading(runner.invoke(app, [*command[name], *args]), needle)


@pytest.mark.parametrize("name", ["score", "open"])
@pytest.mark.parametrize(("args", "needle"), AGGREGATION)
def test_top_k_below_one_is_refused_before_the_model_loads(command, name, args, needle):
    refused_before_loading(runner.invoke(app, [*command[name], *args]), needle)


@pytest.mark.parametrize("name", ["score", "open"])
@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("WORKBENCH_AGGREGATE", "median", "aggregate must be one of max, first, mean, topk (got 'median')"),
        ("WORKBENCH_TOP_K", "0", "--top-k must be at least 1"),
        ("WORKBENCH_CHUNK_TOKENS", "-1", "chunk size"),
    ],
)
def test_bad_defaults_from_the_environment_are_refused_before_the_model_loads(
    command, monkeypatch, name, variable, value, needle
):
    monkeypatch.setenv(variable, value)
    refused_before_loading(runner.invoke(app, command[name]), needle)


def test_the_app_is_given_the_top_k_asked_for(command, monkeypatch):
    seen = {}
    monkeypatch.setattr(WorkbenchApp, "__init__", lambda self, config: seen.update(config=config))
    monkeypatch.setattr(WorkbenchApp, "run", lambda self: None)
    result = runner.invoke(app, [*command["open"], "--aggregate", "topk", "--top-k", "2"])
    assert result.exit_code == 0, result.output
    assert (seen["config"].aggregate, seen["config"].top_k) == ("topk", 2)


def test_the_largest_chunk_that_fits_is_accepted():
    check_chunk_fits(8192 - TEMPLATE_TOKENS, 8192)
    check_chunk_fits(0, 64)  # chunking off: whole documents, truncated as the official code does
    with pytest.raises(ValueError, match="does not fit"):
        check_chunk_fits(8192 - TEMPLATE_TOKENS + 1, 8192)


def test_template_size_matches_the_real_tokenizer(qwen_tokenizer):
    # the pre-load check counts the template without a tokenizer: this holds the count to the real one
    count = len(qwen_tokenizer.encode(PREFIX, add_special_tokens=False))
    count += len(qwen_tokenizer.encode(SUFFIX, add_special_tokens=False))
    assert count == TEMPLATE_TOKENS


# --------------------------------------------------------------------------------------------
# The line names where the bad value was set: the flag, the variable, or the file and line
# --------------------------------------------------------------------------------------------

NAMED_FLAGS = [
    (["--chunk-tokens", "-5"], "--chunk-tokens: chunk size must be 0 (off) or a positive number of tokens (got -5)"),
    (["--chunk-tokens", "32", "--chunk-overlap", "40"], "--chunk-overlap: chunk overlap must be"),
    (["--chunk-overlap", "-1"], "--chunk-overlap: chunk overlap must be"),
    (["--max-length", "10"], "--max-length must be at least 64"),
    (["--chunk-tokens", "9000"], "--chunk-tokens 9000 does not fit"),
]


@pytest.mark.parametrize("name", ["score", "eval", "open"])
@pytest.mark.parametrize(("args", "start"), NAMED_FLAGS)
def test_a_bad_flag_is_named_first(command, name, args, start):
    result = runner.invoke(app, [*command[name], *args])
    refused_before_loading(result)
    assert result.stderr.startswith(f"error: {start}"), result.stderr


@pytest.mark.parametrize("name", ["score", "open"])
def test_a_bad_top_k_flag_is_named(command, name):
    result = runner.invoke(app, [*command[name], "--top-k", "0"])
    refused_before_loading(result)
    assert result.stderr.startswith("error: --top-k must be at least 1 (got 0)"), result.stderr


def test_a_bad_value_from_the_environment_names_the_variable(command, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHUNK_OVERLAP", "300")
    result = runner.invoke(app, command["score"])
    refused_before_loading(result)
    assert result.stderr.startswith("error: environment variable WORKBENCH_CHUNK_OVERLAP: chunk overlap"), result.stderr


def test_a_bad_value_from_the_config_file_names_the_file_and_line(command, cli_env):
    path = Path(cli_env["WORKBENCH_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('model = "x"\naggregate = "topk"\ntop_k = 0\n', encoding="utf-8")
    result = runner.invoke(app, command["open"])
    refused_before_loading(result)
    assert result.stderr.startswith(f"error: {path} line 3: top_k: --top-k must be at least 1 (got 0)"), result.stderr


def test_a_flag_overrides_a_bad_default_without_complaint(command, monkeypatch):
    monkeypatch.setenv("WORKBENCH_TOP_K", "0")
    seen = {}
    monkeypatch.setattr(WorkbenchApp, "__init__", lambda self, config: seen.update(config=config))
    monkeypatch.setattr(WorkbenchApp, "run", lambda self: None)
    result = runner.invoke(app, [*command["open"], "--top-k", "4"])
    assert result.exit_code == 0, result.output
    assert seen["config"].top_k == 4


@pytest.mark.parametrize("name", ["score", "open"])
def test_an_empty_session_name_is_refused_before_the_model_loads(command, name):
    refused_before_loading(runner.invoke(app, [*command[name], "--session", " "]), "--session")


# --------------------------------------------------------------------------------------------
# What `open` hands the app: the settings, and what the user asked for on this command line
# --------------------------------------------------------------------------------------------


@pytest.fixture
def app_config(monkeypatch):
    seen = {}
    monkeypatch.setattr(WorkbenchApp, "__init__", lambda self, config: seen.update(config=config))
    monkeypatch.setattr(WorkbenchApp, "run", lambda self: None)

    def open_with(*args: str):
        result = runner.invoke(app, ["open", *args])
        assert result.exit_code == 0, result.output
        return seen["config"]

    return open_with


def test_open_new_starts_clean_and_names_the_flags_given(app_config, command, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CHUNK_TOKENS", "128")  # a setting, not a flag: not "explicit"
    config = app_config(*command["open"][1:], "--new", "-q", "tides", "--top-k", "2", "--instruction", "Find it")
    assert config.fresh is True and config.documents_given is True
    assert config.explicit == frozenset({"query", "top_k", "instruction"})
    assert (config.query, config.top_k, config.instruction, config.chunking.tokens) == ("tides", 2, "Find it", 128)


def test_open_without_flags_asks_for_nothing_in_particular(app_config):
    config = app_config()
    assert config.fresh is False and config.documents_given is False and config.explicit == frozenset()
    assert (config.chunking, config.aggregate, config.top_k) == (
        ChunkSettings(DEFAULT_CHUNK_TOKENS, DEFAULT_CHUNK_OVERLAP), DEFAULT_AGGREGATE, DEFAULT_TOP_K)
    assert config.instruction == DEFAULT_INSTRUCTION and config.query == ""


@pytest.mark.parametrize("name", ["score", "eval", "open", "corpus"])
def test_compile_flag_reaches_the_model_loader(command, tmp_path, monkeypatch, name):
    """Settings drop names they do not know: a flag passed on under the wrong name would be lost."""
    asked = []

    def loader(options, *_args):
        asked.append(options.compile)
        raise loading.ModelLoadError("stopped here by the test")

    def app_run(self, *_args, **_kwargs):
        asked.append(self.config.load_options.compile)

    monkeypatch.setattr(loading, "load_scorer", loader)
    monkeypatch.setattr(WorkbenchApp, "run", app_run)
    if name == "eval":  # one judged query: eval stops before loading when there is nothing to measure
        judged = tmp_path / "judged.jsonl"
        judged.write_text(json.dumps({"id": "1", "query": "tides", "relevant": [{"doc": "doc.txt"}]}) + "\n", encoding="utf-8")
        argv = ["eval", str(judged), *command["eval"][2:]]
    elif name == "corpus":
        docs = tmp_path / "docs.jsonl"
        docs.write_text(json.dumps({"id": "d", "text": "Tides rise and fall."}) + "\n", encoding="utf-8")
        argv = ["score", "--queries", str(tmp_path / "q.jsonl"), "--docs-jsonl", str(docs), "--out", str(tmp_path / "r.jsonl"),
                "--model", str(tmp_path / "no-such-model")]
    else:
        argv = command[name]
    runner.invoke(app, [*argv, "--compile"])
    runner.invoke(app, argv)
    assert asked == [True, False]
