"""What a run's `fingerprint` JSON records, so an old result can be explained later.

Versions come from package metadata: asking for torch's version must not import torch (seconds,
and the store stays importable where torch is not installed).
"""

from __future__ import annotations

import platform
from importlib import metadata

_PACKAGES = {"torch": "torch", "transformers": "transformers", "tokenizers": "tokenizers",
             "workbench": "rerank-workbench"}


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str | None]:
    versions = {name: _version(dist) for name, dist in _PACKAGES.items()}
    versions["python"] = platform.python_version()
    return versions


def run_fingerprint(prompt_template_hash: str, **extra: object) -> dict:
    """Library versions + the prompt template hash (+ anything else the caller wants kept)."""
    return {**library_versions(), "prompt_template_hash": prompt_template_hash, **extra}
