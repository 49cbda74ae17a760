"""Registration checks whose expected values come from the RFC or from a reference written
apart (never from the code under test), driven by the generated registrars of
:mod:`sipfsm.conformance.registrars`: the From tag across REGISTERs, our binding read wherever
the 200 lists it, 423s that never stop, Retry-After against the backoff, the digest of every
credentialed REGISTER recomputed from RFC 7616, and responses that are not ours arriving while
the transaction is alive.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sipfsm.conformance.checks_registration import (
    Behaviour,
    Scenario,
    run,
    scenarios,
    transactions,
)
from sipfsm.conformance.digest_reference import expected_response, read_credentials
from sipfsm.conformance.harness import (
    ScriptedRegistrar,
    World,
    default_config,
    ok_echo,
    reply,
)
from sipfsm.conformance.registrars import (
    FOREIGN_KINDS,
    Listing,
    foreign_then_real,
    interval_too_brief_forever,
    listing_responder,
    listings,
    server_error_then_ok,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message import Request, Response, SipUri, parse_uri
from sipfsm.registration import Failed, Refreshed, Registered, Retrying

# RFC 3261 §17.1.1.2 Table 4, the defaults: T1 = 500 ms; Timer F = 64*T1.
T1 = 0.5
TIMER_F = 64 * T1

# --------------------------------------------------------------------------------------------
# §8.1.1.3: a new From tag for every new REGISTER
# --------------------------------------------------------------------------------------------

# Answers after which the client resubmits the same request (§8.1.3.5 / §10.2.8: From copied,
# tag included); after any other outcome the next REGISTER is a new request.
_RESUBMITTED_AFTER = {"423"}


@check("RFC3261-8.1.1.3-FROM-TAG")
@given(scenarios())
def every_new_register_has_a_new_from_tag(s: Scenario) -> None:
    """Compared across REGISTERs: a tag once replaced never comes back, and the REGISTER
    after a 2xx, a failure or a timeout (a refresh, a retry after backoff, the next command)
    carries a tag no earlier REGISTER had; only 423 resubmissions keep it."""
    world = run(s)
    decided: dict[str, Behaviour] = world.registrar.state.get("decided", {})
    txs = transactions(world)
    seen: set[str] = set()
    previous: str | None = None
    for (branch, _, request, _), nxt in itertools.zip_longest(txs, txs[1:]):
        tag = request.from_.tag or ""
        if tag != previous:
            expect("RFC3261-8.1.1.3-FROM-TAG", tag not in seen,
                   f"From tag {tag!r} reused after another tag")
        seen.add(tag)
        previous = tag
        if nxt is None:
            break
        kind = decided.get(branch, Behaviour("ok")).kind
        if kind not in _RESUBMITTED_AFTER:
            expect("RFC3261-8.1.1.3-FROM-TAG", (nxt[2].from_.tag or "") not in seen,
                   f"the REGISTER after a {kind!r} answer reuses From tag "
                   f"{nxt[2].from_.tag!r}")


# --------------------------------------------------------------------------------------------
# §10.2.1 / §10.2.4: our binding, wherever the 200 lists it
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS", "RFC3261-10.2.4-NO-REFRESH-OTHERS",
       "RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY")
@given(listings())
def our_binding_is_read_wherever_the_200_lists_it(listing: Listing) -> None:
    """Our contact anywhere among other UAs' bindings (other expiries, some URIs close to
    ours): the interval reported and the refresh follow our binding's expiry (its parameter,
    else the Expires header); refreshes carry only our contact.  A 200 that omits our contact
    never counts as registered."""
    world = World(listing_responder(listing), config=default_config(expires=3600))
    world.client.register()
    world.run(listing.ours * 2.5 if listing.position is not None else 3600)
    registered = world.events_of(Registered) + world.events_of(Refreshed)
    rule = "RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS"
    if listing.position is None:
        expect(rule, not registered, "registered on a 200 that does not list our contact")
        expect(rule, world.client.state not in ("registered", "refreshing"),
               f"state {world.client.state} after 200s that never list our contact")
        return
    expect(rule, registered, f"not registered: {world.events}")
    for event in registered:
        expect(rule, event.expires == listing.ours,
               f"reported {event.expires} s, our binding has {listing.ours} s")
    times = [t for _, t, _, _ in transactions(world)]
    expect(rule, len(times) >= 3, f"{len(times)} REGISTERs in {listing.ours * 2.5} s")
    for a, b in itertools.pairwise(times):
        expect("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", 0 < b - a < listing.ours,
               f"refresh {b - a:.1f} s after the last, our binding lasts {listing.ours} s")
    ours = "sip:alice@192.0.2.10:5060"
    for request in world.sent_registers():
        expect("RFC3261-10.2.4-NO-REFRESH-OTHERS",
               all(str(c.uri) == ours for c in request.contacts),
               f"a REGISTER carries {[str(c.uri) for c in request.contacts]}")


# --------------------------------------------------------------------------------------------
# §10.2.8: 423 again and again
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.8-423-RETRY")
@given(st.integers(0, 3), st.integers(1, 3600), st.integers(300, 3600))
def repeated_423s_end_after_the_configured_retries(retries: int, step: int,
                                                   expires: int) -> None:
    """A registrar answering 423 forever (Min-Expires always above what was asked): each
    retry asks for at least the Min-Expires just given, and after ``max_interval_retries``
    retries the attempt fails with the 423 instead of looping."""
    # The registrar answers a few 423s more than the client may retry, then nothing: a client
    # that never stops sends more REGISTERs than allowed and fails here, in bounded time.
    world = World(interval_too_brief_forever(step, limit=retries + 3),
                  config=default_config(expires=expires, max_interval_retries=retries))
    world.client.register()
    world.run(4 * 3600)
    registers = world.sent_registers()
    rule = "RFC3261-10.2.8-423-RETRY"
    expect(rule, world.registrar.state.get("423s", 0) == retries + 1,
           f"{world.registrar.state.get('423s', 0)} REGISTERs answered 423 for {retries} "
           f"allowed 423 retries")
    expect(rule, len(registers) == retries + 1,
           f"{len(registers)} REGISTERs for {retries} allowed 423 retries")
    for prev, nxt in itertools.pairwise(registers):
        expect(rule, (nxt.expires or 0) >= (prev.expires or 0) + step,
               f"asked {nxt.expires} after Min-Expires {(prev.expires or 0) + step}")
    failed = world.events_of(Failed)
    expect(rule, world.client.state == "failed" and failed and failed[-1].status == 423,
           f"state {world.client.state}, events {world.events[-3:]}")


# --------------------------------------------------------------------------------------------
# §21.5.1 / §21.5.4 with RFC 5626 §4.5: Retry-After and the backoff
# --------------------------------------------------------------------------------------------

# RFC 5626 §4.5: wait = min(max-time, base-time * 2 ** consecutive-failures), drawn between
# 50 % and 100 % of it; default_config(): base-time 30 s, max-time 1800 s; first failure.
BACKOFF_FIRST = (0.5 * min(1800.0, 30.0 * 2**1), min(1800.0, 30.0 * 2**1))


@check("RFC3261-21.5.1-500-RETRY", "RFC3261-21.5.4-503-WITHOUT-RETRY-AFTER",
       "RFC3261-21.5.4-503-HOLD-OFF")
@given(st.sampled_from([500, 503]),
       st.one_of(st.none(), st.integers(0, 29), st.integers(30, 60), st.integers(61, 900)),
       st.integers(0, 2**16))
def retry_after_is_never_shorter_than_the_backoff(status: int, retry_after: int | None,
                                                  seed: int) -> None:
    """After a 500 or 503 from the only target, the next REGISTER waits the backoff, or
    Retry-After when that is longer: never less than either (Retry-After: 0 does not mean at
    once), never more than the longer of Retry-After and the backoff's upper bound."""
    world = World(server_error_then_ok(status, retry_after), seed=seed)
    world.client.register()
    world.run(3600)
    txs = transactions(world)
    rule = {500: "RFC3261-21.5.1-500-RETRY"}.get(status, (
        "RFC3261-21.5.4-503-HOLD-OFF" if retry_after is not None
        else "RFC3261-21.5.4-503-WITHOUT-RETRY-AFTER"))
    expect(rule, len(txs) >= 2, f"no retry after {status} (Retry-After {retry_after})")
    gap = txs[1][1] - _final_at(world, txs[0][0])
    low = max(float(retry_after or 0), BACKOFF_FIRST[0])
    high = max(float(retry_after or 0), BACKOFF_FIRST[1])
    expect(rule, low - 1e-6 <= gap <= high + 1e-6,
           f"retried {gap:.3f} s after {status} with Retry-After {retry_after}; "
           f"expected between {low} and {high} s")
    retrying = world.events_of(Retrying)
    expect(rule, retrying and retrying[0].status == status, f"events {world.events[:4]}")
    expect(rule, world.client.state == "registered", f"state {world.client.state}")


