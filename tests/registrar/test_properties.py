"""Properties of the embedded registrar: its bindings always equal a small model's, 423 exactly
when §10.3 step 7 allows it, the ``Contact: *`` rules, Digest outcomes, no 6xx ever."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sipfsm.registrar import RegistrarConfig, parse_scenario

from .support import (
    SOURCE,
    authorization,
    contact_expiries,
    handle,
    make_registrar,
    register,
)

MIN, MAX, DEFAULT = 60, 3600, 1800
AORS = ("sip:alice@example.com", "sip:bob@example.com")
CONTACT_URIS = tuple(f"sip:u{i}@192.0.2.{i}:50{i}0" for i in range(1, 5))
CALL_IDS = ("call-a", "call-b")
EXPIRIES = st.sampled_from([0, 1, 30, 59, 60, 61, 600, 3599, 3600, 7200])
OPTIONAL_EXPIRY = st.none() | EXPIRIES


@dataclass
class _ModelBinding:
    call_id: str
    cseq: int
    expires_at: float


class RegistrarModel(RuleBasedStateMachine):
    """A REGISTER sequence against the registrar and against a dict-based model of §10.3."""

    def __init__(self) -> None:
        super().__init__()
        self.registrar, self.clock = make_registrar(
            RegistrarConfig(min_expires=MIN, max_expires=MAX, default_expires=DEFAULT)
        )
        self.model: dict[str, dict[str, _ModelBinding]] = {}

    # -- the model ----------------------------------------------------------------------------

    def _live(self, aor: str) -> dict[str, _ModelBinding]:
        now = self.clock.now
        bindings = {u: b for u, b in self.model.get(aor, {}).items() if b.expires_at > now}
        self.model[aor] = bindings
        return bindings

    def _expected(self, aor: str) -> list[tuple[str, int]]:
        now = self.clock.now
        return [(u, math.ceil(b.expires_at - now)) for u, b in self._live(aor).items()]

    @staticmethod
    def _listed(response: object) -> list[tuple[str, int]]:
        from sipfsm.message import Response

        assert isinstance(response, Response)
        return [(str(c.uri), int(c.expires or -1)) for c in response.contacts]

    # -- rules --------------------------------------------------------------------------------

    @rule(
        aor=st.sampled_from(AORS),
        contacts=st.lists(
            st.tuples(st.sampled_from(CONTACT_URIS), OPTIONAL_EXPIRY), min_size=1, max_size=3
        ),
        header=OPTIONAL_EXPIRY,
        call_id=st.sampled_from(CALL_IDS),
        cseq=st.integers(1, 6),
    )
    def register_contacts(
        self,
        aor: str,
        contacts: list[tuple[str, int | None]],
        header: int | None,
        call_id: str,
        cseq: int,
    ) -> None:
        texts = [f"<{u}>" + ("" if e is None else f";expires={e}") for u, e in contacts]
        response = handle(
            self.registrar,
            register(aor=aor, contacts=texts, expires=header, call_id=call_id, cseq=cseq),
        )
        requested = [
            e if e is not None else header if header is not None else DEFAULT for _, e in contacts
        ]
        if any(0 < r < MIN for r in requested):
            assert response.status == 423
            assert response.min_expires == MIN
            return
        assert response.status == 200
        live = self._live(aor)
        now = self.clock.now
        for (uri, _), wanted in zip(contacts, requested, strict=True):
            granted = min(wanted, MAX)
            existing = live.get(uri)
            if existing is not None:
                if existing.call_id == call_id and cseq <= existing.cseq:
                    continue
                if granted == 0:
                    del live[uri]
                    continue
                live[uri] = _ModelBinding(call_id, cseq, now + granted)
            elif granted > 0:
                live[uri] = _ModelBinding(call_id, cseq, now + granted)
        assert self._listed(response) == self._expected(aor)

    @rule(
        aor=st.sampled_from(AORS),
        header=st.sampled_from([None, 0, 60]),
        call_id=st.sampled_from(CALL_IDS),
        cseq=st.integers(1, 6),
    )
    def register_star(self, aor: str, header: int | None, call_id: str, cseq: int) -> None:
        response = handle(
            self.registrar,
            register(aor=aor, contacts=["*"], expires=header, call_id=call_id, cseq=cseq),
        )
        if header != 0:
            assert response.status == 400
            return
        assert response.status == 200
        live = self._live(aor)
        for uri, binding in list(live.items()):
            if binding.call_id != call_id or cseq > binding.cseq:
                del live[uri]
        assert self._listed(response) == self._expected(aor)

    @rule(aor=st.sampled_from(AORS), cseq=st.integers(1, 6))
    def query(self, aor: str, cseq: int) -> None:
        response = handle(self.registrar, register(aor=aor, contacts=[], cseq=cseq))
        assert response.status == 200
        assert self._listed(response) == self._expected(aor)

    @rule(seconds=st.sampled_from([0.5, 1, 30, 59.5, 600, 1799.5, 4000]))
    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @invariant()
    def bindings_equal_the_model(self) -> None:
        for aor in AORS:
            reported = [(str(b.uri), b.expires) for b in self.registrar.bindings(aor)]
            assert reported == self._expected(aor)
        assert self.registrar.aors() == sorted(a for a in AORS if self._live(a))


RegistrarModel.TestCase.settings = settings(
    max_examples=150, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.requirement("RFC3261-10.3-STEP7-BINDING-UPDATE-EMBEDDED")
@pytest.mark.requirement("RFC3261-10.3-STEP8-RESPONSE-EMBEDDED")
@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
@pytest.mark.requirement("RFC3261-10.3-STEP7-COMMIT-EMBEDDED")
@pytest.mark.requirement("RFC3261-10.3-STEP7-EXPIRATION-EMBEDDED")
class TestRegistrarModel(RegistrarModel.TestCase):  # type: ignore[name-defined,misc]
    """Runs the state machine (hypothesis shrinks any divergence to a short trace)."""


@pytest.mark.requirement("RFC3261-10.3-STEP7-423-MIN-EXPIRES-EMBEDDED")
@settings(max_examples=200, deadline=None)
@given(
    min_expires=st.integers(0, 3600),
    requested=st.integers(0, 2**32 - 1),
    as_param=st.booleans(),
)
def test_423_iff_nonzero_and_below_min_expires(
    min_expires: int, requested: int, as_param: bool
) -> None:
    registrar, _ = make_registrar(
        RegistrarConfig(min_expires=min_expires, max_expires=max(min_expires, 3600))
    )
    if as_param:
        request = register(contacts=[f"<sip:a@192.0.2.1>;expires={requested}"])
    else:
        request = register(expires=requested)
    response = handle(registrar, request)
    if 0 < requested < min_expires:
        assert response.status == 423
        assert response.min_expires == min_expires
    else:
        assert response.status == 200
        granted = contact_expiries(response)
        if requested == 0:
            assert granted == {}
        else:
            assert list(granted.values()) == [min(requested, max(min_expires, 3600))]


@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
@settings(max_examples=100, deadline=None)
@given(
    header=st.none() | st.integers(0, 100),
    others=st.integers(0, 2),
    same_row=st.booleans(),
)
def test_star_accepted_only_alone_with_expires_zero(
    header: int | None, others: int, same_row: bool
) -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(expires=600, call_id="earlier"))
    extra = [f"<sip:x{i}@192.0.2.1>" for i in range(others)]
    contacts = [", ".join(["*", *extra])] if same_row else ["*", *extra]
    response = handle(registrar, register(contacts=contacts, expires=header))
    if header == 0 and others == 0:
        assert response.status == 200 and response.contacts == []
    else:
        assert response.status == 400
        assert len(registrar.bindings("sip:alice@example.com")) == 1


PASSWORDS = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters='"\\'),
    min_size=1, max_size=16,
)


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
@settings(max_examples=100, deadline=None)
@given(
    password=PASSWORDS,
    attempt=PASSWORDS,
    algorithm=st.sampled_from(["MD5", "SHA-256"]),
    reject_status=st.sampled_from([401, 403]),
)
def test_digest_right_password_200_wrong_401_or_403(
    password: str, attempt: str, algorithm: str, reject_status: int
) -> None:
    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": password}, algorithms=(algorithm,),
                        reject_status=reject_status)
    )
    challenge = handle(registrar, register()).www_authenticate[0]
    creds = authorization(challenge, password=attempt)
    response = handle(registrar, register(cseq=2, extra=[("Authorization", creds)]))
    if attempt == password:
        assert response.status == 200
        assert len(registrar.bindings("sip:alice@example.com")) == 1
    else:
        assert response.status == reject_status
        assert registrar.bindings("sip:alice@example.com") == []


@pytest.mark.requirement("RFC7616-3.3-STALE-NONCE-EMBEDDED")
@settings(max_examples=60, deadline=None)
@given(lifetime=st.integers(1, 600), wait=st.floats(0, 1200, allow_nan=False))
def test_stale_exactly_when_the_nonce_outlived_its_lifetime(lifetime: int, wait: float) -> None:
    registrar, clock = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, nonce_lifetime=lifetime)
    )
    challenge = handle(registrar, register()).www_authenticate[0]
    clock.advance(wait)
    response = handle(
        registrar, register(cseq=2, extra=[("Authorization", authorization(challenge))])
    )
    if wait > lifetime:
        assert response.status == 401 and "stale=true" in response.www_authenticate[0]
    else:
        assert response.status == 200


SCENARIOS = st.sampled_from([
    "none", "drop:0.5", "drop-every:2", "retry-after:2:5", "server-error:1:599",
    "server-error:0:503", "stale-nonce:2", "omit-contact", "423-loop:30",
    "redirect:1:sip:192.0.2.99:5070", "retry-after:1:1,stale-nonce,omit-contact:1",
])  # fmt: skip


@pytest.mark.requirement("RFC3261-10.3-NO-6XX-EMBEDDED")
@settings(max_examples=60, deadline=None)
@given(
    scenario=SCENARIOS,
    steps=st.lists(
        st.tuples(
            st.sampled_from(["register", "star", "query", "bad", "auth", "options"]),
            st.sampled_from([None, 0, 1, 60, 3600, 99999]),
        ),
        min_size=1, max_size=12,
    ),
)
def test_never_a_6xx_and_never_more_than_one_response(
    scenario: str, steps: list[tuple[str, int | None]]
) -> None:
    config = RegistrarConfig(users={"alice": "secret"}, scenario=scenario, min_expires=30)
    registrar, clock = make_registrar(config)
    challenge = 'Digest realm="example.com", nonce="x", algorithm=MD5, qop="auth"'
    for cseq, (kind, expires) in enumerate(steps, start=1):
        extra = [("Authorization", authorization(challenge, nc=cseq))]
        if kind == "register":
            request = register(expires=expires, cseq=cseq, extra=extra)
        elif kind == "star":
            request = register(contacts=["*"], expires=expires, cseq=cseq, extra=extra)
        elif kind == "query":
            request = register(contacts=[], cseq=cseq, extra=extra)
        elif kind == "bad":
            request = register(expires="never", cseq=cseq)
        elif kind == "options":
            request = register(method="OPTIONS", cseq=cseq)
        else:
            request = register(expires=expires, cseq=cseq)
        responses = registrar.handle(request, SOURCE, "UDP")
        assert len(responses) <= 1
        for response in responses:
            assert 100 <= response.status < 600
            if response.status == 401:
                challenge = response.www_authenticate[0]
        clock.advance(1)


def test_registrar_is_deterministic_for_a_seed() -> None:
    def run() -> list[bytes]:
        registrar, _ = make_registrar(
            RegistrarConfig(users={"alice": "secret"}, scenario=parse_scenario("drop:0.5")), seed=7
        )
        out: list[bytes] = []
        for cseq in range(1, 10):
            request = register(cseq=cseq, branch=f"z9hG4bK{cseq}")
            out.extend(r.to_bytes() for r in registrar.handle(request, SOURCE, "UDP"))
        return out

    assert run() == run()
