"""``SeededRandom``: the same draws, in the same order, as ``random.Random`` on its seed material,
and tokens spelt as written here apart (5 bits a character, low bits first, lower-case base32)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.sim import SeededRandom
from sipfsm.sim.random import seed_material

BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32 alphabet, lower case


def reference_token(rng: random.Random, nbits: int) -> str:
    chars = max(1, -(-nbits // 5))
    bits = rng.getrandbits(chars * 5)
    return "".join(BASE32[(bits >> (5 * i)) & 31] for i in range(chars))


def test_every_length_is_spelt_as_the_reference() -> None:
    ours, reference = SeededRandom(7), random.Random(seed_material(7))
    for nbits in [*range(0, 301), 48, 64, 72, 96, 128, 160] * 3:
        assert ours.token(nbits) == reference_token(reference, nbits), nbits


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**70),
       calls=st.lists(st.one_of(st.integers(min_value=1, max_value=256),
                                st.sampled_from(["uniform", "random"])), max_size=40))
def test_interleaved_draws_are_the_reference_stream(seed: int, calls: list[int | str]) -> None:
    ours, reference = SeededRandom(seed), random.Random(seed_material(seed))
    for call in calls:
        if call == "uniform":
            assert ours.uniform(2.0, 5.0) == reference.uniform(2.0, 5.0)
        elif call == "random":
            assert ours.random() == reference.random()
        else:
            assert isinstance(call, int)
            token = ours.token(call)
            assert token == reference_token(reference, call)
            assert len(token) == -(-call // 5)
