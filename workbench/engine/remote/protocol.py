"""The HTTP shapes rerank servers speak: how to ask for scores and how to read the answer.

Two families:
- vLLM serving the original Qwen3-Reranker (with the documented hf_overrides) behind
  `/v1/rerank` (Jina/Cohere-like) or `/score`. vLLM tokenises the query text and each document
  text and joins them; we send the exact Qwen3 prompt split in two, the system prefix, instruction
  and query first, the document and suffix second, so the server sees the same token ids as our
  local engine (tests hold the split to the real tokenizer).
- Cohere/Jina-style `/rerank` (Infinity, TEI's compatible route, llama.cpp's server): the server's
  model has its own input format, so the raw query and chunk text go as they are.

Both answer one relevance score per document. vLLM's and these servers' default answer is a
probability (sigmoid of the model's logit); the engine keeps logits, so it maps back.
"""

from __future__ import annotations

import math
from ..prompt import PREFIX, SUFFIX


class ProtocolError(Exception):
    """The server answered, but not in the shape its API promises (a message for the user)."""


def qwen3_pair(instruction: str, query: str, document: str) -> tuple[str, str]:
    """(query text, document text): the Qwen3 prompt cut where vLLM joins query and document,
    right after the query's newline.

    PREFIX + "<Instruct>: ...\\n<Query>: ...\\n" + "<Document>: ..." + SUFFIX is exactly the
    local engine's prompt text; the cut falls after a newline, where the Qwen pre-tokeniser
    always splits, so tokenising the halves apart gives the same ids as the whole."""
    return f"{PREFIX}<Instruct>: {instruction}\n<Query>: {query}\n", f"<Document>: {document}{SUFFIX}"


def request_for(api: str, model: str | None, query: str, documents: list[str]) -> tuple[str, dict]:
    """(path, JSON body) asking for one score per document, in the API's own words."""
    if api == "vllm-score":
        return "/score", {"model": model, "text_1": query, "text_2": documents}
    path = "/v1/rerank" if api == "vllm" else "/rerank"
    body = {"query": query, "documents": documents, "top_n": len(documents), "return_documents": False}
    if model is not None:
        body["model"] = model
    return path, body


def scores_from(api: str, answer: object, count: int) -> dict[int, float]:
    """{document index: probability} from an answer; indices the server left out are missing
    (the caller asks again for those). Anything malformed is a ProtocolError."""
    if api == "vllm-score":
        rows, key = _field(answer, "data"), "score"
    elif isinstance(answer, list):  # TEI's own /rerank answers a bare list of {index, score}
        rows, key = answer, "score"
    else:
        rows, key = _field(answer, "results"), "relevance_score"
    found: dict[int, float] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("index"), int):
            raise ProtocolError(f"a result without a document index: {str(row)[:80]}")
        value = row.get(key, row.get("score"))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProtocolError(f"result {row['index']} has no numeric {key}: {str(row)[:80]}")
        if not 0 <= row["index"] < count:
            raise ProtocolError(f"result index {row['index']} is outside the {count} documents sent")
        found[row["index"]] = float(value)
    return found


def _field(answer: object, name: str) -> list:
    if not isinstance(answer, dict) or not isinstance(answer.get(name), list):
        raise ProtocolError(f"the answer has no {name!r} list: {str(answer)[:120]}")
    return answer[name]


# A probability in float32 (what servers compute in) saturates near 0 and 1: beyond these its
# logit is not recoverable, and clamping keeps the order of everything recoverable.
_EDGE = 1e-7


def logit_of(probability: float) -> float:
    """The model's logit from the probability a server reports."""
    p = min(max(probability, _EDGE), 1 - _EDGE)
    return math.log(p) - math.log1p(-p)
