"""Fixtures for the headless session: the tiny model, three small documents."""

from __future__ import annotations

import pytest

from workbench.engine.types import Document


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir):
    from workbench.engine.loading import LoadOptions, load_scorer

    return load_scorer(LoadOptions(model=str(tiny_model_dir)))


@pytest.fixture
def documents() -> list[Document]:
    return [
        Document("grind.md", "Espresso needs a fine grind. A coarse grind under-extracts and tastes sour. " * 6),
        Document("mars.md", "Mars has two small moons, Phobos and Deimos. Rovers explore its surface. " * 6),
        Document("backups.txt", "Keep three copies of your data on two media, one off site. " * 6),
    ]


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
