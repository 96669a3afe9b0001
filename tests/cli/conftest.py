"""Fixtures for the command-line tests: isolated data/config dirs, a shared loaded tiny model,
and small document sets written to disk the way a user would have them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import LONG_TEXT


@pytest.fixture(autouse=True)
def cli_env(tmp_path, monkeypatch) -> dict[str, str]:
    """Every test gets its own data and config dirs and a hub that is never contacted.

    Returns the environment to hand to a subprocess."""
    data, config = tmp_path / "wb-data", tmp_path / "wb-config"
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(config))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: do not wrap document names
    for key in list(os.environ):  # a user's WORKBENCH_MODEL etc. must not leak into the tests
        if key.startswith("WORKBENCH_") and key not in ("WORKBENCH_DATA_DIR", "WORKBENCH_CONFIG_DIR"):
            monkeypatch.delenv(key)
    env = dict(os.environ)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


@pytest.fixture
def corpus(tmp_path) -> Path:
    """A folder of three text documents (one nested) plus files the folder scan must ignore."""
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "france.txt").write_text(
        "Paris is the capital and largest city of France. The Eiffel Tower stands on the Seine.\n",
        encoding="utf-8",
    )
    (root / "bread.md").write_text(
        "# Baking bread\n\nMix flour, water, salt and yeast. Knead, let it rise, then bake.\n",
        encoding="utf-8",
    )
    (root / "sub" / "tides.txt").write_text(LONG_TEXT, encoding="utf-8")
    (root / "script.py").write_text("print('not a document')\n", encoding="utf-8")
    (root / "data.json").write_text('{"not": "a document"}\n', encoding="utf-8")
    return root


@pytest.fixture
def long_doc(tmp_path) -> Path:
    path = tmp_path / "long.txt"
    path.write_text(LONG_TEXT, encoding="utf-8")
    return path
