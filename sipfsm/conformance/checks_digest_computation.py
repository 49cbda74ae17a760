"""Conformance checks for what the Digest client computes and writes: the response against the
published test vectors (RFC 2617 §3.5, RFC 7616 §3.9.1 and §3.9.2 with erratum 4897) and
against an independent reference computation over generated inputs, the empty-body hashes of
RFC 3261 §22.4 / RFC 8760 §2.6, charset=UTF-8 (RFC 7616 §4) and the quoting of credentials
(RFC 7616 §3.4) -- spec/digest.toml.

The expected vector values are copied from the documents (see
:mod:`sipfsm.conformance.digest_support`), never computed with sipfsm's hash code; the
reference there uses :mod:`hashlib` alone.
"""

from __future__ import annotations

import hashlib
import unicodedata

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.auth import build_authorization
from sipfsm.auth.digest import ha2, lookup_algorithm
from sipfsm.auth.params import format_params, parse_auth_params, split_challenges
from sipfsm.auth.server import parse_credentials, verify
from sipfsm.conformance.digest_reference import expected_response, read_credentials
from sipfsm.conformance.digest_support import (
    ERRATUM_4897_RESPONSE,
    ERRATUM_4897_USERHASH,
    RFC2617_CHALLENGE,
    RFC7616_392_CHALLENGE,
    RFC7616_392_CNONCE,
    RFC7616_392_PASSWORD,
    RFC7616_392_USER,
    RFC7616_CNONCE,
    RFC7616_NONCE,
    RFC7616_OPAQUE,
    bodies,
    challenge_text,
    methods,
    nonces,
    params_of,
    passwords,
    quoted_text,
    realms,
    reference_algorithms,
    reference_response,
    uris,
    usernames,
)
from sipfsm.conformance.registry import check, expect

_REFERENCE_ALGORITHMS = st.sampled_from(reference_algorithms())
_CNONCES = st.from_regex(r"[a-z2-7]{8,26}", fullmatch=True)


# --------------------------------------------------------------------------------------------
# Published test vectors
# --------------------------------------------------------------------------------------------


@check("RFC3261-22.2-REORIGINATE-401")
def rfc2617_section_3_5_vector() -> None:
    """RFC 2617 §3.5 (the example RFC 3261 §22.2 copies): the published response, qop=auth
    with nc 00000001, the opaque echoed, and no algorithm since the challenge names none."""
    value = build_authorization(
        RFC2617_CHALLENGE, method="GET", uri="/dir/index.html", username="Mufasa",
        password="Circle Of Life", cnonce="0a4f113b",
    )
    params = params_of(value)
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert params["qop"] == "auth" and params["nc"] == "00000001"
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    assert "algorithm" not in params  # none in the challenge, none echoed


@check("RFC3261-22.2-REORIGINATE-401", "RFC7616-3.4-CREDENTIALS-QUOTING")
def rfc7616_section_3_9_1_vectors() -> None:
    """RFC 7616 §3.9.1, MD5 and SHA-256: the published responses, with username, realm,
    nonce, uri, cnonce and opaque quoted and algorithm, qop and nc not."""
    table = [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ]
    for algorithm, expected in table:
        challenge = (
            f'Digest realm="http-auth@example.org", qop="auth, auth-int", '
            f'algorithm={algorithm}, nonce="{RFC7616_NONCE}", opaque="{RFC7616_OPAQUE}"'
        )
        value = build_authorization(
            challenge, method="GET", uri="/dir/index.html", username="Mufasa",
            password="Circle of Life", cnonce=RFC7616_CNONCE,
        )
        quoting = "RFC7616-3.4-CREDENTIALS-QUOTING"
        expect("RFC3261-22.2-REORIGINATE-401", f'response="{expected}"' in value,
               f"{algorithm}: not the published response in {value}")
        expect(quoting, f"algorithm={algorithm}," in value,  # unquoted, as given
               f"{algorithm}: algorithm not as given, unquoted: {value}")
        for quoted in ('username="Mufasa"', 'realm="http-auth@example.org"',
                       f'nonce="{RFC7616_NONCE}"', 'uri="/dir/index.html"',
                       f'cnonce="{RFC7616_CNONCE}"', f'opaque="{RFC7616_OPAQUE}"'):
            expect(quoting, quoted in value, f"{algorithm}: no {quoted} in {value}")
        expect(quoting, "qop=auth," in value, f"{algorithm}: qop not unquoted auth: {value}")
        expect(quoting, value.endswith(f'nc=00000001, cnonce="{RFC7616_CNONCE}"'),
               f"{algorithm}: nc not unquoted 00000001: {value}")


