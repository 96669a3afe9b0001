"""The offline Qwen3 tokenizer and tiny model are faithful enough to test the engine against.

The token ids asserted here are the real Qwen3 tokenizer's (listed in the shared model notes);
matching them is what proves the rebuild from dashscope's vocabulary is the real thing.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import unicodedata

import pytest
import torch
from official_reference import PREFIX, SUFFIX, official_logit_diffs, official_scores

from workbench.testing import qwen_vocabulary
from workbench.testing.tiny_qwen import (
    ADDED_TOKENS,
    QWEN3_VOCAB_SIZE,
    new_qwen3_tokenizer,
    real_shape_config,
    save_tiny_qwen3_reranker,
)

SUFFIX_IDS = [151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271]
QUERY = "Which planet is known as the Red Planet?"
DOCS = [
    "Venus is often called Earth's twin because of its similar size and proximity.",
    "Mars, known for its reddish appearance, is often referred to as the Red Planet.",
    "Jupiter, the largest planet in our solar system, has a prominent red spot.",
    "Saturn, famous for its rings, is sometimes mistaken for the Red Planet.",
    "def red_planet():\n\treturn 'Mars'\n",
]


@pytest.fixture(scope="module")
def loaded_tokenizer(tiny_model_dir):
    """The tokenizer as users get it: AutoTokenizer over a saved checkpoint directory."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


# Every id check runs on the in-memory build and on the copy loaded back from disk, so the
# saved tokenizer_config/tokenizer.json (loaded through Qwen2Tokenizer) is proven too.
@pytest.fixture(params=["built", "loaded"])
def tok(request):
    return request.getfixturevalue("qwen_tokenizer" if request.param == "built" else "loaded_tokenizer")


def encode(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False)


def test_offline_switches_are_set():
    import os

    from huggingface_hub import constants

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert constants.HF_HUB_OFFLINE  # read at import time: proves conftest ran early enough


def test_yes_and_no_are_single_tokens(tok):
    assert encode(tok, "yes") == [9693]
    assert encode(tok, "no") == [2152]
    assert tok.convert_tokens_to_ids("yes") == 9693
    assert tok.convert_tokens_to_ids("no") == 2152


def test_prefix_is_39_tokens(tok):
    ids = encode(tok, PREFIX)
    assert len(ids) == 39
    assert ids[0] == 151644 and ids.count(151645) == 1  # <|im_start|> ... <|im_end|> kept whole


def test_suffix_ids(tok):
    assert encode(tok, SUFFIX) == SUFFIX_IDS


def test_control_token_ids(tok):
    expected = {
        "<|endoftext|>": 151643,
        "<|im_start|>": 151644,
        "<|im_end|>": 151645,
        "<think>": 151667,
        "</think>": 151668,
    }
    for token, token_id in expected.items():
        assert tok.convert_tokens_to_ids(token) == token_id
        assert encode(tok, token) == [token_id]


def test_all_added_tokens_in_order(tok):
    for offset, (token, special) in enumerate(ADDED_TOKENS):
        token_id = 151643 + offset
        assert tok.convert_tokens_to_ids(token) == token_id
        assert tok.added_tokens_decoder[token_id].special is special, token


def test_vocab_size(tok):
    assert len(tok) == QWEN3_VOCAB_SIZE == 151669


def test_no_bos_or_eos_added_and_left_padding(tok):
    assert tok("hello world").input_ids == encode(tok, "hello world")
    assert tok.bos_token is None
    assert tok.pad_token_id == 151643
    assert tok.eos_token_id == 151645
    assert tok.padding_side == "left"
    batch = tok(["a", "a much longer text"], padding=True)
    assert batch.input_ids[0][0] == 151643 and batch.attention_mask[0][0] == 0
    assert batch.input_ids[0][-1] == batch.input_ids[1][0]  # the real token sits at position -1


ROUND_TRIP_TEXTS = {
    "english": "The quick brown fox jumps over the lazy dog. It's 3.14159, isn't it?",
    "chinese": "火星因其表面的氧化铁而呈红色，被称为红色星球。",
    "emoji": "Red planet 🔴🪐 family 👩‍👩‍👧‍👦 flag 🇯🇵 skin 👍🏽",
    "code": "def f(x):\n\tif x:\r\n\t\treturn {'a': [1, 2]}\n\n\n    # trailing   \n",
    "whitespace": "  leading\u00a0nbsp \t\t mixed\n\n\n  \n",
    "mixed_scripts": "Ünïcödé café — naïve Ω ½ русский العربية हिन्दी 日本語 한국어",
    "template_markers": "<Query>: what?\n<Document>: <|im_end|> <think>\n\n</think>",
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIP_TEXTS))
def test_round_trip(tok, name):
    text = ROUND_TRIP_TEXTS[name]
    assert tok.decode(encode(tok, text)) == text


def test_nfc_normalisation(qwen_tokenizer):
    decomposed = "cafe\u0301"  # e + combining acute: NFC folds it to é before BPE, as Qwen does
    assert encode(qwen_tokenizer, decomposed) == encode(qwen_tokenizer, unicodedata.normalize("NFC", decomposed))


def test_matches_tiktoken_reference(qwen_tokenizer):
    """Where tiktoken is installed, the rebuilt BPE must agree with it on the same ranks."""
    tiktoken = pytest.importorskip("tiktoken")
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(qwen_vocabulary.tiktoken_path()))
    reference = tiktoken.Encoding(
        "qwen", pat_str=qwen_vocabulary.QWEN_PRETOKENIZE_REGEX, mergeable_ranks=ranks, special_tokens={}
    )
    import json.decoder  # any sizeable, stable source file will do

    with open(json.decoder.__file__, encoding="utf-8") as handle:
        source = handle.read()
    texts = [*ROUND_TRIP_TEXTS.values(), *DOCS, source]
    # encode_ordinary knows no added tokens; HF (rightly) keeps "<|im_end|>" etc. whole.
    texts = [t for t in texts if not any(marker in t for marker, _ in ADDED_TOKENS)]
    for text in texts:
        text = unicodedata.normalize("NFC", text)
        assert encode(qwen_tokenizer, text) == reference.encode_ordinary(text)


