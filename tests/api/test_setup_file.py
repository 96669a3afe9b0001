"""Setup files: what is accepted, what is refused (one line naming the key), and the round trip
through the writer."""

from __future__ import annotations

import tomllib

import pytest

from workbench.engine.prompt import DEFAULT_INSTRUCTION
from workbench.setup_file import Setup, SetupError, read_setup, write_setup


def test_defaults_and_a_small_chunk_gets_an_eighth_as_overlap():
    assert read_setup({}) == Setup()
    assert read_setup({"chunk_tokens": 16}).chunk_overlap == 2  # as `workbench score --chunk-tokens 16`
    assert read_setup({"chunk_tokens": 16, "chunk_overlap": 0}).chunk_overlap == 0


@pytest.mark.parametrize("data, message", [
    ({"chunk_size": 10}, "unknown key 'chunk_size'"),
    ({"aggregate": "median"}, "aggregate must be one of max, first, mean, topk"),
    ({"normalize": "softmax"}, "normalize must be one of none, minmax, zscore"),
    ({"device": "tpu"}, "device must be one of"),
    ({"chunk_tokens": "256"}, "chunk_tokens must be a whole number"),
    ({"chunk_tokens": True}, "chunk_tokens must be a whole number"),
    ({"top_k": 0}, "top_k must be at least 1"),
    ({"max_length": 10}, "max_length must be at least 64"),
    ({"chunk_tokens": 32, "chunk_overlap": 32}, "chunk_overlap"),
    ({"chunk_tokens": 9000}, "chunk_tokens: chunk-tokens 9000 does not fit in max-length 8192"),
    ({"instruction": " "}, "instruction is empty"),
    ({"instruction": 3}, "instruction must be a string"),
    ({"tokenizer": "Qwen/Qwen3-Reranker-0.6B"}, "tokenizer applies only when model is a server URL"),
])
def test_bad_keys_and_values_name_the_key(data, message):
    with pytest.raises(SetupError, match=message):
        read_setup(data)


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('instruction = "unterminated\n', encoding="utf-8")
    with pytest.raises(SetupError, match="bad.toml: not valid TOML"):
        read_setup(bad)
    typo = tmp_path / "typo.toml"
    typo.write_text("agregate = 'max'\n", encoding="utf-8")
    with pytest.raises(SetupError, match=r"typo.toml: unknown key 'agregate'"):
        read_setup(typo)
    with pytest.raises(SetupError, match="setup file not found"):
        read_setup(tmp_path / "none.toml")
    with pytest.raises(SetupError, match="a setup is a file path, a dict or a Setup"):
        read_setup(42)


@pytest.mark.parametrize("name", ["setup.toml", "setup.json"])
def test_written_setups_read_back_equal(tmp_path, name):
    tricky = 'Judge "policy" docs\\n on\ttwo lines\nand a DEL \x7f, émoji 🙂'
    setup = Setup(model="/models/my reranker", instruction=tricky, chunk_tokens=128, chunk_overlap=16,
                  aggregate="topk", top_k=2, normalize="zscore", quantize="8bit")
    path = write_setup(setup, tmp_path / name, comment="from run 7\nsecond line")
    assert read_setup(path) == setup
    if name.endswith(".toml"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# from run 7\n# second line\n") and tomllib.loads(text)["top_k"] == 2
    with pytest.raises(SetupError, match="already exists"):
        write_setup(setup, path)
    write_setup(Setup(), path, force=True)
    assert read_setup(path).instruction == DEFAULT_INSTRUCTION


def test_a_server_url_becomes_the_backend_and_the_tokenizer_the_model(tiny_model_dir):
    setup = read_setup({"model": "http://127.0.0.1:8000", "tokenizer": str(tiny_model_dir), "backend_api": "rerank"})
    options = setup.load_options()
    assert options.backend == ("http://127.0.0.1:8000",) and options.model == str(tiny_model_dir)
    assert options.backend_api == "rerank"
    local = read_setup({"model": str(tiny_model_dir), "quantize": "8bit"}).load_options()
    assert local.backend == () and local.model == str(tiny_model_dir) and local.quantize == "8bit"
