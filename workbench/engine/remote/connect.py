"""Connecting to rerank servers: which API they speak, which model and version answer, and the
tokenizer that counts tokens for chunking here."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from ..types import ModelInfo
from .pool import PoolSettings, ServerPool, failure_reason
from .scorer import RemoteReranker

_PROBES = ("/version", "/v1/models", "/models", "/openapi.json")


class BackendUnavailable(Exception):
    """No server could be used; the message says which and why."""


@dataclass(frozen=True)
class ServerFacts:
    url: str
    api: str  # "vllm" or "rerank" (what auto resolves to)
    software: str  # "vllm 0.11.0", "Infinity 0.0.76", "a rerank server"
    model: str | None  # the served model's name, sent with each request
    root: str | None  # where the server loaded it from (vLLM's `root`): a hub id or a path
    max_length: int | None


def check_urls(urls: tuple[str, ...]) -> None:
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"--backend needs a server address like http://127.0.0.1:8000 (got {url!r})")


def connect(
    urls: tuple[str, ...],
    api: str,
    scores: str,
    tokenizer_source: str | None,
    max_length: int,
    load_tokenizer,
    settings: PoolSettings | None = None,
) -> RemoteReranker:
    """Probe every server, agree on the model, load its tokenizer here, and build the scorer.
    Servers that do not answer are left out with a note; none answering is BackendUnavailable."""
    pool = ServerPool(list(urls), settings)
    facts, notes = [], []
    for url in pool.urls:
        try:
            facts.append(_probe(pool, url, api))
        except BackendUnavailable as e:
            notes.append(f"left out: {e}")
    if not facts:
        pool.close()
        raise BackendUnavailable("; ".join(n.removeprefix("left out: ") for n in notes))
    models = {f.model for f in facts if f.model}
    if len(models) > 1:
        pool.close()
        raise BackendUnavailable(f"the servers serve different models ({', '.join(sorted(models))}): give replicas of one model")
    first = facts[0]
    pool.urls = [f.url for f in facts]
    source = tokenizer_source or first.root or first.model
    if not source:
        pool.close()
        raise BackendUnavailable(f"{first.url} does not say which model it serves: give --model with its hub id or directory")
    try:
        tokenizer = load_tokenizer(source)
    except Exception as e:  # the hub client and transformers raise many kinds
        pool.close()
        raise BackendUnavailable(
            f"the tokenizer of {source} (used here to chunk and count tokens) could not be loaded: "
            f"{str(e).splitlines()[0][:200] if str(e) else type(e).__name__}; give --model with the model's hub id or directory"
        ) from e
    length = min(max_length, first.max_length) if first.max_length else max_length
    where = first.url if len(facts) == 1 else f"{first.url} (+{len(facts) - 1} more)"
    info = ModelInfo(
        model_id=first.model or source,
        kind="remote-reranker",
        device="remote",
        dtype="server",
        revision=first.root,
        max_length=length,
        backend=f"{first.software} at {where}",
        backend_identity=f"{first.api}|{scores}",
        choices=(f"scored by {first.software} at {', '.join(f.url for f in facts)} ({first.api} API)",
                 f"tokens counted with the tokenizer of {source}", *notes),
    )
    return RemoteReranker(pool, first.api, first.model, tokenizer, info, scores=scores)


def _probe(pool: ServerPool, url: str, api: str) -> ServerFacts:
    answers: dict[str, object] = {}
    reached = False
    for path in _PROBES:
        try:
            response = pool.client.get(url + path, timeout=min(10.0, pool.settings.timeout_s))
        except httpx.HTTPError as e:
            if not reached and isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout)):
                raise BackendUnavailable(f"cannot reach the rerank server at {url} ({failure_reason(e)})") from None
            continue
        reached = True
        if response.status_code == 200:
            try:
                answers[path] = response.json()
            except ValueError:
                pass
    version = answers.get("/version")
    is_vllm = isinstance(version, dict) and "version" in version
    models = answers.get("/v1/models") or answers.get("/models")
    entry = _first_model(models)
    if api == "auto":
        api = "vllm" if is_vllm else "rerank"
    software = f"vllm {version['version']}" if is_vllm else _software(answers.get("/openapi.json"))
    limit = entry.get("max_model_len") if isinstance(entry.get("max_model_len"), int) else None
    return ServerFacts(url, api, software, entry.get("id"), entry.get("root"), limit)


def _first_model(models: object) -> dict:
    data = models.get("data") if isinstance(models, dict) else None
    return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}


def _software(openapi: object) -> str:
    info = openapi.get("info") if isinstance(openapi, dict) else None
    if isinstance(info, dict) and info.get("title"):
        title = str(info["title"]).strip()
        return f"{title} {info.get('version', '')}".strip()
    return "a rerank server"
