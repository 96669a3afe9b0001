"""A scorer for tests: another scorer two prompts per batch, with an optional pause, so a run is
long enough to be cancelled or superseded mid-way."""

from __future__ import annotations

import time

from workbench.engine.scorer import Cancelled, Scorer


class SlowScorer(Scorer):
    def __init__(self, inner: Scorer, delay: float = 0.03):
        self.inner, self.delay = inner, delay
        self.info, self.tokenizer = inner.info, inner.tokenizer

    def build_prompts(self, instruction, query, texts):
        return self.inner.build_prompts(instruction, query, texts)

    def probability(self, logit):
        return self.inner.probability(logit)

    def score_prompts(self, prompts, should_cancel=None):
        for start in range(0, len(prompts), 2):
            if should_cancel is not None and should_cancel():
                raise Cancelled()
            time.sleep(self.delay)
            for batch in self.inner.score_prompts(prompts[start : start + 2]):
                yield [(start + i, logit) for i, logit in batch]