def _final_at(world: World, branch: str) -> float:
    from sipfsm.message import parse

    for entry in world.recorder.select(direction="received"):
        msg = parse(entry.message.encode())
        if isinstance(msg, Response) and msg.status >= 200 and msg.vias[0].branch == branch:
            return entry.time
    raise AssertionError(f"no final response for {branch}")


# --------------------------------------------------------------------------------------------
# §22.2 / §22.4: every credentialed REGISTER, recomputed from RFC 7616
# --------------------------------------------------------------------------------------------


def _reference_challenger(status: int, algorithm: str, qop: str | None, password: str,
                          rounds: int) -> Any:
    """Challenges every REGISTER without credentials; checks every credentialed one against
    the reference (uri = the Request-URI, response recomputed) and records the verdicts; the
    first ``rounds`` credentialed ones get a fresh challenge (stale=true), the rest a 200."""
    challenge_header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    credentials_header = "Authorization" if status == 401 else "Proxy-Authorization"

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        n = reg.state.setdefault("nonce", 0)
        value = request.headers.get(credentials_header)
        qop_param = f', qop="{qop}"' if qop else ""
        if value is None:
            reg.state["nonce"] = n + 1
            return reply(request, status, headers=[(challenge_header, (
                f'Digest realm="example.com", nonce="n{n}x{algorithm}"{qop_param}, '
                f'algorithm={algorithm}'))])
        params = read_credentials(value)
        verdicts = reg.state.setdefault("verdicts", [])
        verdicts.append((str(request.uri), params.get("uri"), params.get("response"),
                         expected_response(params, method=request.method, password=password)))
        if len(verdicts) <= rounds:
            reg.state["nonce"] = n + 1
            return reply(request, status, headers=[(challenge_header, (
                f'Digest realm="example.com", nonce="n{n}y{algorithm}"{qop_param}, '
                f'algorithm={algorithm}, stale=true'))])
        return ok_echo(request)

    return responder


