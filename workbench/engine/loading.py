"""Loading a reranker: resolving device, dtype and quantisation, and the offline fallback.

`auto` choices are resolved here and recorded in ModelInfo.choices so the user sees what was picked
and why. Remote code is never trusted; only safetensors weights are fetched or loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .prompt import DEFAULT_MAX_LENGTH
from .scorer import Scorer
from .types import (
    BACKEND_APIS,
    BACKEND_SCORES,
    DEFAULT_DEVICE,
    DEFAULT_DTYPE,
    DEFAULT_MODEL,
    DEFAULT_QUANTIZATION,
    DEVICES,
    DTYPES,
    QUANTIZATIONS,
    ModelInfo,
)

__all__ = ["DEFAULT_MODEL", "LoadOptions", "ModelLoadError", "load_scorer"]
# torch is imported inside the functions that need it: the app imports this module for its
# options, and importing torch first (2-3 s on a small CPU) would hold its window back that long.
# Files a reranker needs: weights as safetensors only (no pickles), configs and tokenizer.
_HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken"]

Progress = Callable[[str], None]


class ModelLoadError(Exception):
    """The model could not be loaded; the message says why and what to try."""


@dataclass(frozen=True)
class LoadOptions:
    model: str | None = None  # hub id or local directory; None = default reranker, fallback allowed
    device: str = DEFAULT_DEVICE
    dtype: str = DEFAULT_DTYPE
    quantize: str = DEFAULT_QUANTIZATION
    max_length: int = DEFAULT_MAX_LENGTH
    batch_tokens: int | None = None
    # torch.compile over bucketed shapes, CUDA graphs on a GPU (compiled.py): off unless asked, as
    # every new shape costs a compile the first time it is seen.
    compile: bool = False
    # A call's smallest batch first, on every core, so a live view shows rows at once (reranker.py,
    # schedule_for). Batch commands and the Python API turn it off: they wait for the whole call.
    quick_first_rows: bool = True
    revision: str | None = None
    offline: bool = False  # never try the network (HF_HUB_OFFLINE=1 has the same effect)
    # Rerank servers to score through instead of a local model; `model` then names the tokenizer.
    backend: tuple[str, ...] = ()
    backend_api: str = "auto"  # auto | vllm | vllm-score | rerank (see engine/remote/protocol.py)
    backend_scores: str = "probability"  # what the server's number is: probability | logit

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("device", self.device, DEVICES),
            ("dtype", self.dtype, DTYPES),
            ("quantize", self.quantize, QUANTIZATIONS),
            ("backend-api", self.backend_api, BACKEND_APIS),
            ("backend-scores", self.backend_scores, BACKEND_SCORES),
        ):
            if value not in allowed:
                raise ValueError(f"--{name} must be one of {', '.join(allowed)} (got {value!r})")
        if self.max_length < 64:
            raise ValueError(f"--max-length must be at least 64 tokens (got {self.max_length})")
        if self.backend:
            from .remote import check_urls

            check_urls(self.backend)


def torch_dtype(name: str):
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def resolve_device(requested: str) -> tuple[str, str]:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("--device cuda was asked for, but torch sees no CUDA GPU here")
    if requested != "auto":
        return requested, f"device {requested} (as asked)"
    if torch.cuda.is_available():
        return "cuda", f"device cuda ({torch.cuda.get_device_name(0)}): a GPU is present"
    return "cpu", "device cpu: no CUDA GPU found"


def resolve_dtype(requested: str, device: str) -> tuple[str, str]:
    if requested != "auto":
        return requested, f"dtype {requested} (as asked)"
    if device == "cuda":
        import torch

        if torch.cuda.is_bf16_supported():
            return "bf16", "dtype bf16: fastest safe choice on this GPU (fp16 can overflow to NaN)"
        return "fp32", "dtype fp32: this GPU lacks bf16 and fp16 can overflow to NaN"
    return "fp32", "dtype fp32: bf16 is faster on some CPUs but reorders close scores (benchmarks/dtype_agreement.py)"


_CAST_NOTICE = "MatMul8bitLt: inputs will be cast"


def _drop_cast_notice(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_CAST_NOTICE)


def quiet_libraries() -> None:
    """Progress bars and advice printed by transformers and the hub client would scribble over a
    full-screen app and clutter script output; our own progress messages replace them.
    transformers is quieted where it is imported (quiet_transformers): the offline fallback runs
    without it, and importing it only to quiet it cost a launch ~0.7 s."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "huggingface_hub" in sys.modules:  # it read the variable when imported: tell it directly
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    # bitsandbytes says this on every 8-bit matmul of every forward pass: thousands of lines per
    # run on stderr (a warning in some releases, a log record in 0.50). The cast is expected.
    warnings.filterwarnings("ignore", message=_CAST_NOTICE)
    bnb_log = logging.getLogger("bitsandbytes.autograd._functions")
    if _drop_cast_notice not in bnb_log.filters:
        bnb_log.addFilter(_drop_cast_notice)


