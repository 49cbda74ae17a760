"""``SeededRandom``: the ``Random`` port from a seed, for reproducible simulations.

Not for production: tokens from a seeded generator are guessable.  The asyncio adapters use the
operating system's CSPRNG instead.
"""

from __future__ import annotations

import random as _random

__all__ = ["SeededRandom", "seed_material"]

_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32, lower case: SIP token characters
# 10 bits -> the two characters token() writes for them (low 5 bits first).
_PAIRS = [_ALPHABET[v & 31] + _ALPHABET[v >> 5] for v in range(1024)]


def seed_material(seed: int | str | bytes) -> str:
    """What ``random.Random`` is seeded with: CPython folds some distinct int seeds together
    (``Random(2)`` and ``Random(2**32 + 2)`` give the same numbers), a str of the seed's repr is
    hashed whole (SHA-512) and does not depend on PYTHONHASHSEED."""
    return f"sipfsm:{type(seed).__name__}:{seed!r}"


class SeededRandom:
    """``ports.Random`` over ``random.Random(seed)``.  Tokens use the same alphabet as the
    asyncio adapter (lower-case base32), 5 bits per character."""

    def __init__(self, seed: int | str | bytes = 0) -> None:
        self.seed = seed
        self._random = _random.Random(seed_material(seed))
        self._draw = self._random.random
        self._bits = self._random.getrandbits

    def token(self, nbits: int) -> str:
        chars = max(1, -(-nbits // 5))
        bits = self._bits(chars * 5)
        # Two characters a step: the same string as one character (5 bits, low bits first) a
        # step.
        p = _PAIRS
        if chars <= 16:
            # A branch (72 bits) or a tag (64), drawn for every request of a simulation: one
            # string built at once.  Pairs past ``chars`` stand for bits above the draw (zero)
            # and are cut.
            out = (f"{p[bits & 1023]}{p[bits >> 10 & 1023]}{p[bits >> 20 & 1023]}"
                   f"{p[bits >> 30 & 1023]}{p[bits >> 40 & 1023]}{p[bits >> 50 & 1023]}"
                   f"{p[bits >> 60 & 1023]}{p[bits >> 70]}")
            return out if chars == 16 else out[:chars]
        pieces = []
        for _ in range(chars >> 1):
            pieces.append(p[bits & 1023])
            bits >>= 10
        if chars & 1:
            pieces.append(_ALPHABET[bits & 31])
        return "".join(pieces)

    def uniform(self, low: float, high: float) -> float:
        # random.Random.uniform's formula, on the same draw: the same numbers, one call less.
        return low + (high - low) * self._draw()

    def random(self) -> float:
        """A float in [0, 1) (for the simulator's own fault decisions)."""
        return self._draw()