@check("RFC3261-22.4-URI-QUOTED", "RFC3261-8.1.3.5-401-407-CREDENTIALS",
       "RFC2617-3.2.2.1-RESPONSE-DIGEST", "RFC2617-3.2.2.5-DIGEST-URI")
@given(st.sampled_from([401, 407]), st.sampled_from(["MD5", "SHA-256", "MD5-sess"]),
       st.sampled_from(["auth", None]), st.integers(0, 1),
       st.from_regex(r"(reg[0-9]{1,3}\.)?example\.(com|net)", fullmatch=True),
       st.integers(0, 2**16))
def credentials_match_an_independent_digest(status: int, algorithm: str, qop: str | None,
                                            rounds: int, registrar: str, seed: int) -> None:
    """Every credentialed REGISTER's uri is its Request-URI (never the AOR) and its response
    equals the RFC 7616 digest computed apart with hashlib over method, Request-URI, nonce,
    nc, cnonce and qop."""
    from sipfsm.auth import StaticCredentials

    password = "s3cret pass"
    if algorithm.endswith("-sess") and qop is None:
        qop = "auth"  # RFC 7616 §3.4.2: -sess needs the cnonce, which only qop brings
    uri = parse_uri(f"sip:{registrar}")
    assert isinstance(uri, SipUri)
    world = World(_reference_challenger(status, algorithm, qop, password, rounds),
                  credentials=StaticCredentials("alice", password), seed=seed,
                  config=default_config(registrar=uri))
    world.client.register()
    world.run(30)
    verdicts = world.registrar.state.get("verdicts", [])
    rule = "RFC3261-8.1.3.5-401-407-CREDENTIALS"
    expect(rule, len(verdicts) == rounds + 1, f"{len(verdicts)} credentialed REGISTERs")
    for request_uri, sent_uri, sent, expected in verdicts:
        for uri_rule in ("RFC3261-22.4-URI-QUOTED", "RFC2617-3.2.2.5-DIGEST-URI"):
            expect(uri_rule, sent_uri == request_uri,
                   f"uri={sent_uri!r} but the Request-URI is {request_uri!r}")
        expect("RFC2617-3.2.2.1-RESPONSE-DIGEST", sent == expected,
               "the response differs from the RFC 7616 reference")
    expect(rule, world.client.state == "registered", f"state {world.client.state}")


