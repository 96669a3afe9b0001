"""The offline model's own encoder: the hidden states transformers' BertModel gives, from the same
package, loaded without transformers' model classes (seconds of every offline launch)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch

from workbench.engine.fallback import fallback_model_dir
from workbench.engine.loading import LoadOptions, ModelLoadError, load_fallback
from workbench.engine.minilm import MiniLMEncoder


def padded_rows() -> tuple[torch.Tensor, torch.Tensor]:
    """Three rows of 40, 25 and 10 tokens ([CLS] first), padded with [PAD] (0) to 40."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1000, 30000, (3, 40), generator=g)
    ids[:, 0] = 101
    mask = torch.ones_like(ids)
    mask[1, 25:] = 0
    mask[2, 10:] = 0
    return ids * mask, mask


def test_hidden_states_equal_transformers_bert_model_with_and_without_padding():
    from transformers import AutoModel

    ours = MiniLMEncoder.load(fallback_model_dir())
    reference = AutoModel.from_pretrained(fallback_model_dir()).eval()
    ids, mask = padded_rows()
    with torch.inference_mode():
        got = ours(input_ids=ids, attention_mask=mask)
        want = reference(input_ids=ids, attention_mask=mask).last_hidden_state
        tokens = mask.bool()
        torch.testing.assert_close(got[tokens], want[tokens], atol=1e-5, rtol=1e-4)
        # a row alone, nothing padded (no attention mask is passed then)
        torch.testing.assert_close(ours(input_ids=ids[:1], attention_mask=mask[:1]),
                                   reference(input_ids=ids[:1], attention_mask=mask[:1]).last_hidden_state,
                                   atol=1e-5, rtol=1e-4)


def test_a_row_scores_the_same_alone_as_beside_a_longer_one():
    """Padding in a batch must not leak into a row's real tokens."""
    ours = MiniLMEncoder.load(fallback_model_dir())
    ids, mask = padded_rows()
    with torch.inference_mode():
        together = ours(input_ids=ids, attention_mask=mask)[2, :10]
        alone = ours(input_ids=ids[2:, :10], attention_mask=mask[2:, :10])[0]
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)


def test_the_offline_fallback_loads_without_transformers_model_classes():
    """Importing transformers' model classes took ~3 s of a 2-core launch: the fallback must not."""
    code = ("import sys\n"
            "from workbench.engine.loading import LoadOptions, load_scorer\n"
            "scorer = load_scorer(LoadOptions())\n"
            "print(scorer.info.is_fallback, 'transformers.modeling_utils' in sys.modules)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}  # no hub: the default reranker is not found
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["True", "False"]


def test_damaged_offline_weights_are_a_clear_load_error(tmp_path, monkeypatch):
    shutil.copy(fallback_model_dir() / "config.json", tmp_path / "config.json")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(fallback_model_dir() / name, tmp_path / name)
    (tmp_path / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header}")
    monkeypatch.setattr("workbench.engine.fallback.fallback_model_dir", lambda: tmp_path)
    with pytest.raises(ModelLoadError, match="offline fallback failed: the offline model's weights do not load"):
        load_fallback(LoadOptions(device="cpu"), reason="testing")
