"""Hypothesis strategies for harness authors.  Importing this module imports hypothesis (the
``test`` or ``conformance`` extra); :mod:`sipfsm.testing` itself does not.

* SIP values and messages, re-exported from :mod:`sipfsm.strategies`: ``sip_uris``, ``hosts``,
  ``users``, ``vias``, ``contacts``, ``requests``, ``responses``, ``messages``, ``mutated``, ...
* :func:`register_requests` -- REGISTER requests as a UA sends them (valid by construction).
* :func:`challenges` -- Digest challenge values (``WWW-Authenticate`` / ``Proxy-Authenticate``).
* :func:`register_responses` -- the final responses a registrar may send to a REGISTER.
* :func:`answers` / :func:`answer_scripts` -- registrar behaviours, one
  :data:`~sipfsm.testing.Answer` per transaction, for :func:`~sipfsm.testing.per_transaction`.
* ``Behaviour``, ``behaviours``, ``scripted``, ``scenarios``, ``Scenario`` -- the registrar
  behaviours and scenarios the conformance checks draw (re-exported from
  :mod:`sipfsm.conformance.checks_registration`).
"""

from __future__ import annotations

from hypothesis import strategies as st

from sipfsm.auth import SUPPORTED_ALGORITHMS
from sipfsm.conformance.checks_registration import (
    Behaviour,
    Scenario,
    behaviours,
    scenarios,
    scripted,
)
from sipfsm.message import Headers, Request, Response, SipUri
from sipfsm.strategies import (
    absolute_uris,
    call_ids,
    casings,
    contacts,
    cseqs,
    display_names,
    header_params,
    hostnames,
    hosts,
    ipv4_addresses,
    ipv6_addresses,
    messages,
    methods,
    mutated,
    name_addrs,
    requests,
    responses,
    sip_uris,
    tokens,
    uri_params,
    uris,
    users,
    vias,
)
from sipfsm.testing import (
    Answer,
    challenge,
    drop,
    interval_too_brief,
    ok,
    provisional_then,
    redirect,
    reply,
    retry_later,
    status,
)

__all__ = [
    "Behaviour",
    "Scenario",
    "absolute_uris",
    "answer_scripts",
    "answers",
    "behaviours",
    "call_ids",
    "casings",
    "challenges",
    "contacts",
    "cseqs",
    "display_names",
    "header_params",
    "hostnames",
    "hosts",
    "ipv4_addresses",
    "ipv6_addresses",
    "messages",
    "methods",
    "mutated",
    "name_addrs",
    "register_requests",
    "register_responses",
    "requests",
    "responses",
    "scenarios",
    "scripted",
    "sip_uris",
    "tokens",
    "uri_params",
    "uris",
    "users",
    "vias",
]

_TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"
_SECONDS = st.integers(0, 2**32 - 1)
_PORTS = st.none() | st.integers(1, 65535)
_NAMES = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
_DOMAINS = st.lists(_NAMES, min_size=1, max_size=3).map(lambda labels: ".".join(labels) + ".test")


def _host_port(host: str, port: int | None) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port is None else f"{host}:{port}"


@st.composite
def register_requests(draw: st.DrawFn) -> Request:
    """A REGISTER (RFC 3261 §10.2): Request-URI the domain, To the AOR, From the AOR with a tag,
    one Call-ID, ``CSeq: n REGISTER``, a Via with an RFC 3261 branch, Max-Forwards 70, and
    either our contacts (with Expires), ``Contact: *`` with ``Expires: 0``, or no Contact (a
    query)."""
    domain = draw(_DOMAINS)
    user = draw(_NAMES)
    aor = f"sip:{user}@{domain}"
    via_host = draw(hosts())
    rows = [
        ("Via", f"SIP/2.0/{draw(st.sampled_from(['UDP', 'TCP']))} "
                f"{_host_port(via_host, draw(_PORTS))};branch=z9hG4bK{draw(tokens())};rport"),
        ("Max-Forwards", "70"),
        ("To", f"<{aor}>"),
        ("From", f"<{aor}>;tag={draw(tokens())}"),
        ("Call-ID", draw(call_ids())),
        ("CSeq", f"{draw(st.integers(1, 2**31 - 1))} REGISTER"),
    ]
    kind = draw(st.sampled_from(["bind", "bind", "remove-all", "query"]))
    if kind == "bind":
        for _ in range(draw(st.integers(1, 3))):
            where = _host_port(draw(hosts()), draw(_PORTS))
            q = draw(st.none() | st.sampled_from(["0", "0.5", "1", "0.123"]))
            rows.append(("Contact", f"<sip:{user}@{where}>" + (f";q={q}" if q else "")))
        rows.append(("Expires", str(draw(_SECONDS))))
    elif kind == "remove-all":
        rows += [("Contact", "*"), ("Expires", "0")]
    uri = SipUri(scheme="sip", host=domain)
    return Request(method="REGISTER", uri=uri, headers=Headers(draw(st.permutations(rows))),
                   body=b"")


