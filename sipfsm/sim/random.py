"""``SeededRandom``: the ``Random`` port from a seed, for reproducible simulations.

Not for production: tokens from a seeded generator are guessable.  The asyncio adapters use the
operating system's CSPRNG instead.
"""

from __future__ import annotations

import random as _random

__all__ = ["SeededRandom"]

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: SIP token characters


class SeededRandom:
    """``ports.Random`` over ``random.Random(seed)``.  Tokens use the same alphabet as the
    asyncio adapter (lower-case base32), 5 bits per character."""

    def __init__(self, seed: int | str | bytes = 0) -> None:
        self.seed = seed
        self._random = _random.Random(seed)

    def token(self, nbits: int) -> str:
        chars = max(1, -(-nbits // 5))
        bits = self._random.getrandbits(chars * 5)
        out = []
        for _ in range(chars):
            out.append(_ALPHABET[bits & 31])
            bits >>= 5
        return "".join(out)

    def uniform(self, low: float, high: float) -> float:
        return self._random.uniform(low, high)

    def random(self) -> float:
        """A float in [0, 1) (for the simulator's own fault decisions)."""
        return self._random.random()
