"""Retry and poll delays: exponential backoff with full jitter, capped. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before attempt `n` (0-based): base * factor**n, capped, with ±`jitter` spread."""

    base: float
    cap: float
    factor: float = 2.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before the next attempt."""
        raw = min(self.cap, self.base * self.factor ** max(0, min(attempt, 32)))
        return raw * (1 + rng.uniform(-self.jitter, self.jitter))
