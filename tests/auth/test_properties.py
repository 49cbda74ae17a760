"""Properties of DigestClient over arbitrary interleavings of requests, challenges (fresh,
stale, other algorithms) and Authentication-Info, checked by a hypothesis state machine."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sipfsm.auth import DigestClient, StaticCredentials
from sipfsm.auth.server import parse_credentials
from sipfsm.errors import AuthenticationFailed
from sipfsm.sim import SeededRandom

from .support import PASSWORD, REALM, URI, USER, FakeServer

MAX_ATTEMPTS = 3


class DigestClientMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.server = FakeServer(algorithms=("SHA-256", "MD5"))
        self.client = DigestClient(StaticCredentials(USER, PASSWORD), SeededRandom(11),
                                   max_attempts=MAX_ATTEMPTS)
        self.last_nc: dict[str, int] = {}  # nonce -> last nc sent with it
        self.cnonces: set[str] = set()
        self.challenges_in_chain = 0
        self.resubmission_due = False
        self.sent_any = False
        self.nonce_of_last: str | None = None

    @rule(body=st.binary(max_size=8))
    def send_request(self, body: bytes) -> None:
        if not self.resubmission_due:
            self.challenges_in_chain = 0
        self.resubmission_due = False
        headers = self.client.authorization_headers("REGISTER", URI, body)
        assert len(headers) <= 1
        for name, value in headers:
            assert name == "Authorization"
            sent = parse_credentials(value)
            assert sent.nonce is not None and sent.nc is not None and sent.cnonce is not None
            nc = int(sent.nc, 16)
            # RFC 7616 §3.4: nc counts up by one per request with the nonce, from 1.
            assert nc == self.last_nc.get(sent.nonce, 0) + 1
            self.last_nc[sent.nonce] = nc
            # A fresh cnonce every time (SHA-256 and MD5 here, no -sess).
            assert sent.cnonce not in self.cnonces
            self.cnonces.add(sent.cnonce)
            assert self.server.verify(value).ok
            self.nonce_of_last = sent.nonce
        self.sent_any = bool(headers)

    @rule(stale=st.booleans(), md5_first=st.booleans())
    def challenge(self, stale: bool, md5_first: bool) -> None:
        if md5_first:
            self.server.algorithms = ("MD5", "SHA-256")
        else:
            self.server.algorithms = ("SHA-256", "MD5")
        values = self.server.challenges(stale=stale)
        self.challenges_in_chain += 1
        try:
            self.client.handle_challenge(401, values)
        except AuthenticationFailed:
            # Only a rejection of credentials sent in answer to a challenge, or too many
            # attempts, may end the exchange.
            assert (self.challenges_in_chain > MAX_ATTEMPTS
                    or (not stale and self.sent_any))
            self.resubmission_due = False
            return
        assert self.challenges_in_chain <= MAX_ATTEMPTS
        self.resubmission_due = True

    @precondition(lambda self: self.nonce_of_last is not None and self.sent_any)
    @rule()
    def success_with_nextnonce(self) -> None:
        nonce = f"next{len(self.server.nonces)}"
        self.server.nonces[nonce] = set()
        info = f'nextnonce="{nonce}"'
        self.client.handle_authentication_info(info)
        assert self.last_nc.get(nonce) is None

    @invariant()
    def at_most_one_cached_answer(self) -> None:
        assert len(self.client.realms) <= 1
        assert all(realm == REALM for _, realm in self.client.realms)


TestDigestClientMachine = DigestClientMachine.TestCase
TestDigestClientMachine.settings = settings(max_examples=60, stateful_step_count=30,
                                            deadline=None)
TestDigestClientMachine = pytest.mark.requirement("RFC7616-3.4-NC-HEX8")(TestDigestClientMachine)
TestDigestClientMachine = pytest.mark.requirement("RFC7616-3.4-CNONCE")(TestDigestClientMachine)
TestDigestClientMachine = pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")(
    TestDigestClientMachine)
