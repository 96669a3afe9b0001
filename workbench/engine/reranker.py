"""The Qwen3-Reranker scoring hot path.

Same numbers as the official snippet, less work:
- pairs sorted by length and batched by a token budget and a padding allowance (batching.py), so
  little compute goes to padding;
- on a CPU, the prompt head every pair shares (system text, instruction, query) is run once per
  call (shared_prefix.py), each batch then runs only its documents; if the installed transformers
  cannot do that, pairs are scored whole, with one warning. A GPU scores whole prompts: there the
  cache and the mask it needs cost more than the head's tokens (measured, see schedule_for);
- the backbone only (no KV cache kept), then the hidden state of each row's last real token times
  the two head rows for "yes" and "no" — the official way computes B x L x 151669 logits and
  keeps two; and the last layer's MLP runs only for that token (last_rows.py);
- rows are padded on the right, not the left as the official code does: in a causal model a real
  token never sees the pads after it, so no padding mask is needed (whole prompts take attention's
  fastest, purely causal path) and positions stay contiguous after the shared head. The last real token is
  gathered per row. Tests hold the scores equal to the official way's;
- the yes/no difference in float32 (bf16 logits create ties that reorder results).

On a CPU with several torch threads, batches run one per core, each single-threaded
(core_pool.py), with the token budget shared between them: small passes split badly over cores.
A call's smallest batch runs first, on every thread: the first rows a live run shows come in
about half a batch's time on one core (two cores) instead of a whole one. The other batches are
then split until they share out evenly between the cores, so no core waits at the end.
`pass_per_core = False` runs one multi-threaded pass at a time, as the peers do.
`run_single_threaded_passes(True)` (the app, while the user types) runs every pass on a core of
its own, the shared head's and the quick first batch's too, and a call with fewer batches
than cores on fewer cores: no pass then waits at a barrier for the core the interface is using,
so the app can give the run every core (ui/cpu.py).

`packing = True` lays several document parts end to end in one row instead (packing.py): no
padding at all, at the price of attention over the whole pack. Off by default: on a CPU it wins
only where sorted batches still pad a lot; it is a GPU lever, measured by bench_engine.py.

`compile = True` runs padded batches through torch.compile over bucketed shapes (compiled.py):
CUDA graphs on a GPU. Off by default: each new shape costs a compile (seconds to minutes) the
first time it is seen. Any failure to compile or run the graph turns it off, with one warning,
and the batch is scored eagerly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass

import torch

from . import last_rows
from .batching import costliest_first, default_padding_allowance, default_token_budget, padded_tokens, plan_batches, spread
from .compiled import CompiledForward, compile_failure, head_length, log as compiled_log, pad_rows
from .core_pool import launch
from .overlap import Readback, to_device
from .packing import DEFAULT_PACK_TOKENS, PackingUnavailable, check_packable, packed_forward, plan_packed_batches
from .prompt import PromptBuilder
from .shared_prefix import SharedHeadUnavailable, SharedPrefix, common_prefix_length, log as shared_log
from .scorer import CancelCheck, Cancelled, Scorer, ScoredBatch, ScoringError
from .types import ModelInfo, Prompt, sigmoid


@dataclass(frozen=True)
class Schedule:
    """How the reranker lays out its work on a device: decided here, once, so the scorer's
    defaults and the reasons the model's details show cannot disagree."""

    share_prefix: bool  # the prompt head every pair shares runs once per call
    overlap: bool  # batch k+1 is launched before batch k is read back (overlap.py)
    quick_first_batch: bool  # a call's smallest batch first, on every thread
    reasons: tuple[str, ...]  # for ModelInfo.choices


def passes_per_core(device_type: str, *, quantized: bool, compiled: bool, packing: bool = False) -> bool:
    """Whether batches may run one per core, each single-threaded (core_pool.py): on a CPU, for the
    plain eager model. A GPU, compiled graphs, packed rows and quantised kernels keep one pass at a
    time."""
    return device_type == "cpu" and not (quantized or compiled or packing)


