"""Shared helpers for the Digest tests.  They live in the package (the conformance checks use
them too): sipfsm.conformance.digest_support."""

from __future__ import annotations

from sipfsm.conformance.digest_support import (
    PASSWORD,
    REALM,
    URI,
    USER,
    CountingRandom,
    FakeServer,
    Verdict,
    answer,
    challenge,
    digest_client,
    only,
    param_lists,
)

__all__ = [
    "PASSWORD",
    "REALM",
    "URI",
    "USER",
    "CountingRandom",
    "FakeServer",
    "Verdict",
    "answer",
    "challenge",
    "digest_client",
    "only",
    "param_lists",
]
