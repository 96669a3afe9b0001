from __future__ import annotations

import pytest

from workbench.store import RunLog, open_store


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    """Point every store test at its own data and config dirs (never the user's)."""
    data = tmp_path / "data"
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))
    return data


@pytest.fixture
def store(data_dir):
    store = open_store()
    yield store
    store.close()


@pytest.fixture
def log(store):
    return RunLog(store)
