"""A Scorer whose model runs in rerank servers: prompts are built here, scores come over HTTP.

Chunking, token counts, truncation and the prompt view use the model's own tokenizer loaded
locally, so they are exactly what the local engine shows; only the forward pass moves out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

import httpx

from ..prompt import PromptBuilder
from ..scorer import CancelCheck, Cancelled, Scorer, ScoredBatch, ScoringError
from ..types import ModelInfo, Prompt, sigmoid
from .pool import BackendError, Job, ServerPool
from .protocol import logit_of, qwen3_pair, request_for, scores_from

DOCS_PER_REQUEST = 32  # small enough that a retry repeats little, big enough for server batching
_RAW_SEP = -1  # between query and document ids in a raw pair's cache key: no real token id


class RemoteReranker(Scorer):
    def __init__(
        self,
        pool: ServerPool,
        api: str,
        served_model: str | None,
        tokenizer,
        info: ModelInfo,
        scores: str = "probability",
        docs_per_request: int = DOCS_PER_REQUEST,
    ):
        self.pool = pool
        self.api = api
        self.served_model = served_model
        self.tokenizer = tokenizer
        self.info = info
        self.scores = scores  # what the server's number is: "probability" (0..1) or "logit"
        self.docs_per_request = docs_per_request
        # vLLM serving the original Qwen3 checkpoint gets the exact Qwen3 prompt; other servers'
        # models have their own input format and get the raw texts.
        self.templated = api in ("vllm", "vllm-score")
        self.builder = PromptBuilder(tokenizer, info.max_length) if self.templated else None

    def build_prompts(self, instruction: str, query: str, texts: Sequence[str]) -> list[Prompt]:
        if self.templated:
            prompts = self.builder.build(instruction, query, texts)
            # A cut prompt sends only the part of the chunk the local engine would have kept.
            return [
                Prompt(p.ids, p.truncated, p.kept_chars,
                       texts=qwen3_pair(instruction, query, t if p.kept_chars is None else t[: p.kept_chars]))
                for p, t in zip(prompts, texts)
            ]
        query_ids = tuple(self.tokenizer.encode(query, add_special_tokens=False))
        encoded = self.tokenizer(list(texts), add_special_tokens=False, return_attention_mask=False)["input_ids"]
        return [Prompt(query_ids + (_RAW_SEP,) + tuple(ids), texts=(query, t)) for ids, t in zip(encoded, texts)]

    def probability(self, logit: float) -> float:
        return sigmoid(logit)

    def decode(self, prompt: Prompt) -> str:
        if self.templated:
            return super().decode(prompt)
        query, document = prompt.texts or ("", "")
        return f"[query sent to {self.info.backend}] {query}\n[document] {document}"

    def score_prompts(self, prompts: Sequence[Prompt], should_cancel: CancelCheck | None = None) -> Iterator[ScoredBatch]:
        by_query: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(prompts):
            by_query[p.texts[0]].append(i)
        jobs = [
            Job(indices[start : start + self.docs_per_request])
            for indices in by_query.values()
            for start in range(0, len(indices), self.docs_per_request)
        ]

        def ask(client: httpx.Client, url: str, items: list[int]) -> dict[int, float]:
            path, body = request_for(self.api, self.served_model, prompts[items[0]].texts[0], [prompts[i].texts[1] for i in items])
            response = client.post(url + path, json=body)
            response.raise_for_status()
            found = scores_from(self.api, response.json(), len(items))
            return {items[j]: (logit_of(v) if self.scores == "probability" else v) for j, v in found.items()}

        stopped = should_cancel or (lambda: False)
        answered = 0
        try:
            for answers in self.pool.run(jobs, ask, stopped):
                answered += len(answers)
                yield list(answers.items())
        except BackendError as e:
            raise ScoringError(f"rerank server failed: {e}") from None
        if answered < len(prompts):  # the pool only stops early when the run is cancelled
            raise Cancelled()

    def close(self) -> None:
        self.pool.close()
