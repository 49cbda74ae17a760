"""Published test vectors: RFC 2617 §3.5, RFC 7616 §3.9.1 and §3.9.2 (with erratum 4897),
FIPS 180-4 SHA-512/256.  The expected values are copied from the documents, not computed here."""

from __future__ import annotations

import hashlib

import pytest

from sipfsm.auth import build_authorization
from sipfsm.auth._sha512_256 import sha512_256_hex
from sipfsm.auth.digest import SHA512_256_NATIVE, ha2, lookup_algorithm
from sipfsm.auth.server import parse_credentials, verify


def params_of(value: str) -> dict[str, str]:
    creds = parse_credentials(value)
    return dict(creds.params)


# RFC 2617 §3.5: "Mufasa", password "Circle Of Life" (capital O, as §3.5 states), GET of
# /dir/index.html.  RFC 3261 §22.2 copies this Authorization into a SIP example with
# uri="sip:bob@biloxi.com" but keeps the same response, which those SIP inputs do not produce;
# the HTTP inputs above are the ones the value was computed from.
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
def test_rfc2617_section_3_5() -> None:
    value = build_authorization(
        RFC2617_CHALLENGE, method="GET", uri="/dir/index.html", username="Mufasa",
        password="Circle Of Life", cnonce="0a4f113b",
    )
    params = params_of(value)
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert params["qop"] == "auth" and params["nc"] == "00000001"
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    assert "algorithm" not in params  # none in the challenge, none echoed


# RFC 7616 §3.9.1
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
@pytest.mark.requirement("RFC7616-3.4-CREDENTIALS-QUOTING")
@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1(algorithm: str, expected: str) -> None:
    challenge = (
        f'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        f'nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
    )
    value = build_authorization(
        challenge, method="GET", uri="/dir/index.html", username="Mufasa",
        password="Circle of Life", cnonce=RFC7616_CNONCE,
    )
    assert f'response="{expected}"' in value
    assert f"algorithm={algorithm}," in value  # unquoted, as given
    for quoted in ('username="Mufasa"', 'realm="http-auth@example.org"',
                   f'nonce="{RFC7616_NONCE}"', 'uri="/dir/index.html"',
                   f'cnonce="{RFC7616_CNONCE}"', f'opaque="{RFC7616_OPAQUE}"'):
        assert quoted in value
    assert "qop=auth," in value and value.endswith(f'nc=00000001, cnonce="{RFC7616_CNONCE}"')


# RFC 7616 §3.9.2, with the username hash and response of erratum 4897: the RFC printed
# 488869477bf2...254ec / ae66e67d6b42...79dd, which are SHA-512 truncated to 256 bits, not
# SHA-512/256 (demonstrated below).
RFC7616_392_CHALLENGE = (
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, '
    'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", '
    'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true'
)
RFC7616_392_USER = "J\u00e4s\u00f8n Doe"
RFC7616_392_PASSWORD = "Secret, or not?"
RFC7616_392_CNONCE = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"
ERRATUM_4897_USERHASH = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
ERRATUM_4897_RESPONSE = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
PRINTED_USERHASH = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
PRINTED_RESPONSE = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"


@pytest.mark.requirement("RFC7616-3.4.4-USERHASH")
@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
def test_rfc7616_section_3_9_2_userhash_with_erratum_4897() -> None:
    value = build_authorization(
        RFC7616_392_CHALLENGE, method="GET", uri="/doe.json", username=RFC7616_392_USER,
        password=RFC7616_392_PASSWORD, cnonce=RFC7616_392_CNONCE,
    )
    params = params_of(value)
    assert params["username"] == ERRATUM_4897_USERHASH
    assert params["userhash"] == "true"
    assert params["response"] == ERRATUM_4897_RESPONSE
    assert "username*" not in params


@pytest.mark.requirement("RFC7616-3.4-USERNAME-STAR")
def test_rfc7616_section_3_9_2_without_userhash_uses_username_star() -> None:
    value = build_authorization(
        RFC7616_392_CHALLENGE.replace("userhash=true", "userhash=false"), method="GET",
        uri="/doe.json", username=RFC7616_392_USER, password=RFC7616_392_PASSWORD,
        cnonce=RFC7616_392_CNONCE,
    )
    assert value.startswith("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, ")
    assert 'username="' not in value
    assert params_of(value)["response"] == ERRATUM_4897_RESPONSE  # A1 uses the plain name
    creds = parse_credentials(value)
    assert creds.username == RFC7616_392_USER
    result = verify(creds, method="GET", realm="api@example.org",
                    password=RFC7616_392_PASSWORD)
    assert result.ok


def test_the_printed_3_9_2_values_are_truncated_sha512() -> None:
    """Why erratum 4897 exists: reproduce the RFC's printed values with the wrong hash."""

    def h(text: str) -> str:
        return hashlib.sha512(text.encode()).hexdigest()[:64]

    user, realm = RFC7616_392_USER, "api@example.org"
    assert h(f"{user}:{realm}") == PRINTED_USERHASH
    ha1 = h(f"{user}:{realm}:{RFC7616_392_PASSWORD}")
    ha2_hex = h("GET:/doe.json")
    nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK"
    assert h(f"{ha1}:{nonce}:00000001:{RFC7616_392_CNONCE}:auth:{ha2_hex}") == PRINTED_RESPONSE


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


@pytest.mark.requirement("RFC3261-22.4-EMPTY-BODY-HASH")
@pytest.mark.requirement("RFC8760-2.6-EMPTY-BODY-HASH")
@pytest.mark.parametrize(
    ("algorithm", "empty"),
    [
        ("MD5", "d41d8cd98f00b204e9800998ecf8427e"),  # RFC 3261 §22.4 item 7
        ("SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("SHA-512-256", "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"),
    ],
)
def test_auth_int_with_no_body_hashes_the_empty_string(algorithm: str, empty: str) -> None:
    spec = lookup_algorithm(algorithm)
    assert spec is not None
    assert spec.hash(b"") == empty
    assert ha2(spec, "REGISTER", "sip:a.example", "auth-int") == spec.h(
        f"REGISTER:sip:a.example:{empty}")
