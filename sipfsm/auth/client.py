"""``DigestClient``: the stateful Digest side of one registration (RFC 3261 §22, RFC 7616,
RFC 8760).

API (what :class:`sipfsm.registration.RegistrationClient` calls)::

    client = DigestClient(credentials: CredentialStore, random: Random, *,
                          max_attempts: int = 3, algorithms: Iterable[str] = SUPPORTED_ALGORITHMS)

    client.handle_challenge(status: int, challenges: list[str]) -> None
        A 401 (values of WWW-Authenticate) or 407 (values of Proxy-Authenticate).  Remembers,
        per realm, the challenge to answer; raises AuthenticationFailed when the request must
        not be resubmitted (see "Failures").  Call it, then resubmit (CSeq + 1, same Call-ID:
        RFC 3261 §22.2, the caller's job).
    client.authorization_headers(method: str, uri: str, body: bytes = b"")
            -> list[tuple[str, str]]
        The ("Authorization" | "Proxy-Authorization", value) pairs for the next request, one
        per cached realm, each with the next nonce-count and a fresh cnonce.  [] before any
        challenge.  Call it for *every* request (the first, resubmissions, refreshes): cached
        credentials go out pre-emptively (RFC 3261 §22.2/§22.3 caching).  ``uri`` is the
        Request-URI, as sent.
    client.handle_authentication_info(value: str, *, body: bytes = b"") -> None
        The Authentication-Info of a 2xx: checks rspauth (mutual authentication; mismatch ->
        AuthenticationFailed) and adopts nextnonce (nc restarts at 1).  ``body`` is the 2xx's
        body (only used with qop=auth-int).
    client.reset() -> None
        Forget every cached challenge and counter.
    client.realms -> list[tuple[str, str]]    (header name, realm) of the cached credentials.

How a challenge is chosen (RFC 8760 §2.4, RFC 7616 §3.7): challenges that cannot be answered are
ignored (another scheme, no realm/nonce, an algorithm not in ``algorithms``, no known qop, -sess
without qop, a charset other than UTF-8, no credentials able to compute that algorithm's HA1);
of the rest, per realm, the *topmost* -- the server lists them in its order of preference
(RFC 8760 §2.3).  ``algorithms`` is the local policy the RFC allows: leave MD5 out to refuse a
downgrade.  qop: ``auth`` when offered, else ``auth-int`` (body hashed; an empty body hashes the
empty string); no qop offered -> the RFC 2069 form (no cnonce, no nc).  Every request with qop
gets a fresh cnonce from the Random port, except that a ``-sess`` algorithm repeats the first
cnonce sent with each nonce (RFC 7616 §3.4.2's cnonce-prime), so servers that keep the session
key and servers that recompute it per request agree.

Failures (AuthenticationFailed, spec_id naming the record):
  * no challenge in the response can be answered (all unknown algorithms, other schemes ...);
  * no credentials for any challenged realm (the message names the realm: §22.1 "render");
  * a new non-stale challenge for a realm whose credentials were sent *in answer to a challenge*
    in the previous request (RFC 3261 §22.1: "A UAC MUST NOT re-attempt requests with the
    credentials that have just been rejected"), or that echoes the very nonce just used; the
    rejected answer is also dropped from the cache, so no later request carries it unasked.
    Credentials sent pre-emptively (a refresh with a cached nonce) that meet a fresh non-stale
    challenge get one answer: the server may have retired the nonce without saying stale;
  * more than ``max_attempts`` challenges since the last request that was not a resubmission;
  * an rspauth that does not match.
``stale=true`` always earns a retry with the new nonce (RFC 7616 §3.3), within ``max_attempts``.

Nothing here reads a clock, touches I/O or ``random``; cnonces come from the ``Random`` port.
Passwords and HA1 values are held as :class:`~sipfsm.auth.credentials.Secret` and never appear in a
``repr``, a message or an exception.
"""

from __future__ import annotations

import hmac
import sys
import unicodedata
from collections.abc import Iterable

