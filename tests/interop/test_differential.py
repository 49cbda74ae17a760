"""A standing differential test: the same scripted REGISTERs sent to Kamailio and to
``sipfsm registrar`` (both real processes on 127.0.0.1, UDP), their answers compared.

Each case runs on its own address-of-record, so the cases do not disturb each other.  An answer
is reduced to what RFC 3261 §10.3 decides -- the status code, the bindings the 200 lists (contact
URI, expires, q), Min-Expires of a 423, whether a 401 is ``stale`` -- and the two must be equal,
except where :data:`ALLOWED` lists the case with the RFC's reason for sipfsm's answer.  A
difference not listed fails the test; so does a listed one that has gone away (the list stays
true).

Run it by hand to see both answers side by side::

    PYTHONPATH=. python -m tests.interop.test_differential
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sipfsm.auth import build_authorization
from sipfsm.message import Response, parse
from tests.interop.kamailio_fixture import (
    DEFAULT_REALM,
    HOST,
    KamailioProcess,
    derived_password,
    kamailio_available,
)

pytestmark = pytest.mark.interop

DOMAIN = DEFAULT_REALM
MIN_EXPIRES = 60
MAX_EXPIRES = 3600
MAX_CONTACTS = 3
TIMEOUT = 3.0

# Answers that differ on purpose: case name -> the RFC's reason for sipfsm's answer.
ALLOWED: dict[str, str] = {
    "equal-cseq": (
        "RFC 3261 §10.3 step 7: same Call-ID and a CSeq that is not higher -- 'the update MUST "
        "be aborted and the request fails'; sipfsm answers 400 (its server transaction answers a "
        "real retransmission); Kamailio answers 200 and leaves the binding"
    ),
    "star-lower-cseq": (
        "RFC 3261 §10.3 step 6: Contact: * with the binding's Call-ID and a lower CSeq -- "
        "'Otherwise, the update MUST be aborted and the request fails'; sipfsm 400; Kamailio "
        "removes every binding and answers 200"
    ),
    "star-equal-cseq": (
        "RFC 3261 §10.3 step 6: remove only 'if the CSeq in the request is higher'; an equal "
        "CSeq fails (sipfsm 400); Kamailio removes every binding and answers 200"
    ),
    "rfc2069-answer": (
        "RFC 3261 §22.4 keeps RFC 2069 answers only for backwards compatibility; "
        "sipfsm's registrar challenges with qop=auth and refuses an answer without qop "
        "(a captured one would replay "
        "with any Call-ID, CSeq and Contact: RFC 7616 §5.12); Kamailio accepts it"
    ),
    "digest-uri-mismatch": (
        "RFC 7616 §3.4.6: the server MUST check that the digest uri names the Request-URI's "
        "resource and SHOULD answer 400 when not; Kamailio does not compare them"
    ),
}


# --------------------------------------------------------------------------------------------
# A scripted UDP client
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What §10.3 decided, comparable across registrars."""

    status: int
    bindings: tuple[tuple[str, int, str | None], ...] = ()  # (contact URI, expires, q)
    min_expires: int | None = None
    stale: bool = False

    def close_to(self, other: Outcome) -> bool:
        """Equal, but for expires values one second apart (the two clocks tick apart)."""
        if (self.status, self.min_expires, self.stale) != (
            other.status, other.min_expires, other.stale
        ) or len(self.bindings) != len(other.bindings):  # fmt: skip
            return False
        return all(
            a[0] == b[0] and abs(a[1] - b[1]) <= 1 and _q(a[2]) == _q(b[2])
            for a, b in zip(self.bindings, other.bindings, strict=True)
        )

    def __str__(self) -> str:
        parts = [str(self.status)]
        parts += [f"<{uri}>;expires={exp}" + (f";q={q}" if q else "") for uri, exp, q in
                  self.bindings]  # fmt: skip
        if self.min_expires is not None:
            parts.append(f"Min-Expires {self.min_expires}")
        if self.stale:
            parts.append("stale")
        return " ".join(parts)


def _q(value: str | None) -> float | None:
    return None if value is None else float(value)


def outcome(response: Response) -> Outcome:
    bindings: list[tuple[str, int, str | None]] = []
    if response.status == 200:
        for contact in response.contacts:
            expires = contact.expires
            bindings.append((str(contact.uri), -1 if expires is None else expires,
                             contact.params.get("q")))  # fmt: skip
    min_expires = response.headers.get("Min-Expires")
    stale = any("stale=true" in v.lower().replace(" ", "").replace('"', "")
                for v in response.headers.get_lines("WWW-Authenticate"))  # fmt: skip
    return Outcome(response.status, tuple(sorted(bindings)),
                   None if min_expires is None else int(min_expires), stale)  # fmt: skip


