"""Shared pieces for the ports of published registration-client suites (tests/published/).

Each registrar answer here is written from the published suite's description of what its test
registrar does (the suite file and test are cited in each test's docstring); the expected
values in the tests come from RFC 3261 / RFC 3581 / RFC 7616 and from those suites, never from
sipfsm's code."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sipfsm.auth.credentials import Credentials
from sipfsm.message import Request, Response
from sipfsm.testing import Answer, SimWorld, reply

# The address the client has on the simulated network (sipfsm.testing.CLIENT), written out.
CLIENT_CONTACT = "sip:alice@192.0.2.10:5060"


def echo_contacts(*, param: int | None = None, header: int | None = None,
                  extra: Iterable[str] = (), code: int = 200, reason: str | None = None,
                  host: str | None = None, include_ours: bool = True) -> Answer:
    """A 2xx (``code``) built the way the suites' test registrars build theirs: the request's
    own Contacts (``include_ours``; none when the request removes them, ``Expires: 0``, as
    regc_test.c's registrar skips them), their host:port replaced by ``host`` when given (PJSIP's
    "registrar modifies Contact header"), each with ``;expires=param`` when ``param`` is given;
    then ``extra`` Contact values (other UAs' bindings); then ``Expires: header`` if given."""
    other = tuple(extra)

    def answer(request: Request) -> Sequence[Response]:
        rows: list[tuple[str, str]] = []
        if include_ours and request.expires != 0:  # a removal leaves nothing of ours listed
            for contact in request.contacts:
                uri = contact.uri
                text = str(uri)
                if host is not None:
                    text = text.replace(f"{uri.host}:{uri.port}", host)  # type: ignore[union-attr]
                rows.append(("Contact", f"<{text}>" + (f";expires={param}" if param else "")))
        rows.extend(("Contact", value) for value in other)
        if header is not None:
            rows.append(("Expires", str(header)))
        return [reply(request, code, reason, headers=rows)]

    return answer


def natted(then: Answer, received: str, rport: int) -> Answer:
    """``then``'s responses with the top Via rewritten as a registrar behind which the client
    sits behind a NAT writes it (RFC 3581 §4): ``received=`` the public IP, ``rport=`` the
    public port (sofia-sip check_register.c natted_via())."""

    def answer(request: Request) -> Sequence[Response]:
        out = []
        for response in then(request):
            vias = response.headers.get_all("Via")
            top = vias[0].replace(";rport", "") + f";received={received};rport={rport}"
            headers = response.headers.without("Via").with_prepended("Via", top)
            for other in vias[1:]:
                headers = headers.with_added("Via", other)
            out.append(response.with_headers(headers))
        return out

    return answer


def digest_challenge(realm: str, nonce: str, *, proxy: bool = False, algorithm: str = "MD5",
                     extra: str = "") -> tuple[str, str]:
    """One challenge header row (RFC 7616 §3.3): WWW-Authenticate, or Proxy-Authenticate."""
    name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    return name, (f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}, '
                  f'qop="auth"{extra}')


@dataclass
class RealmCredentials:
    """A CredentialStore with one username/password per realm (RFC 3261 §22.1: the realm alone
    names the protection domain)."""

    table: dict[str, tuple[str, str]]

    def lookup(self, realm: str) -> Credentials | None:
        entry = self.table.get(realm)
        return None if entry is None else Credentials(entry[0], entry[1])


def registers(world: SimWorld) -> list[Request]:
    """Each REGISTER the client sent, once (retransmissions folded)."""
    return world.sent_registers()


def contact_uris(request: Request) -> list[str]:
    return [str(c.uri) for c in request.contacts]


def kinds(world: SimWorld) -> list[str]:
    """The client's events but state changes, by class name, in order."""
    return [type(e).__name__ for _, e in world.events if type(e).__name__ != "StateChanged"]


def digest_params(value: str) -> dict[str, str]:
    """The name=value pairs of a Digest credentials header value (quotes removed)."""
    import re

    assert value.lower().startswith("digest ")
    pairs = re.findall(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)', value[7:])
    return {name.lower(): raw[1:-1] if raw.startswith('"') else raw for name, raw in pairs}


def digest_answers(value: str, *, method: str, username: str, password: str,
                   realm: str, nonce: str, algorithm: str = "MD5") -> bool:
    """True when ``value`` (Authorization / Proxy-Authorization) answers the challenge
    (``realm``, ``nonce``, ``algorithm`` MD5 or SHA-256, qop=auth) with the right response,
    computed here from RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1 (RFC 3261 §22.4):
    KD(H(A1), nonce:nc:cnonce:qop:H(A2))."""
    import hashlib

    def h(text: str) -> str:
        return hashlib.new({"MD5": "md5", "SHA-256": "sha256"}[algorithm],
                           text.encode()).hexdigest()

    p = digest_params(value)
    if (p.get("username"), p.get("realm"), p.get("nonce")) != (username, realm, nonce):
        return False
    if p.get("algorithm", "MD5").upper() != algorithm:
        return False
    ha1 = h(f"{username}:{realm}:{password}")
    ha2 = h(f"{method}:{p['uri']}")
    expected = h(f"{ha1}:{nonce}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
    return p.get("response") == expected