from sipfsm.auth.challenge import Challenge, _scan_simple, parse_challenges
from sipfsm.auth.credentials import Credentials, CredentialStore, Secret
from sipfsm.auth.digest import (
    SUPPORTED_ALGORITHMS,
    Algorithm,
    ha1_from_password,
    ha2,
    lookup_algorithm,
    request_digest,
    session_ha1,
    userhash,
)
from sipfsm.auth.errors import ChallengeError
from sipfsm.auth.params import is_token, parse_auth_params, quote
from sipfsm.errors import AuthenticationFailed, ConfigError, LocalProtocolError
from sipfsm.ports import Random

__all__ = ["CNONCE_BITS", "HEADER_FOR_STATUS", "DigestClient", "Responder", "encode_ext_value"]

#: Header that answers each challenge status (RFC 3261 §22.2 / §22.3).
HEADER_FOR_STATUS = {401: "Authorization", 407: "Proxy-Authorization"}
#: Entropy of each cnonce drawn from the Random port.
CNONCE_BITS = 96
_MAX_NC = 0xFFFFFFFF
_AUTH_ONLY = ("auth",)
# RFC 8187 §3.2.1 attr-char minus "#", "$", "&", "^" and "|", which are not SIP token
# characters (RFC 3261 §25.1): everything else is percent-encoded, so the ext-value stays a token.
_ATTR_CHAR = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!+-._`~")


def encode_ext_value(text: str) -> str:
    """RFC 8187 ext-value ``UTF-8''...`` (RFC 7616 §3.4 ``username*``)."""
    return "UTF-8''" + "".join(
        chr(b) if b in _ATTR_CHAR else f"%{b:02X}" for b in text.encode("utf-8")
    )


def _quotes_plain(text: str) -> bool:
    return text.isprintable() and '"' not in text and "\\" not in text


def _needs_ext_value(text: str) -> bool:
    # Anything outside printable ASCII (0x20-0x7e) goes as username* (RFC 7616 §3.4).
    return not (text.isascii() and text.isprintable())


# H(A2) (None for auth-int, which hashes each body) and the quoted Request-URI, per (algorithm,
# method, Request-URI, qop): the same for every registration with one registrar, so made once
# and shared rather than kept by each client (issue 14: memory per live registration).
_PREPARED: dict[tuple[str, str, str, str | None], tuple[str | None, str]] = {}
_PREPARED_ENTRIES = 1024


def _prepared(
    algorithm: Algorithm, method: str, uri: str, qop: str | None
) -> tuple[str | None, str]:
    key = (algorithm.name, method, uri, qop)
    found = _PREPARED.get(key)
    if found is None:
        if not is_token(method):
            raise LocalProtocolError(f"method {method!r} is not a token")
        found = (None if qop == "auth-int" else ha2(algorithm, method, uri, qop), quote(uri))
        if len(_PREPARED) >= _PREPARED_ENTRIES:
            _PREPARED.clear()
        _PREPARED[key] = found
    return found


# The end of an Authorization value, per (algorithm, opaque, userhash) as challenged: the same
# few bytes for every client of a registrar, made once and shared.
_TAILS: dict[tuple[str | None, str | None, bool], str] = {}


def _tail(algorithm: str | None, opaque: str | None, userhash: bool) -> str:
    key = (algorithm, opaque, userhash)
    found = _TAILS.get(key)
    if found is None:
        parts = []
        if algorithm is not None:
            # Echo the algorithm as the server wrote it; absent stays absent (= MD5).
            parts.append(f", algorithm={algorithm}")
        if opaque is not None:
            parts.append(f", opaque={quote(opaque)}")  # RFC 7616 §3.3: unchanged
        if userhash:
            parts.append(", userhash=true")
        if len(_TAILS) >= _PREPARED_ENTRIES:
            _TAILS.clear()
        found = _TAILS[key] = sys.intern("".join(parts))
    return found


class Responder:
    """Answers one challenge for one user: holds the HA1 (as a Secret), the nonce and the
    nonce-count, and formats ``Authorization`` values.  :class:`DigestClient` keeps one per
    (header, realm); :func:`sipfsm.auth.build_authorization` makes one for a single answer.

    Only what the next request and the check of its answer need is kept (this lives as long as
    the registration, and there may be 100,000 in one process): not the challenge, not the
    formatted value; strings every client of one registrar has in common (realm, the value's
    tail, H(A2)) are shared.  What the last answer carried (cnonce, Request-URI, whether it was
    a resubmission) stays for ``rspauth`` and the RFC 3261 §22.1 loop guard; its nonce,
    nonce-count and key are the responder's own until the next answer or :meth:`renew`.
    """

    __slots__ = (
        "_ha1", "_ha1_from", "_nfc", "_plain", "_sent_cnonce", "_sent_resubmission", "_sent_uri",
        "_session_cnonce", "_session_key", "_tail", "_userhash", "_username", "algorithm",
        "header", "nc", "nonce", "qop", "realm",
    )
    nc: int  # requests sent with the current nonce (RFC 7616 §3.4)

    def __init__(self, header: str, challenge: Challenge, credentials: Credentials) -> None:
        algorithm, reason = challenge.assess()
        if algorithm is None:
            raise ChallengeError(f"cannot answer this challenge: {reason}", where="challenge")
        if not credentials.can_answer(algorithm.base):
            raise ChallengeError(
                f"no password or {algorithm.base} HA1 to answer algorithm {algorithm.name}",
                where="challenge",
            )
        self._setup(header, challenge, algorithm, credentials, None)

    @classmethod
    def _checked(
        cls, header: str, challenge: Challenge, algorithm: Algorithm, credentials: Credentials,
        previous: Responder | None,
    ) -> Responder:
        """For a challenge already assessed (``algorithm`` from ``challenge.assess()``) that
        ``credentials`` can answer; ``previous`` (the same realm's last responder) lends its
        HA1 when it was computed from the same password, username and algorithm."""
        self = cls.__new__(cls)
        self._setup(header, challenge, algorithm, credentials, previous)
        return self

    def _setup(
        self, header: str, challenge: Challenge, algorithm: Algorithm, credentials: Credentials,
        previous: Responder | None,
    ) -> None:
        assert challenge.realm is not None  # assessed
        realm = sys.intern(challenge.realm)  # one string for every client of that realm
        self.header = header
        self.algorithm: Algorithm = algorithm
        self.realm: str = realm
        qop = challenge.qop
        self.qop = "auth" if qop == _AUTH_ONLY else challenge.choose_qop()  # (the usual offer)
        username = credentials.username
        nfc = challenge.charset is not None  # RFC 7616 §4: charset=UTF-8 asks for NFC
        if nfc:
            username = unicodedata.normalize("NFC", username)
        self._username = username
        self._nfc = nfc
        stored = credentials.ha1_for(algorithm.base)
        if stored is not None:
            self._ha1 = stored
            self._ha1_from: Secret | None = None
        else:
            password = credentials.password
            assert password is not None
            self._ha1_from = password
            if (previous is not None and previous._ha1_from is password
                    and previous._username == username and previous._nfc == nfc
                    and previous.realm == realm and previous.algorithm.base == algorithm.base):
                # H(username ":" realm ":" password) once per (realm, username, algorithm) for
                # as long as the same password answers: the previous answer's HA1, still a
                # Secret, is reused by reference (never copied out of it).
                self._ha1 = previous._ha1
            else:
                text = password.reveal()
                if nfc:
                    text = unicodedata.normalize("NFC", text)
                self._ha1 = Secret(ha1_from_password(algorithm, username, realm, text))
        self._userhash = challenge.userhash
        self._tail = _tail(challenge.algorithm, challenge.opaque, challenge.userhash)
        self._sent_cnonce = ""
        self._sent_uri = ""
        self._sent_resubmission = False
        self.renew(challenge.nonce or "")
        if (previous is not None and previous.nonce == self.nonce and previous.realm == realm
                and previous.algorithm is algorithm):
            # RFC 7616 §3.4: nc counts the requests sent "with the nonce value", so a challenge
            # that hands the same nonce again (a stale=true re-issue) continues its count: a
            # server tracking nc would take a restart at 1 for a replay.
            self.nc = previous.nc

    def _user_part(self) -> str:
        """The value's start, up to the nonce (made for each answer: one string less kept per
        registration)."""
        username = self._username
        # RFC 7616 §3.4.4: the username hash comes after every other hash computation.
        if self._userhash:
            user_param = f'username="{userhash(self.algorithm, username, self.realm)}"'
        elif _needs_ext_value(username):
            user_param = f"username*={encode_ext_value(username)}"  # RFC 7616 §3.4
        else:
            user_param = f"username={quote(username)}"
        return f"Digest {user_param}, realm={quote(self.realm)}, nonce="

    def renew(self, nonce: str) -> None:
        """Start over with ``nonce`` (a new challenge or a nextnonce): nc restarts."""
        self.nonce = nonce
        # The usual case, checked once per nonce: username, realm and nonce go in quotes as
        # they are (no username* or userhash, nothing to escape).
        self._plain = (not self._userhash and not _needs_ext_value(self._username)
                       and _quotes_plain(self._username) and _quotes_plain(self.realm)
                       and _quotes_plain(nonce))
        self.nc = 0
        self._session_key: Secret | None = None
        self._session_cnonce: str | None = None

    @property
    def session_cnonce(self) -> str | None:
        """For a ``-sess`` algorithm, the cnonce every request with the current nonce repeats
        (the cnonce-prime of RFC 7616 §3.4.2), once the first has been sent."""
        return self._session_cnonce

    @property
    def exhausted(self) -> bool:
        return self.nc >= _MAX_NC

    def answer(
        self, method: str, uri: str, body: bytes, *, nc: int, cnonce: str | None,
        resubmission: bool = False,
    ) -> str:
        """The header value for request ``method uri`` with nonce-count ``nc`` (which becomes
        the responder's); what it carried is remembered for :meth:`expected_rspauth`."""
        algorithm = self.algorithm
        qop = self.qop
        ha2_hex, quoted_uri = _prepared(algorithm, method, uri, qop)
        if ha2_hex is None:
            ha2_hex = ha2(algorithm, method, uri, qop, body)
        if self._plain:
            start = (f'Digest username="{self._username}", realm="{self.realm}", '
                     f'nonce="{self.nonce}", uri={quoted_uri}, response="')
        else:
            start = f'{self._user_part()}{quote(self.nonce)}, uri={quoted_uri}, response="'
        if qop is None:
            digest = request_digest(algorithm, self._ha1.reveal(), self.nonce, ha2_hex)
            self._sent_cnonce, self._sent_uri, self._sent_resubmission = "", uri, resubmission
            return f'{start}{digest}"{self._tail}'
        if not 0 < nc <= _MAX_NC:
            raise ValueError(f"nonce-count {nc} out of range 1..ffffffff")
        nc_text = f"{nc:08x}"  # RFC 7616 §3.4: 8LHEX
        if not cnonce:
            raise LocalProtocolError("a cnonce is needed with qop")
        if algorithm.sess:
            if self._session_key is None:
                # RFC 7616 §3.4.2: A1 takes the nonce and the cnonce of the first request with
                # it.  That cnonce is then repeated with this nonce, so the key is the same
                # whether a server keeps it or recomputes it from each request.
                self._session_key = Secret(
                    session_ha1(algorithm, self._ha1.reveal(), self.nonce, cnonce))
                self._session_cnonce = cnonce
            else:
                cnonce = self._session_cnonce or cnonce
            key = self._session_key
        else:
            key = self._ha1
        digest = algorithm.hash(
            f"{key.reveal()}:{self.nonce}:{nc_text}:{cnonce}:{qop}:{ha2_hex}".encode())
        self.nc = nc
        self._sent_cnonce, self._sent_uri, self._sent_resubmission = cnonce, uri, resubmission
        return f'{start}{digest}"{self._tail}, qop={qop}, nc={nc_text}, cnonce="{cnonce}"'

    @property
    def sent_cnonce(self) -> str:
        """The cnonce of the last answer ("" without qop)."""
        return self._sent_cnonce

    def expected_rspauth(self, qop: str | None, body: bytes) -> str:
        """RFC 7616 §3.5: rspauth for the last answer, as its response with an empty method in
        A2 (the nonce, nonce-count and key are still those of that answer)."""
        key = self._session_key if self.algorithm.sess and self.qop is not None else self._ha1
        assert key is not None  # set by the answer
        nc = self.nc if self.qop is not None else 0
        return request_digest(
            self.algorithm, key.reveal(), self.nonce,
            ha2(self.algorithm, "", self._sent_uri, qop, body), qop=qop,
            nc=f"{nc:08x}" if nc else "", cnonce=self._sent_cnonce,
        )

    def __repr__(self) -> str:
        return (f"Responder({self.header}, realm={self.realm!r}, algorithm={self.algorithm.name},"
                f" qop={self.qop}, nc={self.nc})")

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("digest state is not pickled (it holds a secret)")


# One frozenset per distinct policy, shared by every client (a client per registration).
_POLICIES: dict[frozenset[str], frozenset[str]] = {}
_DEFAULT_POLICY = frozenset(SUPPORTED_ALGORITHMS)


def _policy(algorithms: Iterable[str]) -> frozenset[str]:
    if algorithms is SUPPORTED_ALGORITHMS:
        return _DEFAULT_POLICY
    enabled: set[str] = set()
    for name in algorithms:
        spec = lookup_algorithm(name)
        if spec is None:
            raise ConfigError(f"unknown digest algorithm {name!r} "
                              f"(known: {', '.join(SUPPORTED_ALGORITHMS)})")
        enabled.add(spec.name)
    if not enabled:
        raise ConfigError("enable at least one digest algorithm")
    policy = frozenset(enabled)
    if len(_POLICIES) < 64:  # at most 63 non-empty subsets of six names
        policy = _POLICIES.setdefault(policy, policy)
    return policy


class DigestClient:
    """See the module docstring."""

    __slots__ = ("_attempts", "_credentials", "_held", "_last", "_random",
                 "_resubmission_pending", "algorithms", "max_attempts")

    def __init__(
        self,
        credentials: CredentialStore,
        random: Random,
        *,
        max_attempts: int = 3,
        algorithms: Iterable[str] = SUPPORTED_ALGORITHMS,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        self.algorithms = _policy(algorithms)
        self._credentials = credentials
        self._random = random
        self.max_attempts = max_attempts
        self._held: Responder | tuple[Responder, ...] = ()
        # (What each answer carried is kept in its Responder.)
        self._last: Responder | tuple[Responder, ...] = ()
        self._attempts = 0
        self._resubmission_pending = False

    # One Responder per (header, realm), in the order they were (re)made, and those whose
    # answers the last request carried.  Held as the Responder itself when there is one (in
    # nearly every registration, which lives as long): no tuple kept around it.

    @property
    def _responders(self) -> tuple[Responder, ...]:
        held = self._held
        return held if isinstance(held, tuple) else (held,)

    @_responders.setter
    def _responders(self, value: tuple[Responder, ...]) -> None:
        self._held = value[0] if len(value) == 1 else value

    @property
    def _sent(self) -> tuple[Responder, ...]:
        last = self._last
        return last if isinstance(last, tuple) else (last,)

    @_sent.setter
    def _sent(self, value: tuple[Responder, ...]) -> None:
        self._last = value[0] if len(value) == 1 else value

    # ---- challenges -------------------------------------------------------------------------

    def handle_challenge(self, status: int, challenges: list[str]) -> None:
        header = HEADER_FOR_STATUS.get(status)
        if header is None:
            raise LocalProtocolError(f"a {status} is not a Digest challenge (401 or 407 only)")
        looked_up: dict[str, Credentials | None] = {}
        if (len(challenges) == 1 and not self._held and not self._last
                and self._attempts < self.max_attempts and isinstance(challenges[0], str)):
            # The usual first challenge: one value of the common shape, nothing cached or sent
            # before, within the attempts.  What the general path below does with it, without
            # its lists and tables (tests/auth/test_fast_paths.py checks the two agree).
            challenge = _scan_simple(challenges[0])
            if challenge is not None:
                spec = challenge.assess()[0]
                if spec is not None and spec.name in self.algorithms:
                    realm = challenge.realm
                    assert realm is not None  # assessed
                    credentials = looked_up[realm] = self._credentials.lookup(realm)
                    if credentials is not None and credentials.can_answer(spec.base):
                        self._attempts += 1
                        self._held = Responder._checked(header, challenge, spec, credentials,
                                                        None)
                        self._resubmission_pending = True
                        return
        self._handle_challenge(status, header, challenges, looked_up)

    def _handle_challenge(self, status: int, header: str, challenges: list[str],
                          looked_up: dict[str, Credentials | None]) -> None:
        """The general path (``looked_up``: the realms whose credentials were already looked
        up, each looked up once)."""
        self._resubmission_pending = False
        parsed: list[Challenge] = []
        problems: list[str] = []
        for value in challenges:
            try:
                parsed.extend(parse_challenges(value))
            except ChallengeError as exc:
                problems.append(f"malformed challenge ({exc})")
        self._attempts += 1
        if self._attempts > self.max_attempts:
            raise AuthenticationFailed(
                f"{status}: still challenged after {self.max_attempts} attempts; giving up",
                spec_id="RFC3261-22.1-NO-RESEND-REJECTED",
            )
        by_realm: dict[str, list[tuple[Challenge, Algorithm]]] = {}
        for challenge in parsed:
            spec, reason = challenge.assess()
            if spec is not None and spec.name not in self.algorithms:
                spec, reason = None, f"algorithm {challenge.algorithm} is disabled by local policy"
            if spec is None:
                problems.append(reason or "")
                continue
            by_realm.setdefault(challenge.realm, []).append((challenge, spec))  # type: ignore[arg-type]
        if not by_realm:
            detail = "; ".join(dict.fromkeys(problems)) or "no challenge given"
            raise AuthenticationFailed(
                f"{status}: no Digest challenge sipfsm can answer ({detail})",
                spec_id="RFC8760-2.4-IGNORE-UNKNOWN",
            )
        chosen: list[tuple[str, Challenge, Algorithm, Credentials]] = []
        missing: list[str] = []
        for realm, options in by_realm.items():
            credentials = (looked_up[realm] if realm in looked_up
                           else self._credentials.lookup(realm))
            if credentials is None:
                missing.append(f"no credentials for realm {realm!r}")
                continue
            # RFC 8760 §2.4: the topmost challenge (for this realm) that can be answered.
            pick = None
            for option in options:
                if credentials.can_answer(option[1].base):
                    pick = option
                    break
            if pick is None:
                missing.append(f"no password or HA1 for the algorithms realm {realm!r} offers")
                continue
            challenge, spec = pick
            sent = self._sent_for(header, realm)
            if sent is not None and not challenge.stale and (
                    sent._sent_resubmission or sent.nonce == challenge.nonce):
                # Forget them too, so no later request carries them pre-emptively.
                self._responders = tuple(r for r in self._responders
                                         if r.header != header or r.realm != realm)
                raise AuthenticationFailed(
                    f"{status}: the credentials for realm {realm!r} were rejected (challenged "
                    "again without stale=true); not resending them",
                    spec_id="RFC3261-22.1-NO-RESEND-REJECTED",
                )
            chosen.append((realm, challenge, spec, credentials))
        if not chosen:
            raise AuthenticationFailed(f"{status}: {'; '.join(missing)}",
                                       spec_id="RFC3261-22.1-RENDER-REALM")
        responders = self._responders
        for realm, challenge, spec, credentials in chosen:
            previous = None
            for responder in responders:
                if responder.realm == realm:
                    previous = responder  # the latest one for this realm, whatever the header
            responder = Responder._checked(header, challenge, spec, credentials, previous)
            if previous is None:
                responders = (*responders, responder)
            else:  # a renewed entry moves to the end
                responders = (*(r for r in responders if r.header != header or r.realm != realm),
                              responder)
        self._responders = responders
        self._resubmission_pending = True

    def _sent_for(self, header: str, realm: str) -> Responder | None:
        for sent in self._sent:
            if sent.realm == realm and sent.header == header:
                return sent
        return None

    # ---- requests -----------------------------------------------------------------------------

    def authorization_headers(
        self, method: str, uri: str, body: bytes = b""
    ) -> list[tuple[str, str]]:
        resubmission = self._resubmission_pending
        self._resubmission_pending = False
        if not resubmission:
            self._attempts = 0
        held = self._held
        if not held:
            self._last = ()
            return []
        responders = held if isinstance(held, tuple) else (held,)
        headers: list[tuple[str, str]] = []
        exhausted: list[Responder] = []
        for responder in responders:
            if responder.nc >= _MAX_NC:
                # nc would overflow 8 hex digits: let the server challenge afresh.
                exhausted.append(responder)
                continue
            responder.nc += 1
            cnonce = None
            if responder.qop is not None:
                cnonce = responder.session_cnonce or self._random.token(CNONCE_BITS)
            value = responder.answer(method, uri, body, nc=responder.nc, cnonce=cnonce,
                                     resubmission=resubmission)
            headers.append((responder.header, value))
        if exhausted:
            self._responders = tuple(r for r in responders if r not in exhausted)
            held = self._held
        self._last = held
        return headers

    # ---- Authentication-Info ------------------------------------------------------------------

    def handle_authentication_info(self, value: str, *, body: bytes = b"") -> None:
        try:
            params = parse_auth_params(value, error=ChallengeError, where="Authentication-Info")
        except ChallengeError as exc:
            raise AuthenticationFailed(f"malformed Authentication-Info ({exc})",
                                       spec_id="RFC7616-3.5-RSPAUTH") from None
        candidates = [r for r in self._sent if r.header == "Authorization"]
        if not candidates:
            return  # no credentials of ours went out in that request: nothing to check
        cnonce = params.get("cnonce")
        if cnonce is not None:
            candidates = [r for r in candidates if r.sent_cnonce == cnonce.value]
            if not candidates:
                raise AuthenticationFailed(
                    "Authentication-Info names a cnonce this client did not send",
                    spec_id="RFC7616-3.5-RSPAUTH")
        rspauth = params.get("rspauth")
        if rspauth is not None:
            qop_param = params.get("qop")
            matched = []
            for sent in candidates:
                qop = qop_param.value.lower() if qop_param is not None else sent.qop
                expected = sent.expected_rspauth(qop, body)
                if hmac.compare_digest(expected, rspauth.value.lower()):
                    matched.append(sent)
            if not matched:
                raise AuthenticationFailed(
                    "rspauth in Authentication-Info does not match: the server did not prove "
                    "it knows the credentials", spec_id="RFC7616-3.5-RSPAUTH")
            candidates = matched
        nextnonce = params.get("nextnonce")
        if nextnonce is not None and len(candidates) == 1:
            responder = candidates[0]
            if any(r is responder for r in self._responders):
                responder.renew(nextnonce.value)  # RFC 7616 §3.5: use it next; nc restarts

    # ---- housekeeping -------------------------------------------------------------------------

    def reset(self) -> None:
        self._responders = ()
        self._sent = ()
        self._attempts = 0
        self._resubmission_pending = False

    @property
    def realms(self) -> list[tuple[str, str]]:
        return [(r.header, r.realm) for r in self._responders]

    def __repr__(self) -> str:
        cached = ", ".join(f"{r.header}:{r.realm!r}" for r in self._responders) or "none"
        return f"DigestClient(cached={cached}, attempts={self._attempts}/{self.max_attempts})"

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a DigestClient is not pickled (it holds secrets)")