@st.composite
def challenges(draw: st.DrawFn) -> str:
    """A Digest challenge value (RFC 7616 §3.3, RFC 3261 §22.4): realm, nonce, maybe opaque,
    an algorithm (or none: MD5), maybe qop options, maybe ``stale=true``, in any order."""
    realm = draw(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20))
    escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
    nonce = draw(st.text(_TOKEN + "/=", min_size=1, max_size=40))
    params = [f'realm="{escaped}"', f'nonce="{nonce}"']
    if draw(st.booleans()):
        params.append(f'opaque="{draw(st.text(_TOKEN, max_size=20))}"')
    algorithm = draw(st.none() | st.sampled_from(SUPPORTED_ALGORITHMS))
    if algorithm is not None:
        params.append(f"algorithm={algorithm}")
    qop = draw(st.none() | st.sampled_from(["auth", "auth-int", "auth,auth-int"]))
    if qop is not None:
        params.append(f'qop="{qop}"')
    if draw(st.booleans()):
        params.append("stale=true")
    return "Digest " + ", ".join(draw(st.permutations(params)))


def register_responses(request: Request) -> st.SearchStrategy[Response]:
    """The final responses a registrar may send to ``request``: 200 with the contacts bound,
    401/407 with a challenge, 423 with Min-Expires, a 3xx with a Contact, or another
    4xx-6xx, maybe with Retry-After."""
    contacts_bound = [f"<{c.uri}>" for c in request.contacts]

    def ok_with(expires: int) -> Response:
        return reply(request, 200,
                     headers=[("Contact", f"{c};expires={expires}") for c in contacts_bound])

    def challenged(code: int, value: str) -> Response:
        name = "Proxy-Authenticate" if code == 407 else "WWW-Authenticate"
        return reply(request, code, headers=[(name, value)])

    def failure(code: int, retry_after: int | None) -> Response:
        extra = [] if retry_after is None else [("Retry-After", str(retry_after))]
        return reply(request, code, headers=extra)

    return st.one_of(
        st.builds(ok_with, st.integers(1, 7200)),
        st.builds(challenged, st.sampled_from([401, 407]), challenges()),
        st.builds(lambda m: reply(request, 423, headers=[("Min-Expires", str(m))]),
                  st.integers(1, 2**32 - 1)),
        st.builds(lambda u, code: reply(request, code, headers=[("Contact", f"<{u}>")]),
                  st.builds(lambda d: f"sip:{d}", _DOMAINS), st.sampled_from([301, 302])),
        st.builds(failure, st.sampled_from([400, 403, 404, 408, 480, 486, 500, 503, 504, 600,
                                            603]), st.none() | st.integers(0, 86400)),
    )


def answers(*, challenges_too: bool = False) -> st.SearchStrategy[Answer]:
    """One registrar behaviour for one transaction: accept (maybe with another expiry or other
    UAs' bindings), drop, 423, Retry-After, a failure status, a provisional then accept, a
    redirect; ``challenges_too``: also a Digest challenge (the client needs credentials)."""
    options = [
        st.builds(ok, st.none() | st.integers(1, 7200)),
        st.builds(lambda: ok(other_bindings=["<sip:alice@198.51.100.7:5070>;expires=1200"])),
        st.builds(drop),
        st.builds(interval_too_brief, st.integers(1, 7200)),
        st.builds(retry_later, st.integers(0, 600), st.sampled_from([500, 503])),
        st.builds(status, st.sampled_from([403, 404, 408, 480, 500, 503, 504, 600, 603])),
        st.builds(provisional_then, st.sampled_from([100, 180, 183]), st.builds(ok)),
        st.builds(redirect, st.just("sip:registrar2.example.com")),
    ]
    if challenges_too:
        options.append(st.builds(challenge, st.sampled_from(["example.com", "realm"]),
                                 st.text(_TOKEN, min_size=1, max_size=12)))
    return st.one_of(options)


def answer_scripts(max_size: int = 8, *, challenges_too: bool = False
                   ) -> st.SearchStrategy[list[Answer]]:
    """Scripts for :func:`~sipfsm.testing.per_transaction`: up to ``max_size`` answers."""
    return st.lists(answers(challenges_too=challenges_too), max_size=max_size)