@check("RFC7616-3.4.4-USERHASH", "RFC3261-22.2-REORIGINATE-401")
def rfc7616_section_3_9_2_userhash_with_erratum_4897() -> None:
    """RFC 7616 §3.9.2 (SHA-512-256, userhash=true) with the values of erratum 4897: the
    username is the hash, userhash=true is sent, and no username* appears."""
    value = build_authorization(
        RFC7616_392_CHALLENGE, method="GET", uri="/doe.json", username=RFC7616_392_USER,
        password=RFC7616_392_PASSWORD, cnonce=RFC7616_392_CNONCE,
    )
    params = params_of(value)
    expect("RFC7616-3.4.4-USERHASH", params.get("username") == ERRATUM_4897_USERHASH
           and params.get("userhash") == "true" and "username*" not in params
           and RFC7616_392_USER not in value,
           f"userhash=true: username={params.get('username')!r}, "
           f"userhash={params.get('userhash')!r}, username* {'username*' in params}")
    expect("RFC3261-22.2-REORIGINATE-401", params.get("response") == ERRATUM_4897_RESPONSE,
           f"response {params.get('response')}, erratum 4897 says {ERRATUM_4897_RESPONSE}")


@check("RFC7616-3.4-USERNAME-STAR")
def rfc7616_section_3_9_2_without_userhash_uses_username_star() -> None:
    """The §3.9.2 exchange with userhash off: the non-ASCII name goes in username* (RFC 8187,
    UTF-8, percent-encoded), never in username; the response is unchanged (A1 uses the plain
    name) and the server decodes and accepts it."""
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
    assert verify(creds, method="GET", realm="api@example.org",
                  password=RFC7616_392_PASSWORD).ok


@check("RFC7616-3.4-USERNAME-STAR")
@given(username=usernames, password=passwords)
def usernames_that_fit_a_quoted_string_use_username(username: str, password: str) -> None:
    """A username a quoted-string can carry as is goes in username; otherwise (non-ASCII) in
    username*; never both, and the server reads back the same name and accepts it."""
    value = build_authorization('Digest realm="r", nonce="n", qop="auth"', method="REGISTER",
                                uri="sip:r", username=username, password=password, cnonce="c")
    params = split_challenges(value)[0].params
    assert ("username" in params) != ("username*" in params)
    if not username.isascii():
        assert "username*" in params
    assert parse_credentials(value).username == username
    assert verify(value, method="REGISTER", realm="r", password=password).ok
    # The oracle for the response: the reference written apart (hashlib over RFC 7616).
    sent = read_credentials(value)
    assert sent["response"] == expected_response(sent, method="REGISTER", password=password,
                                                 username=username)