def quiet_transformers() -> None:
    """transformers' advice and progress bars off (see quiet_libraries)."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def warm_imports() -> None:
    """Import what loading a model imports (torch, then the offline fallback's and transformers'
    modules), with their bytecode written even where PYTHONDONTWRITEBYTECODE is set.
    `scripts/setup --compile-in-background` (what `./scripts/launch` runs) calls this first, at low
    priority, on the core a starting app leaves idle: the app reaches these imports a few seconds
    after its window opens and finds much of them compiled. The workbench's own modules, imported
    before the flag is lifted, stay uncompiled in the source tree."""
    sys.dont_write_bytecode = False
    import numpy  # noqa: F401
    import safetensors.torch  # noqa: F401
    import tokenizers  # noqa: F401
    import torch  # noqa: F401
    from transformers import (  # noqa: F401
        AutoModelForCausalLM,
        AutoTokenizer,
        DynamicCache,
        PreTrainedModel,
        Qwen3ForCausalLM,
    )


def load_scorer(options: LoadOptions, progress: Progress | None = None) -> Scorer:
    """Load the named reranker, or the default one with the offline fallback behind it."""
    say = progress or (lambda _msg: None)
    quiet_libraries()
    if options.backend:
        return _connect_backend(options, say)
    if options.model is not None:
        return _load_reranker(options.model, options, say)
    try:
        return _load_reranker(DEFAULT_MODEL, options, say)
    except ModelLoadError as e:
        say(f"{DEFAULT_MODEL} unavailable; loading the offline fallback")
        return load_fallback(options, reason=str(e))


def _connect_backend(options: LoadOptions, say: Progress) -> Scorer:
    from transformers import AutoTokenizer

    from .remote import BackendUnavailable, connect

    quiet_transformers()

    offline = options.offline or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")

    def tokenizer_of(source: str):
        local = Path(source).expanduser()
        where = local if local.is_dir() else source
        return AutoTokenizer.from_pretrained(where, trust_remote_code=False, local_files_only=offline and not local.is_dir())

    say(f"connecting to {', '.join(options.backend)}")
    try:
        return connect(options.backend, options.backend_api, options.backend_scores, options.model,
                       options.max_length, tokenizer_of)
    except BackendUnavailable as e:
        raise ModelLoadError(str(e)) from None


def load_fallback(options: LoadOptions, reason: str) -> Scorer:
    from .fallback import EmbeddingFallback, fallback_dtype

    device, device_why = resolve_device(options.device)
    dtype, dtype_why = fallback_dtype(options.dtype, device)
    choices = (device_why, dtype_why) + (("compile asked for: the offline fallback runs eagerly",) if options.compile else ())
    try:
        return EmbeddingFallback(device=device, reason=reason, dtype=dtype, choices=choices)
    except (OSError, ImportError, ValueError) as e:  # a missing or damaged package
        raise ModelLoadError(f"no reranker could be loaded ({reason}) and the offline fallback failed: {e}") from e


def _load_reranker(name: str, options: LoadOptions, say: Progress) -> Scorer:
    # Found first, imported after: torch, transformers' model classes and the engine took 5.4 s to
    # import on a 2-core CPU, wasted where the model is not there and the offline fallback loads.
    path, revision = _locate(name, options, say)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .reranker import Qwen3Reranker, schedule_for

    quiet_transformers()
    device, device_why = resolve_device(options.device)
    dtype, dtype_why = resolve_dtype(options.dtype, device)
    say(f"loading {name} on {device} ({dtype}{'' if options.quantize == 'none' else ', ' + options.quantize})")
    kwargs: dict = {"dtype": torch_dtype(dtype), "trust_remote_code": False, "use_safetensors": True}
    if options.quantize != "none":
        kwargs["quantization_config"] = quantization_config(options.quantize, dtype)
        kwargs["device_map"] = {"": device}
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False, padding_side="left")
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        if options.quantize == "none":
            model = model.to(device)
    except torch.OutOfMemoryError:
        raise ModelLoadError(
            f"out of GPU memory loading {name} in {dtype}; try --quantize 8bit or a smaller model"
        ) from None
    except (OSError, ValueError, ImportError, RuntimeError, KeyError) as e:
        raise ModelLoadError(f"could not load {name}: {_first_line(e)}") from e
    info = ModelInfo(
        model_id=name,
        kind="qwen3-reranker",
        device=device,
        dtype=dtype,
        quantization=options.quantize,
        revision=revision,
        max_length=options.max_length,
        attn_implementation=getattr(model.config, "_attn_implementation", None),
        choices=(device_why, dtype_why) + ((compile_choice(device),) if options.compile else ()) + schedule_for(
            device, quick_first_rows=options.quick_first_rows, quantized=options.quantize != "none",
            compiled=options.compile).reasons,
    )
    try:
        scorer = Qwen3Reranker(model, tokenizer, info, token_budget=options.batch_tokens,
                               quick_first_rows=options.quick_first_rows)
    except ValueError as e:
        raise ModelLoadError(f"{name} does not look like a Qwen3 reranker: {e}") from e
    scorer.compile = options.compile
    return scorer


def compile_choice(device: str) -> str:
    """What --compile does on this device, shown with the model's other choices."""
    how = "CUDA graphs" if device == "cuda" else "inductor"
    return (f"compiled forward ({how}, as asked): each new batch shape compiles once, seconds to minutes; "
            "any failure to compile scores eagerly")


