"""In-memory score cache: same model fingerprint + same prompt ids -> same logit."""

from __future__ import annotations

from collections import OrderedDict

from .scorer import ScoreCache


class MemoryScoreCache:
    """A bounded LRU map; optionally in front of a persistent cache (the SQLite one)."""

    def __init__(self, capacity: int = 200_000, backing: ScoreCache | None = None):
        self.capacity = capacity
        self.backing = backing
        self._data: OrderedDict[tuple[str, str], float] = OrderedDict()

    def get_many(self, fingerprint: str, keys: list[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        missing: list[str] = []
        for k in keys:
            v = self._data.get((fingerprint, k))
            if v is None:
                missing.append(k)
            else:
                self._data.move_to_end((fingerprint, k))
                found[k] = v
        if missing and self.backing is not None:
            from_backing = self.backing.get_many(fingerprint, missing)
            self._remember(fingerprint, from_backing)
            found.update(from_backing)
        return found

    def put_many(self, fingerprint: str, items: dict[str, float]) -> None:
        self._remember(fingerprint, items)
        if self.backing is not None and items:
            self.backing.put_many(fingerprint, items)

    def _remember(self, fingerprint: str, items: dict[str, float]) -> None:
        for k, v in items.items():
            self._data[(fingerprint, k)] = v
            self._data.move_to_end((fingerprint, k))
        while len(self._data) > self.capacity:
            self._data.popitem(last=False)
