"""What a user sees when loading: auto choices explained, offline fallback said loudly, a named
model that cannot load is an error (never silently replaced)."""

from __future__ import annotations

import pytest
import torch

from device_under_test import load_options
from workbench.engine.loading import LoadOptions, ModelLoadError, load_scorer, resolve_device, resolve_dtype
from workbench.engine.ranking import Ranker
from workbench.engine.types import ChunkSettings, Document


def test_auto_choices_are_resolved_and_explained(tiny_model_dir):
    scorer = load_scorer(LoadOptions(model=str(tiny_model_dir)))  # device and dtype auto
    if torch.cuda.is_available():  # the GPU run (device_under_test.py)
        assert scorer.info.device == "cuda" and scorer.info.dtype == "bf16"
        assert any("a GPU is present" in c for c in scorer.info.choices)
    else:
        assert scorer.info.device == "cpu" and scorer.info.dtype == "fp32"
        assert any("no CUDA GPU" in c for c in scorer.info.choices)
    assert resolve_dtype("auto", "cpu")[0] == "fp32"
    assert resolve_dtype("bf16", "cpu")[0] == "bf16"


def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ModelLoadError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_named_model_that_cannot_load_is_an_error(tmp_path):
    with pytest.raises(ModelLoadError):
        load_scorer(LoadOptions(model=str(tmp_path / "missing")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match="could not load"):
        load_scorer(LoadOptions(model=str(tmp_path / "empty")))
    with pytest.raises(ModelLoadError):
        load_scorer(LoadOptions(model="no-such-org/no-such-model", offline=True))


def test_bad_option_values_are_refused():
    with pytest.raises(ValueError, match="--quantize"):
        LoadOptions(quantize="3bit")


def test_default_model_offline_falls_back_to_the_embedding_model_and_says_so():
    messages = []
    scorer = load_scorer(LoadOptions(offline=True), messages.append)
    assert scorer.info.is_fallback
    assert "not in the local model cache" in scorer.info.fallback_reason
    assert any("offline fallback" in m for m in messages)
    docs = [
        Document("mars", "Mars is called the Red Planet because iron oxide dust covers its surface."),
        Document("coffee", "Tamp the espresso evenly and pull a 30 second shot."),
    ]
    result = Ranker(scorer).rank("Why is Mars red?", "", docs, ChunkSettings(tokens=0))
    assert result.documents[0].doc_id == "mars"  # meaningful, not random
    assert result.model.is_fallback and result.model.to_dict()["fallback"] is True


def test_compile_is_off_unless_asked_and_said_when_on(tiny_model_dir, tiny_scorer):
    assert not tiny_scorer.compile and not any("compiled forward" in c for c in tiny_scorer.info.choices)
    compiled = load_scorer(load_options(model=str(tiny_model_dir), compile=True))
    assert compiled.compile
    assert any(c.startswith("compiled forward (inductor, as asked)") for c in compiled.info.choices)
    # Compiling changes no score: both share the score cache.
    assert compiled.info.fingerprint() == tiny_scorer.info.fingerprint()


def test_compile_asked_of_the_offline_fallback_says_it_runs_eagerly():
    scorer = load_scorer(LoadOptions(offline=True, compile=True))
    assert scorer.info.is_fallback
    assert "compile asked for: the offline fallback runs eagerly" in scorer.info.choices


def test_batch_commands_score_no_early_batch_for_a_quick_first_row(tiny_model_dir, tiny_scorer):
    """The app (loading's default) scores a call's smallest batch first, on every core, to show rows
    at once; a command waits for the whole call anyway, so it keeps every batch on a core of its
    own (test_passes_per_core.py) and the model's details say so."""
    from workbench.cli_common import load_scorer as load_for_a_command

    command = load_for_a_command(load_options(model=str(tiny_model_dir)))
    assert not command.quick_first_batch
    assert tiny_scorer.quick_first_batch == (tiny_scorer.device.type == "cpu")
    if tiny_scorer.device.type == "cpu":
        assert any(c.endswith("so the first rows come at once") for c in tiny_scorer.info.choices)
        assert any(c.endswith("no quick first batch (a batch command: throughput first)") for c in command.info.choices)
    # The schedule changes no score: both share the score cache.
    assert command.info.fingerprint() == tiny_scorer.info.fingerprint()


def test_setup_warms_the_loaders_imports_with_bytecode_written_but_not_the_workbenchs(tmp_path):
    """scripts/setup --compile-in-background runs warm_imports first: every import it names must
    exist in the installed releases (a renamed one would silently cost a first launch seconds),
    and it writes the libraries' bytecode even where PYTHONDONTWRITEBYTECODE is set."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", "from workbench.engine.loading import warm_imports; warm_imports()"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    written = [p.as_posix() for p in tmp_path.rglob("*.pyc")]
    for library in ("/torch/", "/transformers/", "/tokenizers/", "/safetensors/"):
        assert any(library in p for p in written), library
    assert not any("/workbench/" in p for p in written)
