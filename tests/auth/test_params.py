"""Auth-param lists (RFC 3261 §25.1 challenge / credentials grammar): parsing, serialising.
The requirement checks (credentials quoting, unknown or malformed challenges ignored) are in
sipfsm/conformance/checks_digest_*.py (run by tests/test_conformance.py)."""

from __future__ import annotations

import pytest
from hypothesis import given

from sipfsm.auth import ChallengeError
from sipfsm.auth.params import (
    AuthParam,
    format_params,
    parse_auth_params,
    quote,
    split_challenges,
)
from sipfsm.errors import LocalProtocolError

from .support import param_lists


def test_token_and_quoted_values_are_unescaped() -> None:
    params = parse_auth_params(r'a=tok, b="x, y=z", c="q\"uote\\d", d=""')
    assert params == {
        "a": AuthParam("a", "tok", False),
        "b": AuthParam("b", "x, y=z", True),
        "c": AuthParam("c", 'q"uote\\d', True),
        "d": AuthParam("d", "", True),
    }


def test_names_are_case_insensitive_and_lowered() -> None:
    params = parse_auth_params('ReAlM="r", NONCE=n')
    assert list(params) == ["realm", "nonce"]


def test_duplicate_names_are_an_error_whatever_their_case() -> None:
    with pytest.raises(ChallengeError, match="twice"):
        parse_auth_params('realm="a", Realm="b"')


def test_whitespace_folds_and_empty_elements_are_allowed() -> None:
    params = parse_auth_params(' a = 1 ,, \r\n\tb="two\r\n words" , ')
    assert params["a"].value == "1"
    assert params["b"].value == "two words"


@pytest.mark.parametrize(
    "text",
    [
        'a="unterminated',
        "a=",
        "=b",
        "a b",
        'a="x" b="y"',
        'a="bad\x00char"',
        'a="esc\\\x01"',
        "a=\r\nb=c",  # a line break not followed by whitespace: header injection
        "a=é",  # non-ASCII outside quotes is not a token
        'a="x";b=y',
    ],
)
def test_malformed_lists_raise_challenge_error(text: str) -> None:
    with pytest.raises(ChallengeError):
        parse_auth_params(text)


def test_split_one_challenge_per_scheme_in_a_comma_joined_value() -> None:
    raw = split_challenges(
        'Basic realm="simple", Digest realm="a, b", nonce="n", qop="auth,auth-int", '
        'Newauth realm="apps", type=1, Digest realm="r2", nonce=x, Bearer'
    )
    assert [(r.scheme, list(r.params)) for r in raw] == [
        ("Basic", ["realm"]),
        ("Digest", ["realm", "nonce", "qop"]),
        ("Newauth", ["realm", "type"]),
        ("Digest", ["realm", "nonce"]),
        ("Bearer", []),
    ]
    assert raw[1].params["realm"].value == "a, b"
    assert raw[1].params["qop"].value == "auth,auth-int"


def test_token68_schemes_are_stepped_over() -> None:
    raw = split_challenges('Basic dXNlcjpwYXNz==, Digest realm="r", nonce="n"')
    assert raw[0].scheme == "Basic" and raw[0].token68 == "dXNlcjpwYXNz=="
    assert raw[1].params["nonce"].value == "n"


def test_scheme_must_be_separated_from_its_parameters() -> None:
    with pytest.raises(ChallengeError):
        split_challenges('Digestrealm="x"')


def test_format_refuses_what_cannot_be_carried() -> None:
    with pytest.raises(LocalProtocolError):
        format_params([("qop", "not a token", False)])
    with pytest.raises(LocalProtocolError):
        quote("line\r\nbreak")


@given(param_lists())
def test_parse_of_format_round_trips(params: list[tuple[str, str, bool]]) -> None:
    parsed = parse_auth_params(format_params(params))
    assert [tuple(p) for p in parsed.values()] == params
