"""Challenge parsing (RFC 3261 §25.1 ``challenge``, RFC 7616 §3.3, RFC 8760 §2.7).  The
requirement checks (unusable challenges and unknown qop options ignored) are in
sipfsm/conformance/checks_digest_client.py (run by tests/test_conformance.py)."""

from __future__ import annotations

import pytest

from sipfsm.auth import ChallengeError, parse_challenge, parse_challenges

# RFC 3261 §20.44 (the same text as §20.27's Proxy-Authenticate example), folded as printed.
RFC3261_20_44 = (
    'Digest realm="atlanta.com",\r\n  domain="sip:boxesbybob.com", qop="auth",\r\n'
    '  nonce="f84f1cec41e6cbe5aea9c8e88d359",\r\n  opaque="", stale=FALSE, algorithm=MD5'
)
RFC3261_22_2 = (
    'Digest realm="biloxi.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def test_rfc3261_20_44_example() -> None:
    challenge = parse_challenge(RFC3261_20_44)
    assert challenge.is_digest
    assert challenge.realm == "atlanta.com"
    assert challenge.domain == ("sip:boxesbybob.com",)
    assert challenge.qop == ("auth",)
    assert challenge.nonce == "f84f1cec41e6cbe5aea9c8e88d359"
    assert challenge.opaque == ""
    assert challenge.stale is False
    assert challenge.algorithm == "MD5"
    assert challenge.usable


def test_rfc3261_22_2_example() -> None:
    challenge = parse_challenge(RFC3261_22_2)
    assert challenge.qop == ("auth", "auth-int")
    assert challenge.algorithm is None and challenge.algorithm_spec is not None
    assert challenge.algorithm_spec.name == "MD5"
    assert challenge.choose_qop() == "auth"


def test_rfc7616_extensions_and_unknown_params_are_kept() -> None:
    challenge = parse_challenge(
        'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="n", '
        'opaque="o", charset=UTF-8, userhash=true, stale=True, Extra="x, y", token=t'
    )
    assert challenge.charset == "UTF-8"
    assert challenge.userhash and challenge.stale
    assert challenge.extra == (("extra", "x, y"), ("token", "t"))
    assert challenge.algorithm_spec is not None and challenge.algorithm_spec.name == "SHA-512-256"


@pytest.mark.parametrize("stale", ["false", "FALSE", "yes", "1", '"true "'])
def test_stale_is_true_only_for_true(stale: str) -> None:
    assert parse_challenge(f'Digest realm="r", nonce="n", stale={stale}').stale is False
    assert parse_challenge('Digest realm="r", nonce="n", stale="TRUE"').stale is True


def test_several_header_lines_and_comma_joined_challenges() -> None:
    challenges = parse_challenges([
        'Digest realm="r", nonce="1", algorithm=SHA-256, qop="auth"',
        'Basic realm="r", Digest realm="r", nonce="2", algorithm=MD5, qop="auth"',
    ])
    assert [(c.scheme, c.nonce) for c in challenges] == [
        ("Digest", "1"), ("Basic", None), ("Digest", "2")]


def test_algorithm_names_match_case_insensitively_but_are_echoed_as_written() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n", algorithm=sha-256-SESS, qop=auth')
    assert challenge.algorithm == "sha-256-SESS"
    assert challenge.algorithm_spec is not None and challenge.algorithm_spec.name == "SHA-256-sess"


@pytest.mark.parametrize("text", ["", "   ", 'Digest realm="a", nonce="b", Digest x="y"'])
def test_parse_challenge_wants_exactly_one(text: str) -> None:
    with pytest.raises(ChallengeError):
        parse_challenge(text)


def test_non_text_is_a_challenge_error() -> None:
    with pytest.raises(ChallengeError):
        parse_challenges([b"Digest realm=r"])  # type: ignore[list-item]