@dataclass
class Client:
    """One AOR's scripted client: a UDP socket, a Call-ID, a CSeq, a nonce once challenged."""

    port: int
    user: str
    password: str
    sock: socket.socket
    call_id: str = field(default_factory=lambda: f"diff-{secrets.token_hex(6)}@{HOST}")
    cseq: int = 0
    nonce_challenge: str | None = None
    nc: int = 0

    @property
    def local_port(self) -> int:
        return int(self.sock.getsockname()[1])

    def contact(self, n: int = 1) -> str:
        return f"sip:{self.user}-{n}@{HOST}:{5000 + n}"

    def request(self, *, contacts: list[str] | None = None, expires: str | None = None,
                cseq: int | None = None, call_id: str | None = None, auth: str | None = "ok",
                extra: list[str] | None = None, uri: str | None = None) -> str:  # fmt: skip
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        ruri = f"sip:{DOMAIN}"
        lines = [
            f"REGISTER {ruri} SIP/2.0",
            f"Via: SIP/2.0/UDP {HOST}:{self.local_port};rport;branch=z9hG4bK{secrets.token_hex(8)}",
            "Max-Forwards: 70",
            f"From: <sip:{self.user}@{DOMAIN}>;tag={secrets.token_hex(4)}",
            f"To: <sip:{self.user}@{DOMAIN}>",
            f"Call-ID: {call_id or self.call_id}",
            f"CSeq: {cseq} REGISTER",
        ]
        lines += [f"Contact: {c}" for c in contacts or []]
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if auth == "ok":
            lines.append(f"Authorization: {self.authorization(uri or ruri)}")
        elif auth is not None:
            lines.append(f"Authorization: {auth}")
        lines += extra or []
        return "\r\n".join([*lines, "Content-Length: 0", "", ""])

    def authorization(self, uri: str, password: str | None = None) -> str:
        if self.nonce_challenge is None:
            self.challenge()
        assert self.nonce_challenge is not None
        self.nc += 1
        return build_authorization(
            self.nonce_challenge, method="REGISTER", uri=uri, username=self.user,
            password=self.password if password is None else password,
            cnonce=secrets.token_hex(8), nc=self.nc,
        )  # fmt: skip

    def challenge(self) -> Response:
        """An unauthenticated REGISTER (its own Call-ID): the 401 whose nonce later requests use."""
        response = self.send(self.request(auth=None, call_id=f"probe-{self.call_id}", cseq=1))
        assert response.status == 401, response.status
        self.nonce_challenge = response.headers.get_lines("WWW-Authenticate")[0]
        self.nc = 0
        return response

    def send(self, text: str) -> Response:
        data = text.encode()
        self.sock.sendto(data, (HOST, self.port))
        deadline = time.monotonic() + TIMEOUT
        branch = text.split("branch=", 1)[1].split("\r\n", 1)[0].encode()
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                reply = self.sock.recv(65535)
            except TimeoutError:
                break
            message = parse(reply)
            if isinstance(message, Response) and branch in reply and message.status >= 200:
                return message
        raise AssertionError(f"no final response within {TIMEOUT}s to:\n{text}")


# --------------------------------------------------------------------------------------------
# The cases: each a function of a fresh client, returning the outcome of its last request
# --------------------------------------------------------------------------------------------

Case = Callable[[Client], Outcome]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def add(function: Case) -> Case:
        CASES[name] = function
        return function

    return add


def send(client: Client, **kwargs: object) -> Outcome:
    return outcome(client.send(client.request(**kwargs)))  # type: ignore[arg-type]


@case("plain")
def _plain(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="600")