def schedule_for(device_type: str, *, quick_first_rows: bool = True, quantized: bool = False,
                 compiled: bool = False) -> Schedule:
    """The schedule for a device. `quick_first_rows`: whether a call's first rows should come as
    soon as possible (a live view), rather than every batch on a core of its own (batch commands:
    the quick first batch cost a 16-pair CPU call 0.8-2.7% of its throughput, a 32-pair call
    nothing measurable: benchmarks/first_rows.py)."""
    if device_type == "cuda":
        # With the head shared, each batch would attend to a cache through an explicit mask (no
        # purely causal kernel) and copy the cache in every layer: on an H200 (0.6B shape, bf16,
        # 256 pairs, benchmarks/gpu_levers.py) whole prompts ran x1.16 (512-token chunks) and
        # x1.23 (32..2048 tokens) as fast, at a sixth of the peak memory.
        return Schedule(share_prefix=False, overlap=True, quick_first_batch=False, reasons=(
            "whole prompts on a GPU: sharing the prompt head would need a masked attention kernel and "
            "a cache copy in every layer (whole prompts x1.16-1.23 as fast on an H200)",
            "batch k+1 queued on the GPU before batch k is read back"))
    # On a CPU every token costs its compute. The forward pass is synchronous there: holding a
    # batch back would only delay the first rows, so no overlap.
    reasons = ["prompt head (system text, instruction, query) computed once per call and kept for "
               "the next under the same query"]
    if passes_per_core(device_type, quantized=quantized, compiled=compiled):
        reasons.append("batches one per core, each single-threaded, when a call has a batch for every core"
                       + ("; the smallest first, on every core, so the first rows come at once"
                          if quick_first_rows else "; no quick first batch (a batch command: throughput first)"))
    return Schedule(share_prefix=True, overlap=False, quick_first_batch=quick_first_rows, reasons=tuple(reasons))


