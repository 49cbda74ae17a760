"""DigestClient unit tests: configuration, housekeeping and behaviour beyond the RFC rules.
The RFC 3261 §22 / RFC 7616 / RFC 8760 requirement checks of the client are in
sipfsm/conformance/checks_digest_client.py (run by tests/test_conformance.py)."""

from __future__ import annotations

from typing import Any

import pytest

from sipfsm.auth import DigestClient, Secret, StaticCredentials, build_authorization
from sipfsm.auth.credentials import Credentials
from sipfsm.auth.digest import ha1_from_password, lookup_algorithm
from sipfsm.auth.server import parse_credentials
from sipfsm.errors import AuthenticationFailed, ConfigError, LocalProtocolError
from sipfsm.sim import SeededRandom

from .support import PASSWORD, REALM, URI, USER, CountingRandom, FakeServer, challenge, only
from .support import digest_client as client


def test_no_credentials_before_any_challenge() -> None:
    assert client().authorization_headers("REGISTER", URI) == []


def test_realms_without_credentials_are_skipped_when_others_can_be_answered() -> None:
    store = StaticCredentials(USER, PASSWORD, realm="a.example")
    digest = DigestClient(store, SeededRandom(1))
    digest.handle_challenge(401, [challenge("a.example"), challenge("b.example", "n2")])
    headers = digest.authorization_headers("REGISTER", URI)
    assert [parse_credentials(v).realm for _, v in headers] == ["a.example"]


# ---- bounded retries, challenge handling ---------------------------------------------------


def test_the_attempt_count_restarts_with_each_new_request() -> None:
    digest = client(max_attempts=1)
    for i in range(5):  # a refresh, challenged stale once each time, succeeds each time
        digest.authorization_headers("REGISTER", URI)
        digest.handle_challenge(401, [challenge(nonce=f"n{i}", stale=True)])
        assert digest.authorization_headers("REGISTER", URI)


def test_handle_challenge_wants_401_or_407() -> None:
    with pytest.raises(LocalProtocolError):
        client().handle_challenge(403, [challenge()])


# ---- Authentication-Info --------------------------------------------------------------------


def test_authentication_info_without_our_credentials_is_ignored() -> None:
    digest = client()
    digest.handle_authentication_info('nextnonce="x", rspauth="1234"')
    assert digest.authorization_headers("REGISTER", URI) == []


# ---- credentials ------------------------------------------------------------------------------


def test_precomputed_ha1_answers_its_algorithm_and_its_sess_variant() -> None:
    spec = lookup_algorithm("MD5")
    assert spec is not None
    ha1 = ha1_from_password(spec, USER, REALM, PASSWORD)
    store = StaticCredentials(USER, ha1={"MD5": ha1})
    for algorithm in ("MD5", "MD5-sess"):
        server = FakeServer(algorithms=(algorithm,))
        digest = DigestClient(store, SeededRandom())
        digest.handle_challenge(401, server.challenges())
        for _ in range(3):  # -sess: the session key holds across requests
            assert server.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    # An MD5 HA1 cannot answer SHA-256: that challenge is passed over for the MD5 one ...
    digest = DigestClient(store, SeededRandom())
    digest.handle_challenge(401, [challenge(algorithm="SHA-256"), challenge(algorithm="MD5")])
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).algorithm == (
        "MD5")
    # ... and alone it cannot be answered at all.
    with pytest.raises(AuthenticationFailed, match="no password or HA1"):
        DigestClient(store, SeededRandom()).handle_challenge(401, [challenge()])


def test_sess_algorithms_repeat_the_first_cnonce_per_nonce() -> None:
    server = FakeServer(algorithms=("SHA-256-sess",))
    digest = DigestClient(StaticCredentials(USER, PASSWORD), CountingRandom())
    digest.handle_challenge(401, server.challenges())
    sent = [parse_credentials(only(digest.authorization_headers("REGISTER", URI)))
            for _ in range(3)]
    assert {s.cnonce for s in sent} == {"c1"} and [s.nc for s in sent] == [
        "00000001", "00000002", "00000003"]
    digest.handle_challenge(401, server.challenges(stale=True))
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).cnonce == "c2"


def test_reset_forgets_everything() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge()])
    digest.reset()
    assert digest.realms == [] and digest.authorization_headers("REGISTER", URI) == []


def test_nc_exhaustion_drops_the_cached_answer() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge()])
    responder = next(iter(digest._responders))
    responder.nc = 0xFFFFFFFE
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).nc == (
        "ffffffff")
    assert digest.authorization_headers("REGISTER", URI) == []


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"algorithms": ()},
                                    {"algorithms": ("SHA-1",)}])
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        client(**kwargs)


def test_bad_credentials_configuration() -> None:
    with pytest.raises(ConfigError):
        Credentials(USER)
    with pytest.raises(ConfigError):
        Credentials(USER, ha1={"MD5-sess": "0" * 32})
    with pytest.raises(ConfigError):
        Credentials(USER, ha1={"SHA-256": "0" * 32})  # wrong length
    assert Credentials(USER, Secret("x")) == Credentials(USER, "x")


def test_method_and_uri_must_be_writable() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge()])
    with pytest.raises(LocalProtocolError):
        digest.authorization_headers("REG ISTER", URI)
    digest.handle_challenge(401, [challenge(nonce="n2")])
    with pytest.raises(LocalProtocolError):
        digest.authorization_headers("REGISTER", "sip:a\r\nVia: x")


def test_build_authorization_refuses_unanswerable_challenges() -> None:
    from sipfsm.auth import ChallengeError

    with pytest.raises(ChallengeError, match="not supported"):
        build_authorization(challenge(algorithm="SHA-1"), method="REGISTER", uri=URI,
                            username=USER, password=PASSWORD)
    value = build_authorization(challenge(), method="REGISTER", uri=URI, username=USER,
                                password=PASSWORD)
    assert len(parse_credentials(value).cnonce or "") == 32  # drawn from secrets
