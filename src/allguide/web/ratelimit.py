"""A small in-process token bucket, keyed by client address and bucket name.

Enough for one server process (the default deployment); several workers each keep their
own buckets (the login limit is split between them: `RateLimit.share`). Buckets refill
continuously; a denied request learns how many seconds until one token is back
(`Retry-After`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from allguide.web.settings import RateLimit

MAX_KEYS = 10_000  # bound memory under a flood of distinct addresses


class TokenBuckets:
    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.capacity = float(limit.requests)
        self.rate = limit.requests / limit.period_seconds  # tokens per second
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._lock = threading.Lock()  # sync dependencies run in a thread pool

    def take(self, key: str) -> int:
        """Spend one token. Returns 0 when allowed, else seconds to wait (≥ 1)."""
        if not self.limit.enabled:
            return 0
        now = self.clock()
        with self._lock:
            tokens, updated = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated) * self.rate)
            if tokens >= 1:
                self._store(key, tokens - 1, now)
                return 0
            self._store(key, tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            self._prune(now)
        self._buckets[key] = (tokens, now)

    def _prune(self, now: float) -> None:
        """Drop buckets that are full again (they carry no state); then the oldest."""
        full_after = self.capacity / self.rate
        for key, (_, updated) in list(self._buckets.items()):
            if now - updated >= full_after:
                del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:
            oldest = sorted(self._buckets.items(), key=lambda kv: kv[1][1])
            for key, _ in oldest[: len(oldest) // 2]:
                del self._buckets[key]

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