class Qwen3Reranker(Scorer):
    def __init__(
        self,
        model,
        tokenizer,
        info: ModelInfo,
        token_budget: int | None = None,
        yes_no_pad_ids: tuple[int, int, int] | None = None,
        quick_first_rows: bool = True,
    ):
        """`tokenizer` may be None when prompts arrive as ids (benchmarks); then the yes, no and
        pad ids must be given. `quick_first_rows`: see schedule_for."""
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.info = info
        self.builder = PromptBuilder(tokenizer, info.max_length) if tokenizer is not None else None
        self.device = next(model.parameters()).device
        config = getattr(model, "config", None)
        self.token_budget = token_budget or default_token_budget(self.device, config)
        self.padding_allowance = default_padding_allowance(self.device, config)
        self.sharing_off_reason: str | None = None
        schedule = schedule_for(self.device.type, quick_first_rows=quick_first_rows)
        self.share_prefix = schedule.share_prefix  # off after a library failure, too
        self.packing = False
        self.pack_tokens = DEFAULT_PACK_TOKENS
        self.compile = False
        self.compile_backend = None  # torch.compile's backend: None is inductor
        self.compile_off_reason: str | None = None
        self._compiled: CompiledForward | None = None
        self._last_head: tuple[tuple[int, ...], SharedPrefix] | None = None  # (its ids, its cache)
        self.overlap = schedule.overlap
        # On a CPU, several batches at once, one per core, each single-threaded (core_pool.py).
        self.pass_per_core = True
        self._single_threaded_asked = False  # every pass single-threaded (the app, while the user types)
        self.quick_first_batch = schedule.quick_first_batch
        if yes_no_pad_ids is None:
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
            yes_no_pad_ids = (_single_token_id(tokenizer, "yes"), _single_token_id(tokenizer, "no"), pad)
        yes_id, no_id, self.pad_id = yes_no_pad_ids
        self.backbone = model.base_model
        # The last layer's MLP only for each row's read position (last_rows.py); False: every token.
        self.last_rows_only = last_rows.attach(self.backbone)
        head = model.get_output_embeddings()
        # Two rows of the head are all we need; keep them unquantised, in float32.
        self.head = head.weight[[yes_id, no_id]].detach().to(self.device, torch.float32)
        bias = getattr(head, "bias", None)
        self.head_bias = None if bias is None else bias[[yes_id, no_id]].detach().to(self.device, torch.float32)

    def build_prompts(self, instruction: str, query: str, texts: Sequence[str]) -> list[Prompt]:
        return self.builder.build(instruction, query, texts)

    def probability(self, logit: float) -> float:
        return sigmoid(logit)

    @property
    def single_threaded_passes(self) -> bool:
        """As asked (run_single_threaded_passes), where batches may run one per core at all."""
        return self._single_threaded_asked and self._passes_per_core()

    def run_single_threaded_passes(self, wanted: bool) -> bool:
        self._single_threaded_asked = wanted
        return self.single_threaded_passes

    def score_prompts(self, prompts: Sequence[Prompt], should_cancel: CancelCheck | None = None) -> Iterator[ScoredBatch]:
        # The head's pass too: on one core of the pool when every pass must be single-threaded.
        head = launch(self._cores() if self.single_threaded_passes else 1, lambda: self._shared_head(prompts)).result()
        shared = head.length if head is not None else 0
        lengths = [p.tokens - shared for p in prompts]
        if self.packing:
            try:
                check_packable(self.backbone)
            except PackingUnavailable as e:
                self.packing = False
                shared_log.warning("packed batches unavailable (%s); padding batches instead", e)
        # Read after the packing check: packing turned off just above may allow passes per core.
        single = self.single_threaded_passes
        cores, pending = self._plan_passes(lengths, self._cores(), single)
        # Batches launched and not yet read back: one per core on a CPU that runs several, else the
        # one being read plus, on a GPU, the next one already queued behind it.
        ahead = cores if cores > 1 else 1 + int(self.overlap)
        inflight: list[tuple[list[int], Future]] = []
        first = True
        while pending or inflight:
            while pending and len(inflight) < ahead and not _any_failed(inflight):
                if should_cancel is not None and should_cancel():
                    yield from _settle(inflight)[0]  # computed already: keep them
                    raise Cancelled()
                batch = pending.pop(0)
                # The first batch on every thread, here and now: nothing else runs yet (unless
                # every pass must be single-threaded: then on a core beside the others).
                passes = 1 if first and self.quick_first_batch and not single else cores
                first = False
                inflight.append((batch, self._launch([prompts[i].ids[shared:] for i in batch], head, passes)))
            batch, launched = _first_finished(inflight)
            try:
                logits = launched.result().values()
            except Exception as e:
                scored, failed = _settle(inflight)  # the batches beside it: keep what they scored
                yield from scored
                pending = [batch, *failed, *pending]
                if isinstance(e, torch.OutOfMemoryError):
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                    if len(batch) == 1:
                        raise ScoringError(
                            f"out of GPU memory scoring one {prompts[batch[0]].tokens}-token pair; "
                            "lower --max-length or --chunk-tokens, or load with --quantize 8bit"
                        ) from None
                    # Keep what is scored; re-plan the rest with half the budget (remembered, so
                    # later runs do not hit the wall again).
                    self.token_budget = max(1, min(self.token_budget, padded_tokens(batch, lengths)) // 2)
                elif head is None:
                    raise e
                else:
                    # The library refused the precomputed head mid-run: score the rest whole.
                    self._stop_sharing(f"{type(e).__name__}: {e}")
                    head, shared = None, 0
                    lengths = [p.tokens for p in prompts]
                pending = self._replan(pending, lengths, cores)
                continue
            yield list(zip(batch, logits))

    def _launch(self, rows: list[tuple[int, ...]], head: SharedPrefix | None, cores: int) -> Future:
        """One batch's forward pass: on the core pool when it runs several, else here and now.
        Either way a failure waits in the future, to be handled when the batch is read."""
        def forward() -> Readback:
            return Readback(self._forward(rows, head))

        return launch(cores, forward)

    def _passes_per_core(self) -> bool:
        """Whether batches may run one per core, each single-threaded (passes_per_core), now."""
        return self.pass_per_core and passes_per_core(self.device.type, quantized=self.info.quantization != "none",
                                                      compiled=self.compile, packing=self.packing)

    def _cores(self) -> int:
        """Batches scored at once, each single-threaded on a core of its own: as many as torch has
        threads, where passes_per_core allows."""
        return torch.get_num_threads() if self._passes_per_core() else 1

    def forget_texts(self) -> None:
        self._last_head = None
        super().forget_texts()

    def computed_tokens(self, prompts: Sequence[Prompt]) -> int:
        """The head all pairs share is run once per call, not once per pair."""
        shared = self._shared_length(prompts)
        return sum(p.tokens - shared for p in prompts) + shared

    def _shared_length(self, prompts: Sequence[Prompt]) -> int:
        if not self.share_prefix:
            return 0
        shared = common_prefix_length([p.ids for p in prompts])
        if not shared and len(prompts) == 1:
            shared = self._kept_head_length(prompts[0].ids)
        # Compiled graphs are fixed to the head's length too: few lengths, few graphs.
        return head_length(shared) if self.compile and not self.packing else shared

    def _kept_head_length(self, ids: Sequence[int]) -> int:
        """One pair shares no head with another, but the head kept from the last call still spares
        it those tokens: a live edit re-scores one chunk under the query just scored."""
        if self._last_head is None:
            return 0
        kept = self._last_head[0]
        return len(kept) if len(ids) > len(kept) and tuple(ids[: len(kept)]) == kept else 0

    def _shared_head(self, prompts: Sequence[Prompt]) -> SharedPrefix | None:
        shared = self._shared_length(prompts)
        if not shared:
            return None
        ids = tuple(prompts[0].ids[:shared])
        # The last head is kept: a live edit of one document, and each group of a pipelined run,
        # come with the same query, and would otherwise run the head again for a pass or two.
        if self._last_head is not None and self._last_head[0] == ids:
            return self._last_head[1]
        try:
            head = SharedPrefix(self.backbone, ids, self.device)
        except SharedHeadUnavailable as e:
            self._stop_sharing(str(e))
            return None
        self._last_head = (ids, head)
        return head

    def _stop_sharing(self, reason: str) -> None:
        """Score whole prompts from now on: same scores, more compute. Said once per scorer."""
        self.share_prefix = False
        self.sharing_off_reason = reason
        self._last_head = None
        shared_log.warning(
            "shared prompt head unavailable with this transformers version (%s); scoring whole prompts", reason
        )

    def _replan(self, pending: list[list[int]], lengths: Sequence[int], cores: int) -> list[list[int]]:
        rest = [i for b in pending for i in b]
        plan = self._plan([lengths[i] for i in rest], cores)
        plan = [[rest[j] for j in b] for b in plan]
        return costliest_first(plan, lengths) if cores > 1 else plan

    def _plan_passes(self, lengths: Sequence[int], cores: int, single: bool) -> tuple[int, list[list[int]]]:
        """Passes at once and the batches: one per core when there is a batch for every core, else
        one pass at a time on every thread (a live edit's single pair would run on one core), unless
        `single`, every pass single-threaded: then one per core as far as the batches go.
        With a quick first batch the smallest batch goes first, so a run shows rows at once: on
        every thread when passes run per core (score_prompts), the rest then split to a multiple
        of the cores (equal batches would otherwise leave a core idle for the last one) and run
        costliest first. With one thread (the app's later runs leave the other core to the
        interface) only the order changes: a changed query over sample_data (tiny model) showed
        its first rows 51-67 ms after the run began, against 86-109 ms with the batch of the
        longest rows first. `cores`: as _cores() says now."""
        plan = self._plan(lengths, cores)
        if cores > 1 and len(plan) < cores and not single:
            cores, plan = 1, self._plan(lengths)
        first = []
        if self.quick_first_batch and len(plan) > 1:
            first = [plan.pop(min(range(len(plan)), key=lambda k: padded_tokens(plan[k], lengths)))]
            if cores > 1:
                plan = spread(plan, -(-len(plan) // cores) * cores)
        return cores, first + (costliest_first(plan, lengths) if cores > 1 else plan)

    def _plan(self, lengths: Sequence[int], cores: int = 1) -> list[list[int]]:
        if self.packing:
            return plan_packed_batches(lengths, self.token_budget, self.pack_tokens)
        # Passes that run at once share the budget: the same memory, and a first batch ready as soon.
        return spread(plan_batches(lengths, max(1, self.token_budget // cores), self.padding_allowance), cores)

    @torch.inference_mode()
    def _forward(self, rows: list[tuple[int, ...]], head: SharedPrefix | None = None) -> torch.Tensor:
        """Logits (yes - no) of `rows`, float32, on the device; nothing waits for them here."""
        if self.packing:
            final = packed_forward(self.backbone, rows, head, self.pad_id, self.device, self.pack_tokens)
        else:
            final = self._padded_forward(rows, head)
        yes_no = final.float() @ self.head.T
        if self.head_bias is not None:
            yes_no = yes_no + self.head_bias
        return yes_no[:, 0] - yes_no[:, 1]

    def _padded_forward(self, rows: list[tuple[int, ...]], head: SharedPrefix | None) -> torch.Tensor:
        """The hidden state of each row's last real token; rows right-padded to the longest."""
        if self.compile:
            try:
                return self._compiled_forward()(rows, head)
            except torch.OutOfMemoryError:
                raise  # a matter of batch size, not of compiling: score_prompts re-plans
            except Exception as e:  # no C compiler, an op it cannot compile, a library change
                self.compile = False
                self.compile_off_reason = compile_failure(e)
                compiled_log.warning("compiled forward unavailable (%s); scoring eagerly", self.compile_off_reason)
        ids, last = pad_rows(rows, self.pad_id, len(rows), max(len(r) for r in rows))
        extra = head.forward_kwargs(len(rows)) if head is not None else {}
        last = to_device(last, self.device)
        with last_rows.reading(last) if self.last_rows_only else nullcontext():
            hidden = self.backbone(input_ids=to_device(ids, self.device), use_cache=False, **extra).last_hidden_state
        return hidden[torch.arange(len(rows), device=self.device), last]

    def activity(self) -> str | None:
        compiled = self._compiled
        shape = compiled.compiling if compiled is not None else None
        if shape is None:
            return None
        # Short: the run line shares 80 columns with a progress bar. Seconds to minutes, once per
        # shape, is said in the model's details (loading.compile_choice).
        return f"compiling a new batch shape ({shape[0]} rows x {shape[1]} tokens), once per shape"

    def _compiled_forward(self) -> CompiledForward:
        if self._compiled is None or self._compiled.backend != (self.compile_backend or "inductor"):
            self._compiled = CompiledForward(self.backbone, self.pad_id, self.device, self.compile_backend)
        return self._compiled

    def memory_in_use(self) -> int | None:
        if self.device.type == "cuda":
            return torch.cuda.memory_allocated(self.device)
        return super().memory_in_use()


def _first_finished(inflight: list[tuple[list[int], Future]]) -> tuple[list[int], Future]:
    """Take the batch in flight that is done first (the oldest of those done): a core that is done
    starts the next batch at once, however long the batch beside it still takes. Batches scored
    here and now (one pass at a time, a GPU) are all done: the oldest, in launch order."""
    wait([f for _, f in inflight], return_when=FIRST_COMPLETED)
    return inflight.pop(next(k for k, (_, f) in enumerate(inflight) if f.done()))


def _any_failed(inflight: list[tuple[list[int], Future]]) -> bool:
    """A batch in flight has failed already (a GPU out of memory at launch): launch no more before
    it is handled, the next would likely fail the same way."""
    return any(f.done() and f.exception() is not None for _, f in inflight)


def _settle(inflight: list[tuple[list[int], Future]]) -> tuple[list[ScoredBatch], list[list[int]]]:
    """Wait for every batch in flight: those scored, and those that failed (to be planned again)."""
    scored, failed = [], []
    while inflight:
        batch, launched = inflight.pop(0)
        try:
            scored.append(list(zip(batch, launched.result().values())))
        except Exception:
            failed.append(batch)
    return scored, failed


def _single_token_id(tokenizer, word: str) -> int:
    ids = tokenizer.encode(word, add_special_tokens=False)
    if len(ids) != 1:
        raise ValueError(f"tokenizer splits {word!r} into {len(ids)} tokens: not a Qwen3-style reranker")
    return ids[0]
