"""The scorer interface shared by the Qwen3 reranker and the offline embedding fallback."""

from __future__ import annotations

import hashlib
import os
from array import array
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from .types import ModelInfo, Prompt

if TYPE_CHECKING:
    from .prompt import PromptBuilder

CancelCheck = Callable[[], bool]
# A batch of results: (index into the prompts given, raw logit).
ScoredBatch = list[tuple[int, float]]


class Cancelled(Exception):
    """Raised inside a run when the caller's cancel check says stop."""


class ScoringError(Exception):
    """A failure the user should read as a message (out of memory at batch size 1, say)."""


def ids_key(ids: Sequence[int]) -> str:
    """Cache key of a token sequence: a hash of its exact ids."""
    return hashlib.blake2b(array("i", ids).tobytes(), digest_size=16).hexdigest()


def prompt_key(prompt: Prompt) -> str:
    """Cache key of a prompt (the score cache's): a hash of its exact token ids."""
    return ids_key(prompt.ids)


class Scorer(ABC):
    """Scores prompts; knows how to build them and how to map a logit to a 0..1 score."""

    info: ModelInfo
    tokenizer: object  # a fast tokenizer with offsets, used for chunking too
    # Text tokens one prompt holds, when that is smaller than chunk sizes people choose (the
    # offline fallback): the chunker then keeps every chunk inside it. None: chunks are sized as
    # asked, and the prompt builder marks any cut (the reranker's window is max_length).
    max_chunk_tokens: int | None = None
    # Builds the Qwen3 template's prompts and remembers the token ids of texts seen (None: the
    # scorer builds its prompts another way).
    builder: PromptBuilder | None = None
    # Its passes run on one thread each, on a core of its own (core_pool.py): none waits at a
    # barrier for a core the interface is using, so the app may give a run every core while the
    # user types (ui/cpu.py). The offline fallback's always do on a CPU; the reranker's do when
    # asked (run_single_threaded_passes), else its small calls run multi-threaded passes.
    single_threaded_passes: bool = False

    @abstractmethod
    def build_prompts(self, instruction: str, query: str, texts: Sequence[str]) -> list[Prompt]:
        ...

    @abstractmethod
    def score_prompts(
        self, prompts: Sequence[Prompt], should_cancel: CancelCheck | None = None
    ) -> Iterator[ScoredBatch]:
        """Yield results batch by batch; stop (raise Cancelled) between batches when asked."""

    @abstractmethod
    def probability(self, logit: float) -> float:
        ...

    def run_single_threaded_passes(self, wanted: bool) -> bool:
        """Ask that the coming runs' passes each be single-threaded (`wanted`: the app gives a run
        every core while the user types), or that they may be multi-threaded (a launch's first
        ranking: nobody types, and a small pass on every core shows rows soonest). Returns
        single_threaded_passes as it now is: a scorer that cannot switch keeps its way."""
        return self.single_threaded_passes

    def forget_texts(self) -> None:
        """Drop what was remembered about texts seen (token ids kept to build prompts faster):
        a job that never sees a text twice keeps its memory flat."""
        if self.builder is not None:
            self.builder.forget_documents()

    def prepare_texts(self, texts: Sequence[str], should_stop: CancelCheck | None = None) -> None:
        """Do now what scoring `texts` needs whatever the query (tokenising them; embedding them,
        for a scorer whose texts' embeddings do not depend on it), so a first run over them has
        less to do. Stops early when `should_stop` says so. Tokenising is quick: not stopped."""
        if self.builder is not None:
            self.builder.remember_documents(texts)

    def computed_tokens(self, prompts: Sequence[Prompt]) -> int:
        """Tokens the model runs to score `prompts` in one call (what tokens/s should count)."""
        return sum(p.tokens for p in prompts)

    def keep_embeddings_in(self, cache: EmbeddingCache | None) -> None:
        """A persistent home for per-text work that does not depend on the query, for scorers
        that have such work (the offline fallback's chunk embeddings). A reranker has none: every
        pair's score depends on its query."""

    def activity(self) -> str | None:
        """What the scorer is busy with besides scoring, when that makes a batch slow (a compile),
        for a status line; called from any thread. None: just scoring."""
        return None

    def decode(self, prompt: Prompt) -> str:
        return self.tokenizer.decode(list(prompt.ids), skip_special_tokens=False)

    def memory_in_use(self) -> int | None:
        """Bytes held: GPU memory for a GPU model, else the process's resident memory (Linux)."""
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None


class ScoreCache(Protocol):
    def get_many(self, fingerprint: str, keys: list[str]) -> dict[str, float]: ...

    def put_many(self, fingerprint: str, items: dict[str, float]) -> None: ...


class EmbeddingCache(Protocol):
    """Vectors as bytes, by model fingerprint and a key the scorer derives from a text's tokens."""

    def get_many(self, fingerprint: str, keys: list[str]) -> dict[str, bytes]: ...

    def put_many(self, fingerprint: str, items: dict[str, bytes]) -> None: ...