# --------------------------------------------------------------------------------------------
# §17.1.3 / §18.1.2: responses that are not ours, while the transaction is alive
# --------------------------------------------------------------------------------------------

_FOREIGN_RULE = {
    "foreign-branch": "RFC3261-17.1.3-MATCH-BRANCH",
    "foreign-branch-and-call-id": "RFC3261-17.1.3-MATCH-BRANCH",
    "foreign-sent-by": "RFC3261-18.1.2-FOREIGN-SENT-BY",
    "wrong-method": "RFC3261-17.1.3-MATCH-METHOD",
}


@check("RFC3261-17.1.3-MATCH-BRANCH", "RFC3261-17.1.3-MATCH-METHOD",
       "RFC3261-18.1.2-FOREIGN-SENT-BY")
@given(st.lists(st.tuples(st.sampled_from(FOREIGN_KINDS), st.sampled_from([200, 403, 423])),
                min_size=1, max_size=3),
       st.integers(0, 2**16))
def responses_that_are_not_ours_change_nothing(kinds: list[tuple[str, int]], seed: int) -> None:
    """Responses with another branch (same or other Call-ID), another sent-by or another CSeq
    method arrive while the REGISTER is in Trying: none is taken as its answer; the REGISTER
    is retransmitted at T1 and the registration follows its own 200 only."""
    world = World(foreign_then_real(kinds), seed=seed)
    world.client.register()
    world.run(10)
    first = transactions(world)[0][0]
    sends = [t for t, r in world.sent() if r.vias[0].branch == first]
    early = [e for t, e in world.events if t < T1 - 1e-9
             and isinstance(e, (Registered, Failed, Retrying))]
    for kind, status in kinds:
        rule = _FOREIGN_RULE[kind]
        expect(rule, len(sends) >= 2 and abs(sends[1] - T1) < 1e-6,
               f"a {status} with {kind} ended the REGISTER (sends at {sends})")
        expect(rule, not early, f"a {status} with {kind} was taken as ours: {early}")
        expect(rule, world.client.state == "registered" and not world.events_of(Failed),
               f"state {world.client.state} after a {status} with {kind}")


# --------------------------------------------------------------------------------------------
# §25 / §7: every REGISTER on the wire follows the grammar, read strictly
# --------------------------------------------------------------------------------------------


@check("RFC3261-25-REQUEST-GRAMMAR")
@given(scenarios())
def every_register_on_the_wire_follows_the_grammar(s: Scenario) -> None:
    """Whatever the registrar does, every request the client sends (retransmissions
    included) breaks no rule of the strict validation (start line, mandatory headers, header
    syntax), read from the bytes on the wire."""
    from sipfsm.conformance.harness import CLIENT
    from sipfsm.message.strict import violations

    world = run(s)
    for entry in world.recorder.select(local=CLIENT, direction="sent"):
        found = violations(entry.message.encode("utf-8"))
        expect("RFC3261-25-REQUEST-GRAMMAR", not found,
               f"{[str(v) for v in found]} in {entry.message[:200]!r}")
