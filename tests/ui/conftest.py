"""Fixtures for the UI tests: one tiny Qwen3 reranker per session, an app factory with an injected
(fake) run log and a presets file in tmp_path, and isolated data/config directories."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from ui_helpers import FakeRecorder, RecordingApp, sample_documents  # noqa: E402

from workbench.engine.loading import LoadOptions, load_scorer  # noqa: E402
from workbench.engine.scorer import Scorer  # noqa: E402
from workbench.engine.types import ChunkSettings  # noqa: E402
from workbench.session import RunRecorder  # noqa: E402
from workbench.ui.app import WorkbenchConfig  # noqa: E402
from workbench.ui.presets import StorePresets  # noqa: E402


@pytest.fixture(scope="session")
def tiny_model_dir(request) -> Path:
    """The tiny random reranker, built once and kept in pytest's cache (keyed by the builder's
    source and the transformers version, so a change rebuilds it): building costs ~8 s."""
    import hashlib
    import shutil
    import tempfile

    import transformers

    from workbench.testing import tiny_qwen

    sources = sorted(Path(tiny_qwen.__file__).parent.glob("*.py"))  # the model and its tokenizer builders
    key = hashlib.sha256(b"".join(p.read_bytes() for p in sources) + transformers.__version__.encode()).hexdigest()[:12]
    home = request.config.cache.mkdir(f"tiny-qwen3-{key}-renamed")  # not a half-built one from before
    model = home / "tiny-qwen3"  # the status bar shows this name: snapshots rely on it
    if not model.exists():
        # On a fresh checkout every pytest worker (scripts/test runs several) gets here at once:
        # each builds a copy of its own and renames it into place, so none ever reads a half-built
        # one; the first rename wins and the others' identical copies are dropped.
        building = Path(tempfile.mkdtemp(prefix="building-", dir=home))
        tiny_qwen.save_tiny_qwen3_reranker(building / "tiny-qwen3")
        try:
            os.rename(building / "tiny-qwen3", model)
        except OSError:
            if not model.exists():
                raise
        shutil.rmtree(building, ignore_errors=True)
    return model


@pytest.fixture(scope="session")
def tiny_scorer(tiny_model_dir) -> Scorer:
    return load_scorer(LoadOptions(model=str(tiny_model_dir)))


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Never touch the user's data or config directories."""
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def make_app(tiny_scorer, tiny_model_dir, tmp_path) -> Callable[..., RecordingApp]:
    """An app on the small documents, tiny model preloaded (pass scorer=None to load it)."""

    def factory(*, scorer: Scorer | None | str = "tiny", recorder: RunRecorder | None | str = "fake", **config) -> RecordingApp:
        options = dict(
            load_options=LoadOptions(model=str(tiny_model_dir)),
            documents=sample_documents(),
            chunking=ChunkSettings(tokens=48, overlap=8),
            debounce_s=0.05,
        )
        options.update(config)
        return RecordingApp(
            WorkbenchConfig(**options),
            scorer=tiny_scorer if scorer == "tiny" else scorer,
            recorder=FakeRecorder() if recorder == "fake" else recorder,  # None: open config.db
            presets=StorePresets(tmp_path / "presets.db"),
        )

    return factory
