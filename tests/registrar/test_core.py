"""The embedded registrar's core beyond the spec records: malformed requests, serialisation and
configuration.  The §10.3 / UAS rules themselves are conformance checks in the package
(sipfsm/conformance/checks_registrar*.py), run by tests/test_conformance.py."""

from __future__ import annotations

import pytest

from sipfsm.errors import ConfigError
from sipfsm.message import parse
from sipfsm.registrar import RegistrarConfig

from .support import AUTH, SOURCE, handle, make_registrar, register


def test_request_without_via_is_not_answered() -> None:
    registrar, _ = make_registrar()
    request = register()
    request = request.with_headers(request.headers.without("Via"))
    assert registrar.handle(request, SOURCE, "UDP") == []


def test_missing_or_mismatched_headers_are_400() -> None:
    registrar, _ = make_registrar()
    request = register()
    no_call_id = request.with_headers(request.headers.without("Call-ID"))
    assert handle(registrar, no_call_id).status == 400
    mismatch = request.with_headers(request.headers.with_replaced("CSeq", "1 OPTIONS"))
    assert handle(registrar, mismatch).status == 400
    bad_contact = register(contacts=["<sip:alice@"])
    assert handle(registrar, bad_contact).status == 400


def test_responses_serialise_and_parse_back() -> None:
    registrar, _ = make_registrar(AUTH)
    response = handle(registrar, register())
    assert parse(response.to_bytes()) == response


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_expires": 100, "max_expires": 50},
        {"algorithms": ("SHA1",)},
        {"algorithms": ()},
        {"reject_status": 404},
        {"domains": "example.com"},
        {"domains": frozenset()},
        {"nonce_lifetime": 0},
        {"default_expires": 0},
        {"scenario": "bogus"},
        {"realm": ""},
    ],
)
def test_bad_config_is_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RegistrarConfig(**kwargs)  # type: ignore[arg-type]


def test_algorithm_names_are_canonicalised() -> None:
    config = RegistrarConfig(algorithms=("sha256", "sha-512-256-SESS", "md5", "MD5"))
    assert config.algorithms == ("SHA-256", "SHA-512-256-sess", "MD5")
