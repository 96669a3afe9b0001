"""Prompts built from a head tokenised once per query and document parts tokenised once per chunk
are exactly the prompts of tokenising each whole body, cut and all, on texts chosen to tempt a
tokenizer into merging across the join."""

from __future__ import annotations

import pytest

from workbench.engine.prompt import PREFIX, SUFFIX, PromptBuilder

QUERIES = [
    "how long are backups kept",
    "trailing spaces   ",
    "ends with punctuation?!",
    "ends with a newline\n",
    "two newlines\n\n",
    "windows line end\r\n",
    "绿茶的水温是多少？",
    "emoji at the end 😀",
    "tab and space \t ",
    "e\u0301",  # a combining accent at the very end
    "<Document>: a query that looks like the template",
]
DOCUMENTS = [
    "A plain sentence about nightly backups.",
    "\u0301 starts with a combining accent",
    "\u0308\u0301 two combining marks, then text",
    "   starts with spaces",
    "\n\nstarts with blank lines",
    "",
    " ",
    "红茶可以用沸水。",
    "😀😀 emoji first",
    "<|im_end|> a special token inside the document",
    "'s starts with a contraction",
    "x" * 3000,
]
INSTRUCTIONS = ["Given a web search query, retrieve relevant passages that answer the query", "ends in space ", ""]


def _whole_body_reference(tokenizer, instruction: str, query: str, document: str, max_length: int):
    """The official layout computed directly: each body tokenised whole, cut from the right."""
    prefix = tokenizer.encode(PREFIX, add_special_tokens=False)
    suffix = tokenizer.encode(SUFFIX, add_special_tokens=False)
    budget = max_length - len(prefix) - len(suffix)
    body = f"<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}"
    enc = tokenizer(body, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    kept = None
    if len(ids) > budget:
        ids = ids[:budget]
        kept = max(0, offsets[budget - 1][1] - (len(body) - len(document)))
    return tuple(prefix + ids + suffix), len(enc["input_ids"]) > budget, kept


@pytest.mark.parametrize("max_length", [8192, 160, 80, 64])
def test_joined_ids_equal_the_whole_body_tokenisation(qwen_tokenizer, max_length):
    builder = PromptBuilder(qwen_tokenizer, max_length)  # one builder: later queries reuse the parts
    for instruction in INSTRUCTIONS:
        for query in QUERIES:
            prompts = builder.build(instruction, query, DOCUMENTS)
            for document, prompt in zip(DOCUMENTS, prompts):
                ids, truncated, kept = _whole_body_reference(qwen_tokenizer, instruction, query, document, max_length)
                assert prompt.ids == ids, (instruction, query, document[:20])
                assert (prompt.truncated, prompt.kept_chars) == (truncated, kept), (query, document[:20])


def test_cut_prompts_keep_the_characters_the_model_sees(qwen_tokenizer):
    builder = PromptBuilder(qwen_tokenizer, 120)
    document = "Nightly backups are kept for thirty days. " * 20
    prompt = builder.build("Find it", "retention", [document])[0]
    assert prompt.truncated and prompt.tokens == 120
    seen = qwen_tokenizer.decode(list(prompt.ids))
    assert document[: prompt.kept_chars] in seen
    assert document[: prompt.kept_chars + 12] not in seen


def test_a_tokenizer_that_could_merge_across_the_join_still_gets_exact_prompts():
    """Without a pre-tokeniser split after the head (here: none at all, so BPE may merge "\\n<"),
    the builder tokenises whole bodies instead of joining parts."""
    from tokenizers import pre_tokenizers

    from workbench.testing.tiny_qwen import new_qwen3_tokenizer

    tokenizer = new_qwen3_tokenizer()
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    builder = PromptBuilder(tokenizer, 160)
    for query in QUERIES[:4]:
        for document, prompt in zip(DOCUMENTS, builder.build("i", query, DOCUMENTS)):
            ids, truncated, kept = _whole_body_reference(tokenizer, "i", query, document, 160)
            assert (prompt.ids, prompt.truncated, prompt.kept_chars) == (ids, truncated, kept)


def test_a_full_document_memory_forgets_old_parts_and_stays_exact(qwen_tokenizer, monkeypatch):
    from workbench.engine import prompt as prompt_module

    monkeypatch.setattr(prompt_module, "DOCUMENT_MEMORY_IDS", 40)
    builder = PromptBuilder(qwen_tokenizer, 8192)
    for query in QUERIES[:3]:
        for document, built in zip(DOCUMENTS, builder.build("i", query, DOCUMENTS)):
            assert built.ids == _whole_body_reference(qwen_tokenizer, "i", query, document, 8192)[0]