def _locate(name: str, options: LoadOptions, say: Progress) -> tuple[Path, str]:
    """A local directory as is (revision = content hash), or a hub snapshot (revision = commit)."""
    local = Path(name).expanduser()
    if local.is_dir():
        return local, local_weights_hash(local)
    if local.exists() or name.startswith((".", "/", "~")):
        raise ModelLoadError(f"{name} is not a model directory")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    offline = options.offline or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
    say(f"looking for {name} in the local cache" if offline else f"fetching {name} (or using the cache)")
    try:
        snapshot = Path(
            snapshot_download(
                name, revision=options.revision, allow_patterns=_HUB_FILES, local_files_only=offline
            )
        )
    except HFValidationError:
        raise ModelLoadError(f"{name} is neither a local directory nor a valid hub id") from None
    except LocalEntryNotFoundError as e:  # not cached, and the hub could not be reached
        where = "the hub is not consulted (offline)" if offline else "the model hub could not be reached"
        raise ModelLoadError(f"{name} is not in the local model cache, and {where}") from e
    except Exception as e:  # the hub client raises many kinds: 404, gated, timeouts
        if offline:
            raise ModelLoadError(f"{name} is not in the local model cache, and the hub is not consulted (offline)") from e
        raise ModelLoadError(f"{name} is neither cached nor downloadable: {_first_line(e)}") from e
    return snapshot, snapshot.name


def local_weights_hash(path: Path) -> str:
    """A cheap content fingerprint of local weights: sizes plus the head and tail of each file.

    Hashing multi-GB files in full would stall start-up; two checkpoints differing only in the
    middle of a file are not a realistic case for fine-tunes (every tensor changes).
    """
    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.json")):
        size = f.stat().st_size
        h.update(f"{f.name}:{size}".encode())
        with open(f, "rb") as fh:
            h.update(fh.read(1 << 20))
            if size > 2 << 20:
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
    return "sha256:" + h.hexdigest()[:16]


def quantization_config(quantize: str, dtype: str):
    try:
        import bitsandbytes  # noqa: F401
        from transformers import BitsAndBytesConfig
    except ImportError as e:
        raise ModelLoadError("--quantize needs bitsandbytes and accelerate: pip install 'rerank-workbench[quant]'") from e
    compute = torch_dtype(dtype)
    # lm_head stays unquantised: quantising the yes/no rows destroys the scores.
    if quantize == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=["lm_head"])
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_compute_dtype=compute,
        llm_int8_skip_modules=["lm_head"],
    )


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return text.splitlines()[0][:300]