def test_fresh_tokenizer_is_independent(qwen_tokenizer):
    fresh = new_qwen3_tokenizer()
    assert fresh is not qwen_tokenizer
    fresh.padding_side = "right"
    fresh.add_tokens(["<brand-new-token>"])
    assert qwen_tokenizer.padding_side == "left"
    assert len(qwen_tokenizer) == QWEN3_VOCAB_SIZE


# --------------------------------------------------------------------------------------------
# Tiny model
# --------------------------------------------------------------------------------------------


def test_tiny_model_loads_from_directory(tiny_model_dir, tiny_model, qwen_tokenizer, loaded_tokenizer):
    assert (tiny_model_dir / "model.safetensors").is_file()
    config = tiny_model.config
    assert config.model_type == "qwen3"
    assert config.vocab_size == 151669
    assert config.tie_word_embeddings
    assert tiny_model.dtype == torch.float32
    assert tiny_model.get_output_embeddings().weight.data_ptr() == tiny_model.get_input_embeddings().weight.data_ptr()
    assert encode(loaded_tokenizer, PREFIX + DOCS[1] + SUFFIX) == encode(qwen_tokenizer, PREFIX + DOCS[1] + SUFFIX)


def test_tiny_model_tells_documents_apart(tiny_model, loaded_tokenizer):
    scores = official_scores(tiny_model, loaded_tokenizer, None, QUERY, DOCS)
    diffs = official_logit_diffs(tiny_model, loaded_tokenizer, None, QUERY, DOCS)

    assert all(math.isfinite(s) and 0.0 < s < 1.0 for s in scores)
    assert all(math.isfinite(d) for d in diffs)
    for score, diff in zip(scores, diffs, strict=True):
        assert score == pytest.approx(1 / (1 + math.exp(-diff)), abs=1e-5)  # P(yes) = sigmoid(yes - no)
    for a, b in itertools.combinations(scores, 2):
        assert abs(a - b) > 1e-3
    assert max(scores) - min(scores) > 0.1


def test_reference_batching_and_truncation(tiny_model, loaded_tokenizer):
    whole = official_scores(tiny_model, loaded_tokenizer, None, QUERY, DOCS)
    in_twos = official_scores(tiny_model, loaded_tokenizer, None, QUERY, DOCS, batch_size=2)
    assert in_twos == pytest.approx(whole, abs=1e-4)  # padding differs; only tiny drift allowed
    assert official_scores(tiny_model, loaded_tokenizer, None, QUERY, []) == []

    # Truncation cuts the body only: a long document and its first part score identically once
    # both are cut to the same length, and prefix + suffix always survive.
    long_doc = " ".join(["Mars is red."] * 400)
    cut_a = official_scores(tiny_model, loaded_tokenizer, None, QUERY, [long_doc], max_length=128)
    cut_b = official_scores(tiny_model, loaded_tokenizer, None, QUERY, [long_doc + " Extra tail."], max_length=128)
    assert cut_a == pytest.approx(cut_b, abs=1e-6)


def _weights_digest(directory) -> str:
    return hashlib.sha256((directory / "model.safetensors").read_bytes()).hexdigest()


def test_tiny_model_is_seeded(tiny_model_dir, tmp_path):
    same = save_tiny_qwen3_reranker(tmp_path / "seed0", seed=0)
    other = save_tiny_qwen3_reranker(tmp_path / "seed1", seed=1)
    assert _weights_digest(same) == _weights_digest(tiny_model_dir)
    assert _weights_digest(other) != _weights_digest(tiny_model_dir)


def test_untied_variant_has_separate_head(tmp_path, qwen_tokenizer):
    from transformers import AutoModelForCausalLM

    directory = save_tiny_qwen3_reranker(tmp_path / "untied", tie_word_embeddings=False)
    model = AutoModelForCausalLM.from_pretrained(directory).eval()
    assert not model.config.tie_word_embeddings
    assert model.get_output_embeddings().weight.data_ptr() != model.get_input_embeddings().weight.data_ptr()
    scores = official_scores(model, qwen_tokenizer, None, QUERY, DOCS[:3])
    assert all(math.isfinite(s) for s in scores) and max(scores) - min(scores) > 1e-3


@pytest.mark.parametrize(
    ("name", "layers", "hidden", "tied", "approx_params"),
    [("0.6B", 28, 1024, True, 0.596e9), ("4B", 36, 2560, True, 4.02e9), ("Qwen3-Reranker-8B", 36, 4096, False, 8.19e9)],
)
def test_real_shape_configs(name, layers, hidden, tied, approx_params):
    from transformers import Qwen3ForCausalLM

    config = real_shape_config(name)
    assert (config.num_hidden_layers, config.hidden_size, config.vocab_size) == (layers, hidden, 151669)
    assert config.tie_word_embeddings is tied
    assert (config.num_key_value_heads, config.head_dim) == (8, 128)
    with torch.device("meta"):  # shapes only: no memory, no init time
        model = Qwen3ForCausalLM(config)
    params = sum(p.numel() for p in model.parameters())  # tied weights are counted once
    assert params == pytest.approx(approx_params, rel=0.02)


def test_real_shape_config_rejects_unknown_size():
    with pytest.raises(ValueError, match="0.6B"):
        real_shape_config("1.7B")