@check("RFC3261-22.4-EMPTY-BODY-HASH", "RFC8760-2.6-EMPTY-BODY-HASH")
def auth_int_with_no_body_hashes_the_empty_string() -> None:
    """qop=auth-int on a bodiless request: H(entity-body) is the algorithm's hash of the empty
    string (the published values), in A2 and so in the response."""
    table = [
        ("MD5", "d41d8cd98f00b204e9800998ecf8427e"),  # RFC 3261 §22.4 item 7
        ("SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("SHA-512-256", "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"),
    ]
    for algorithm, empty in table:
        rid = "RFC3261-22.4-EMPTY-BODY-HASH" if algorithm == "MD5" else \
            "RFC8760-2.6-EMPTY-BODY-HASH"
        spec = lookup_algorithm(algorithm)
        expect(rid, spec is not None and spec.hash(b"") == empty,
               f"{algorithm}: the hash of the empty body is not {empty}")
        if spec is None:
            continue
        name = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}[algorithm]

        def h(text: str, name: str = name) -> str:  # hashlib, not sipfsm's hash code
            return hashlib.new(name, text.encode(), usedforsecurity=False).hexdigest()

        expect(rid, ha2(spec, "REGISTER", "sip:a.example", "auth-int") == h(
            f"REGISTER:sip:a.example:{empty}"), f"{algorithm}: A2 of auth-int without a body")
        value = build_authorization(
            f'Digest realm="r", nonce="n", algorithm={algorithm}, qop="auth-int"',
            method="REGISTER", uri="sip:a.example", username="u", password="p", cnonce="c")
        expect(rid, parse_credentials(value).response == h(
            f"{h('u:r:p')}:n:00000001:c:auth-int:{h(f'REGISTER:sip:a.example:{empty}')}"),
            f"{algorithm}: the auth-int response without a body")


# --------------------------------------------------------------------------------------------
# The response against the independent reference
# --------------------------------------------------------------------------------------------


@check("RFC3261-22.2-REORIGINATE-401", "RFC7616-3.4-QOP-ONE-OF-OFFERED",
       "RFC2617-3.2.2.1-RESPONSE-DIGEST", "RFC7616-3.4-NC-HEX8")
@given(
    algorithm=_REFERENCE_ALGORITHMS, username=usernames, realm=realms, password=passwords,
    method=methods, uri=uris, nonce=nonces, nc=st.integers(1, 0xFFFFFFFF), cnonce=_CNONCES,
    qop=st.sampled_from(["auth", "auth-int", "auth,auth-int", "auth-int, x-unknown"]),
    body=bodies,
)
def response_equals_the_reference(
    algorithm: str, username: str, realm: str, password: str, method: str, uri: str,
    nonce: str, nc: int, cnonce: str, qop: str, body: bytes,
) -> None:
    """For any user, realm, password, method, uri, nonce, nc, cnonce, body and qop offer, the
    response is the reference's; the qop sent is one offered (auth preferred) and nc is 8
    lower-case hex digits."""
    value = build_authorization(
        challenge_text(realm, nonce, algorithm, qop), method=method, uri=uri,
        username=username, password=password, body=body, cnonce=cnonce, nc=nc,
    )
    sent = parse_credentials(value)
    chosen = "auth" if "auth," in qop + "," else "auth-int"
    expect("RFC7616-3.4-QOP-ONE-OF-OFFERED", sent.qop == chosen,
           f"offered {qop!r}: sent qop={sent.qop!r}, expected {chosen!r}")
    # RFC 7616 §3.4: nc = 8LHEX
    hex8 = "".join("0123456789abcdef"[(nc >> s) & 15] for s in range(28, -4, -4))
    expect("RFC7616-3.4-NC-HEX8", sent.nc == hex8, f"nc={sent.nc!r} for count {nc}")
    expected = reference_response(
        algorithm, username=username, realm=realm, password=password, method=method, uri=uri,
        nonce=nonce, nc=hex8, cnonce=cnonce, qop=chosen, body=body,
    )
    for rid in ("RFC2617-3.2.2.1-RESPONSE-DIGEST", "RFC3261-22.2-REORIGINATE-401"):
        expect(rid, sent.response == expected,
               f"{algorithm} qop={chosen}: the response differs from the RFC 7616 reference")


@check("RFC3261-22.4-NO-CNONCE-WITHOUT-QOP")
@given(username=usernames, realm=realms, password=passwords, uri=uris, nonce=nonces,
       algorithm=st.sampled_from([a for a in reference_algorithms() if not a.endswith("sess")]))
