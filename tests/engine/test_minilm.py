"""The offline model read without transformers: the hidden states its BertModel gives and the tokens
its BertTokenizer gives, from the same package, without importing transformers (seconds of every
offline launch)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoTokenizer

from workbench.engine.fallback import fallback_model_dir, read_long_words_in_pieces
from workbench.engine.loading import LoadOptions, ModelLoadError, load_fallback
from workbench.engine.minilm import MiniLMEncoder, MiniLMTokenizer

SAMPLE_DOCS = Path(__file__).resolve().parents[2] / "sample_data" / "docs"


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


TEXTS = [
    "Nightly backups are kept for 35 days; monthly ones for a year.",
    "naïve café ŒUVRE, Straße \u200b zero\x00width \U0001F600 emoji",
    "日本語のテキスト。中文的句子！한국어",
    "internationalization " * 30 + "abcdefghij" * 60,  # a 600-character word: read in pieces
    "", "   \n\t ",
]


@pytest.fixture(scope="module")
def tokenizers() -> tuple[MiniLMTokenizer, object]:
    """Ours and transformers', both set to read long words in pieces as the fallback does."""
    ours, reference = MiniLMTokenizer(fallback_model_dir()), AutoTokenizer.from_pretrained(fallback_model_dir())
    read_long_words_in_pieces(ours)
    read_long_words_in_pieces(reference)
    return ours, reference


@pytest.mark.parametrize("special", [False, True])
def test_tokens_offsets_and_words_equal_transformers_tokenizer(tokenizers, special):
    ours, reference = tokenizers
    texts = TEXTS + [p.read_text(encoding="utf-8") for p in sorted(SAMPLE_DOCS.iterdir())]
    for text in texts:  # one text at a time, as the chunker asks
        got = ours(text, add_special_tokens=special, return_offsets_mapping=True, return_attention_mask=False)
        want = reference(text, add_special_tokens=special, return_offsets_mapping=True, return_attention_mask=False)
        assert got["input_ids"] == want["input_ids"]
        assert [tuple(o) for o in got["offset_mapping"]] == [tuple(o) for o in want["offset_mapping"]]
        assert got.word_ids() == want.word_ids()
        assert ours.encode(text, add_special_tokens=special) == reference.encode(text, add_special_tokens=special)
    # several at once, as the fallback builds its prompts
    got = ours(texts, add_special_tokens=special, truncation=False, return_offsets_mapping=True)
    want = reference(texts, add_special_tokens=special, truncation=False, return_offsets_mapping=True)
    assert got["input_ids"] == want["input_ids"]
    assert [[tuple(o) for o in row] for row in got["offset_mapping"]] == [[tuple(o) for o in row] for row in want["offset_mapping"]]


def test_decoded_text_equals_transformers_tokenizer(tokenizers):
    """What the prompt view shows of a chunk the model saw."""
    ours, reference = tokenizers
    for text in TEXTS:
        ids = ours.encode(text)
        assert ours.decode(ids) == reference.decode(ids)
        assert ours.decode(ids, skip_special_tokens=True) == reference.decode(ids, skip_special_tokens=True)


def test_the_file_s_128_token_truncation_and_padding_are_off(tokenizers):
    ours, _ = tokenizers
    assert len(ours.encode("word " * 300)) == 302  # [CLS], 300 words, [SEP]: neither cut nor padded
    assert len(ours.encode("word")) == 3


def test_the_offline_fallback_loads_without_importing_transformers(tmp_path):
    """Importing transformers took ~4 s of a 2-core offline launch (its model classes ~3 s, the
    library and its tokenizer ~1.3 s): the fallback must not."""
    code = ("import sys\n"
            "from workbench.engine.loading import LoadOptions, load_scorer\n"
            "scorer = load_scorer(LoadOptions())\n"
            "print(scorer.info.is_fallback, 'transformers' in sys.modules)")
    # No hub and an empty model cache: the default reranker is not found, the fallback loads.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path), "HF_HUB_CACHE": str(tmp_path / "hub")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["True", "False"]


@pytest.mark.parametrize("damaged, said", [
    ("model.safetensors", "the offline model's weights do not load"),
    ("tokenizer.json", "the offline model's tokenizer does not load"),
    ("config.json", "the offline model's config.json lacks"),
])
def test_a_damaged_offline_model_is_a_clear_load_error(tmp_path, monkeypatch, damaged, said):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        (tmp_path / name).symlink_to(fallback_model_dir() / name)
    (tmp_path / damaged).unlink()
    (tmp_path / damaged).write_text('{"architectures": ["BertModel"]}')  # a header of nothing, or too little
    monkeypatch.setattr("workbench.engine.fallback.fallback_model_dir", lambda: tmp_path)
    with pytest.raises(ModelLoadError, match=f"offline fallback failed: {said}"):
        load_fallback(LoadOptions(device="cpu"), reason="testing")
