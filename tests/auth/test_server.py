"""sipfsm.auth.server unit tests: verification outcomes beyond the RFC rules.  The RFC 3261 §22 /
RFC 7616 / RFC 8760 requirement checks of the server side are in
sipfsm/conformance/checks_digest_server.py (run by tests/test_conformance.py)."""

from __future__ import annotations

import pytest

from sipfsm.auth import server as digest_server
from sipfsm.auth.digest import ha1_from_password, lookup_algorithm, userhash
from sipfsm.auth.server import Verdict, make_challenge, parse_credentials, verify

from .support import PASSWORD, REALM, USER, answer


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess",
                                       "SHA-512-256", "SHA-512-256-sess"])
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
def test_verify_accepts_the_clients_answer(algorithm: str, qop: str) -> None:
    challenge = make_challenge(REALM, nonce="n", algorithm=algorithm, qop=(qop,))
    body = b"body" if qop == "auth-int" else b""
    value = answer(challenge, body=body)
    result = verify(value, method="REGISTER", realm=REALM, password=PASSWORD, body=body)
    assert result.ok and result.username == USER
    spec = lookup_algorithm(algorithm)
    assert spec is not None
    by_ha1 = verify(value, method="REGISTER", realm=REALM, body=body,
                    ha1=ha1_from_password(spec, USER, REALM, PASSWORD).upper())
    assert by_ha1.ok


def test_verify_reports_what_is_wrong() -> None:
    challenge = make_challenge(REALM, nonce="n")
    value = answer(challenge)
    cases = {
        "realm": verify(value, method="REGISTER", realm="other", password=PASSWORD),
        "method": verify(value, method="INVITE", realm=REALM, password=PASSWORD),
        "user": verify(value, method="REGISTER", realm=REALM),
        "algorithm": verify(value, method="REGISTER", realm=REALM, password=PASSWORD,
                            algorithms=("MD5",)),
        "malformed": verify('Digest username="x', method="REGISTER", realm=REALM),
        "missing": verify('Digest username="x", realm="example.com"', method="REGISTER",
                          realm=REALM, password=PASSWORD),
        "qop-no-nc": verify(value.replace(", nc=00000001", ""), method="REGISTER",
                            realm=REALM, password=PASSWORD),
    }
    assert cases["realm"].verdict is Verdict.UNUSABLE
    assert cases["method"].verdict is Verdict.WRONG
    assert cases["user"].verdict is Verdict.WRONG
    assert cases["algorithm"].verdict is Verdict.UNUSABLE
    assert cases["malformed"].verdict is Verdict.UNUSABLE
    assert cases["missing"].verdict is Verdict.UNUSABLE
    assert cases["qop-no-nc"].verdict is Verdict.UNUSABLE


def test_userhash_is_checked_against_the_plain_name() -> None:
    challenge = make_challenge(REALM, nonce="n", userhash=True)
    value = answer(challenge)
    creds = parse_credentials(value)
    spec = lookup_algorithm("SHA-256")
    assert spec is not None and creds.userhash
    assert creds.username == userhash(spec, USER, REALM)
    assert verify(creds, method="REGISTER", realm=REALM, password=PASSWORD, username=USER).ok
    assert verify(creds, method="REGISTER", realm=REALM, password=PASSWORD,
                  username="mallory").verdict is Verdict.WRONG


def test_module_exports() -> None:
    assert set(digest_server.__all__) >= {"make_challenge", "verify", "parse_credentials"}