def no_qop_is_the_rfc2069_form(
    username: str, realm: str, password: str, uri: str, nonce: str, algorithm: str
) -> None:
    """A challenge without qop is answered without qop, cnonce or nc, with the RFC 2069
    response H(HA1:nonce:HA2)."""
    value = build_authorization(
        challenge_text(realm, nonce, algorithm, None), method="REGISTER", uri=uri,
        username=username, password=password,
    )
    sent = parse_credentials(value)
    assert sent.qop is None and sent.cnonce is None and sent.nc is None
    assert sent.response == reference_response(
        algorithm, username=username, realm=realm, password=password, method="REGISTER",
        uri=uri, nonce=nonce, nc="", cnonce="", qop=None, body=b"",
    )


@check("RFC7616-4-CHARSET-UTF8")
@example(username="Ja\u0308s\u00f8n", password="pa\u0301ss")  # "a" + combining diaeresis
@given(username=usernames, password=passwords)
def charset_utf8_normalises_to_nfc(username: str, password: str) -> None:
    """With charset=UTF-8 the username and password are hashed NFC-normalised, in UTF-8;
    without it the text is hashed as given (UTF-8, no normalisation)."""
    with_charset = build_authorization(
        challenge_text("r", "n", "SHA-256", "auth", charset=True), method="REGISTER",
        uri="sip:r", username=username, password=password, cnonce="c",
    )
    assert parse_credentials(with_charset).response == reference_response(
        "SHA-256", username=unicodedata.normalize("NFC", username), realm="r",
        password=unicodedata.normalize("NFC", password), method="REGISTER",
        uri="sip:r", nonce="n", nc="00000001", cnonce="c", qop="auth", body=b"",
    )
    plain = build_authorization(
        challenge_text("r", "n", "SHA-256", "auth"), method="REGISTER", uri="sip:r",
        username=username, password=password, cnonce="c",
    )
    assert parse_credentials(plain).response == reference_response(
        "SHA-256", username=username, realm="r", password=password,
        method="REGISTER", uri="sip:r", nonce="n", nc="00000001", cnonce="c", qop="auth",
        body=b"",
    )


# --------------------------------------------------------------------------------------------
# Quoting of credentials
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.4-CREDENTIALS-QUOTING")
def format_quotes_exactly_the_marked_values_and_escapes() -> None:
    """Quoted values are escaped (quote and backslash); token values are written bare."""
    text = format_params([("username", 'a"b\\c', True), ("qop", "auth", False),
                          ("nc", "00000001", False)])
    assert text == r'username="a\"b\\c", qop=auth, nc=00000001'


@check("RFC7616-3.4-CREDENTIALS-QUOTING")
@given(
    algorithm=st.sampled_from(reference_algorithms()), realm=realms, nonce=nonces, uri=uris,
    opaque=st.none() | quoted_text, qop=st.sampled_from(["auth", "auth-int"]),
    username=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                     max_size=16),
)
def credentials_quote_exactly_the_rfc7616_set(
    algorithm: str, realm: str, nonce: str, uri: str, opaque: str | None, qop: str,
    username: str,
) -> None:
    """In every Authorization: username, realm, nonce, uri, response, cnonce and opaque are
    quoted; algorithm, qop and nc are not; the values parse back unchanged."""
    challenge = challenge_text(realm, nonce, algorithm, qop)
    if opaque is not None:
        challenge += ', opaque="' + opaque.replace("\\", "\\\\").replace('"', '\\"') + '"'
    value = build_authorization(challenge, method="REGISTER", uri=uri, username=username,
                                password="pw", cnonce="c0ffee")
    params = parse_auth_params(value.removeprefix("Digest "))
    quoted = {"username", "realm", "nonce", "uri", "response", "cnonce"} | (
        {"opaque"} if opaque is not None else set())
    assert {n for n, p in params.items() if p.quoted} == quoted
    assert {n for n, p in params.items() if not p.quoted} == {"algorithm", "qop", "nc"}
    assert params["username"].value == username and params["realm"].value == realm
    assert params["nonce"].value == nonce and params["uri"].value == uri
    assert params["algorithm"].value == algorithm and params["qop"].value == qop
    if opaque is not None:
        assert params["opaque"].value == opaque