@case("refresh")
def _refresh(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600")
    return send(c, contacts=[f"<{c.contact()}>"], expires="300")


@case("7200-granted-3600")
def _long(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="7200")


@case("423-at-59")
def _brief(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="59")


@case("200-at-60")
def _minimum(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="60")


@case("423-param-59")
def _brief_param(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;expires=59"], expires="600")


@case("expires-param-beats-header")
def _param(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;expires=300"], expires="600")


@case("no-expires-default")
def _default(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"])


@case("two-contacts-one-removed")
def _two(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact(1)}>", f"<{c.contact(2)}>"], expires="600")
    return send(c, contacts=[f"<{c.contact(2)}>;expires=0"], expires="600")


@case("query")
def _query(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600")
    return send(c)


@case("query-nothing-bound")
def _query_empty(c: Client) -> Outcome:
    return send(c)


@case("star-expires-0")
def _star(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact(1)}>", f"<{c.contact(2)}>"], expires="600")
    return send(c, contacts=["*"], expires="0")


@case("star-without-expires")
def _star_no_expires(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600")
    return send(c, contacts=["*"])


@case("star-expires-300")
def _star_300(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600")
    return send(c, contacts=["*"], expires="300")


@case("star-with-contact")
def _star_more(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600")
    return send(c, contacts=["*", f"<{c.contact(2)}>"], expires="0")


@case("star-lower-cseq")
def _star_lower(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    return send(c, contacts=["*"], expires="0", cseq=10)


@case("star-equal-cseq")
def _star_equal(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    return send(c, contacts=["*"], expires="0", cseq=20)


@case("star-other-call-id")
def _star_other(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    return send(c, contacts=["*"], expires="0", cseq=1, call_id=f"other-{c.call_id}")


@case("lower-cseq")
def _lower(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    return send(c, contacts=[f"<{c.contact()}>"], expires="300", cseq=10)


@case("equal-cseq")
def _equal(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    return send(c, contacts=[f"<{c.contact()}>"], expires="300", cseq=20)


@case("lower-cseq-then-query")
def _lower_query(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    send(c, contacts=[f"<{c.contact()}>"], expires="0", cseq=10)
    return send(c, cseq=30)


@case("other-call-id-lower-cseq")
def _other_call(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600", cseq=20)
    return send(c, contacts=[f"<{c.contact()}>"], expires="300", cseq=1,
                call_id=f"other-{c.call_id}")  # fmt: skip


@case("q-0.5")
def _q_half(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;q=0.5"], expires="600")


@case("q-1")
def _q_one(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;q=1"], expires="600")


@case("q-1.5")
def _q_high(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;q=1.5"], expires="600")


@case("q-negative")
def _q_negative(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;q=-1"], expires="600")


@case("max-contacts")
def _max_contacts(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact(n)}>" for n in range(1, MAX_CONTACTS + 1)], expires="600")
    return send(c, contacts=[f"<{c.contact(MAX_CONTACTS + 1)}>"], expires="600")


@case("max-contacts-then-query")
def _max_contacts_query(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact(n)}>" for n in range(1, MAX_CONTACTS + 1)], expires="600")
    send(c, contacts=[f"<{c.contact(MAX_CONTACTS + 1)}>"], expires="600")
    return send(c)


@case("unknown-user")
def _unknown(c: Client) -> Outcome:
    c.challenge()
    return send(c, contacts=[f"<{c.contact()}>"], expires="600",
                auth=c.authorization(f"sip:{DOMAIN}", password="not-the-password"))  # fmt: skip


@case("wrong-password")
def _wrong(c: Client) -> Outcome:
    c.challenge()
    return send(c, contacts=[f"<{c.contact()}>"], expires="600",
                auth=c.authorization(f"sip:{DOMAIN}", password="wrong"))  # fmt: skip


@case("no-credentials")
def _none(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="600", auth=None)


@case("malformed-authorization")
def _malformed(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="600",
                auth='Digest username="x", realm=')  # fmt: skip


@case("authorization-other-realm")
def _other_realm(c: Client) -> Outcome:
    c.challenge()
    other = c.authorization(f"sip:{DOMAIN}").replace(f'realm="{DOMAIN}"', 'realm="elsewhere"')
    return send(c, contacts=[f"<{c.contact()}>"], expires="600", auth=other)


@case("rfc2069-answer")
def _rfc2069(c: Client) -> Outcome:
    import hashlib

    c.challenge()
    assert c.nonce_challenge is not None
    nonce = c.nonce_challenge.split('nonce="', 1)[1].split('"', 1)[0]
    uri = f"sip:{DOMAIN}"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{c.user}:{DOMAIN}:{c.password}")
    response = md5(f"{ha1}:{nonce}:{md5('REGISTER:' + uri)}")
    creds = (f'Digest username="{c.user}", realm="{DOMAIN}", nonce="{nonce}", uri="{uri}", '
             f'response="{response}", algorithm=MD5')  # fmt: skip
    return send(c, contacts=[f"<{c.contact()}>"], expires="600", auth=creds)


@case("digest-uri-mismatch")
def _uri_mismatch(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="600", uri="sip:elsewhere.example")


@case("expires-header-0-unbound")
def _expires_zero(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="0")


@case("contact-expires-negative")
def _expires_negative(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;expires=-5"], expires="600")


@case("contact-expires-abc")
def _expires_abc(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;expires=abc"], expires="600")


@case("contact-expires-1e20")
def _expires_huge(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;expires=1e20"], expires="600")


@case("contact-expires-2pow32")
def _expires_2_32(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>;expires=4294967296"], expires="600")


@case("expires-header-abc")
def _expires_header_abc(c: Client) -> Outcome:
    return send(c, contacts=[f"<{c.contact()}>"], expires="abc")


@case("unregister-one")
def _unregister(c: Client) -> Outcome:
    send(c, contacts=[f"<{c.contact()}>"], expires="600")
    return send(c, contacts=[f"<{c.contact()}>"], expires="0")


# --------------------------------------------------------------------------------------------
# The two registrars
# --------------------------------------------------------------------------------------------


USERS = [f"d{n}" for n in range(len(CASES) + 5)]


@contextlib.contextmanager
def sipfsm_registrar(tmp: Path) -> Iterator[int]:
    """``sipfsm registrar`` with Kamailio's settings; yields its UDP port."""
    users = tmp / "users.txt"
    users.write_text("".join(f"{u}:{derived_password(u)}\n" for u in USERS), encoding="utf-8")
    users.chmod(0o600)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", "--tcp-port", "off",
         "--users-file", str(users), "--realm", DEFAULT_REALM,
         "--min-expires", str(MIN_EXPIRES), "--max-expires", str(MAX_EXPIRES),
         "--default-expires", str(MAX_EXPIRES), "--max-contacts", str(MAX_CONTACTS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        if "udp:127.0.0.1:" not in banner:
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"sipfsm registrar did not start: {banner!r} {err}")
        yield int(banner.split("udp:127.0.0.1:")[1].split()[0].rstrip(","))
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=10)
        if process.poll() is None:
            process.kill()


def run_cases(port: int) -> dict[str, Outcome]:
    results: dict[str, Outcome] = {}
    users = iter(USERS)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        for name, function in CASES.items():
            user = next(users)
            client = Client(port, user, derived_password(user), sock)
            results[name] = function(client)
    return results


def both(tmp: Path) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
    with KamailioProcess(tmp / "kamailio", min_expires=MIN_EXPIRES, max_expires=MAX_EXPIRES,
                         default_expires=MAX_EXPIRES,
                         max_contacts=MAX_CONTACTS) as kam:  # fmt: skip
        kamailio = run_cases(kam.udp_port)
    with sipfsm_registrar(tmp) as port:
        ours = run_cases(port)
    return kamailio, ours


def differences(kamailio: dict[str, Outcome], ours: dict[str, Outcome]) -> dict[str, str]:
    return {
        name: f"Kamailio {kamailio[name]} / sipfsm {ours[name]}"
        for name in CASES
        if not kamailio[name].close_to(ours[name])
    }


def test_sipfsm_registrar_answers_as_kamailio_does(kamailio_ok: None, tmp_path: Path) -> None:
    (tmp_path / "kamailio").mkdir()
    kamailio, ours = both(tmp_path)
    found = differences(kamailio, ours)
    unlisted = {name: text for name, text in found.items() if name not in ALLOWED}
    assert not unlisted, "differences not in ALLOWED:\n" + "\n".join(
        f"  {name}: {text}" for name, text in unlisted.items()
    )
    gone = sorted(set(ALLOWED) - set(found))
    assert not gone, f"listed in ALLOWED but no longer different: {gone}"


def test_allowed_differences_name_cases_and_give_a_reason() -> None:
    assert set(ALLOWED) <= set(CASES)
    assert all("RFC" in reason for reason in ALLOWED.values())


if __name__ == "__main__":
    import tempfile

    if (reason := kamailio_available()) is not None:
        sys.exit(reason)
    with tempfile.TemporaryDirectory() as tmpdir:
        (Path(tmpdir) / "kamailio").mkdir()
        kam_results, our_results = both(Path(tmpdir))
    width = max(map(len, CASES))
    for name in CASES:
        mark = " " if kam_results[name].close_to(our_results[name]) else "*"
        print(f"{mark} {name:<{width}}  kamailio: {kam_results[name]}")
        print(f"  {'':<{width}}  sipfsm:   {our_results[name]}")
