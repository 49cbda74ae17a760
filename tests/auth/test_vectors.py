"""Hash vectors: why RFC 7616 erratum 4897 exists, and FIPS 180-4 SHA-512/256 (both the native
and the pure-Python implementation).  The published Digest vectors (RFC 2617 §3.5, RFC 7616
§3.9.1 and §3.9.2 with erratum 4897) are requirement checks, in
sipfsm/conformance/checks_digest_computation.py; their values are in
sipfsm/conformance/digest_support.py."""

from __future__ import annotations

import hashlib

import pytest

from sipfsm.auth._sha512_256 import sha512_256_hex
from sipfsm.auth.digest import SHA512_256_NATIVE, lookup_algorithm
from sipfsm.conformance.digest_support import (
    PRINTED_RESPONSE,
    PRINTED_USERHASH,
    RFC7616_392_CNONCE,
    RFC7616_392_NONCE,
    RFC7616_392_PASSWORD,
    RFC7616_392_USER,
)


def test_the_printed_3_9_2_values_are_truncated_sha512() -> None:
    """Why erratum 4897 exists: reproduce the RFC's printed values with the wrong hash."""

    def h(text: str) -> str:
        return hashlib.sha512(text.encode()).hexdigest()[:64]

    user, realm = RFC7616_392_USER, "api@example.org"
    assert h(f"{user}:{realm}") == PRINTED_USERHASH
    ha1 = h(f"{user}:{realm}:{RFC7616_392_PASSWORD}")
    ha2_hex = h("GET:/doe.json")
    digest = f"{ha1}:{RFC7616_392_NONCE}:00000001:{RFC7616_392_CNONCE}:auth:{ha2_hex}"
    assert h(digest) == PRINTED_RESPONSE


def test_sha512_256_is_fips_sha512_256() -> None:
    # FIPS 180-4 / NIST CSRC example for SHA-512/256("abc").
    abc = "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
    spec = lookup_algorithm("SHA-512-256")
    assert spec is not None and spec.hash(b"abc") == abc
    assert sha512_256_hex(b"abc") == abc


@pytest.mark.parametrize("size", [0, 1, 55, 111, 112, 127, 128, 129, 300])
def test_pure_python_fallback_matches_openssl(size: int) -> None:
    if not SHA512_256_NATIVE:
        pytest.skip("this Python's OpenSSL has no sha512_256 to compare with")
    data = bytes(range(256)) * 2
    assert sha512_256_hex(data[:size]) == hashlib.new("sha512_256", data[:size]).hexdigest()
