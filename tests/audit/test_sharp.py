"""Sharper audit cases: correct traffic the rules must leave alone (a stale challenge, a qop
list, -sess and SHA algorithms, auth-int, an equal digest-uri, TLS), a violation spread over two
Call-IDs, exit codes of MUST NOT findings, and every planted violation found again in a pcap
capture built here with dpkt (UDP, TCP; Ethernet, Linux cooked v1 and v2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sipfsm.audit import audit_paths, audit_records, read_observations
from tests.audit.captures import frames, write_pcap, write_pcapng
from tests.audit.support import (
    CHALLENGE,
    CLIENT,
    CONTACT,
    PASSWORD,
    REGISTRAR,
    Trace,
    base,
    credentials,
)
from tests.audit.test_planted import PLANTED, to_tag


def _with_challenge(challenge: str, *, transport: str = "UDP") -> Trace:
    """The base exchange, every credential answering ``challenge`` (built by sipfsm.auth)."""
    t = base(transport=transport)
    for m in t.messages:
        if m.header("WWW-Authenticate"):
            m.set("WWW-Authenticate", challenge)
    requests = [m for m in t.messages if m.sent and m.header("Authorization")]
    for n, m in enumerate(requests, 1):
        m.set("Authorization", credentials(challenge, nc=n, cnonce=f"c0ffee0{n}"))
    return t


def stale_true_then_new_nonce() -> Trace:
    """RFC 7616 §3.3 / RFC 2617 §3.2.1: stale=TRUE (any case) means the password was right;
    answering the new nonce with the same user is what the client should do."""
    t = Trace()
    r1 = t.register(0.0, 1)
    t.retransmit(r1, 0.5)
    t.respond(r1, 0.6, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = t.register(0.61, 2, authorization=credentials())
    second = CHALLENGE.replace('"n1"', '"n2"') + ", stale=TRUE"
    t.respond(r2, 0.62, 401, "Unauthorized", ("WWW-Authenticate", second))
    r3 = t.register(0.63, 3, authorization=credentials(second, cnonce="c0ffee02"))
    t.respond(r3, 0.64, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def qop_list_answered_with_auth() -> Trace:
    return _with_challenge(CHALLENGE.replace('qop="auth"', 'qop="auth-int,auth"'))


def digest_uri_equal_but_written_otherwise() -> Trace:
    t = base()
    for n, m in enumerate([m for m in t.messages if m.sent and m.header("Authorization")], 1):
        m.set("Authorization", credentials(uri="sip:EXAMPLE.com", nc=n, cnonce=f"c0ffee0{n}"))
    return t


def second_algorithm_same_nonce_answered() -> Trace:
    """RFC 8760: one challenge per algorithm (here sharing a nonce); the client answers the
    MD5 one -- the algorithm of A challenge with that nonce, not of the first."""
    t = base()
    sha = CHALLENGE.replace("algorithm=MD5", "algorithm=SHA-256")
    for m in t.messages:
        if m.header("WWW-Authenticate"):
            m.set("WWW-Authenticate", None)
            m.headers += [("WWW-Authenticate", sha), ("WWW-Authenticate", CHALLENGE)]
    return t


def slow_answer_over(transport: str) -> Trace:
    """A reliable transport has no Timer E: no copy while the registrar takes 2 s to answer."""
    t = Trace()
    r1 = t.register(0.0, 1, transport=transport)
    t.respond(r1, 2.0, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = t.register(2.01, 2, authorization=credentials(), transport=transport)
    t.respond(r2, 4.5, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


CLEAN: list[tuple[str, Callable[[], Trace]]] = [
    *(("RFC3261-17.1.2.2-TIMER-E-START", (lambda tr=tr: slow_answer_over(tr)))
      for tr in ("TCP", "TLS", "SCTP")),
    ("RFC7616-3.3-OPAQUE-ECHO", second_algorithm_same_nonce_answered),
    ("RFC3261-22.1-NO-RESEND-REJECTED", stale_true_then_new_nonce),
    ("RFC7616-3.4-QOP-ONE-OF-OFFERED", qop_list_answered_with_auth),
    ("RFC2617-3.2.2.5-DIGEST-URI", digest_uri_equal_but_written_otherwise),
    *(("RFC2617-3.2.2.1-RESPONSE-DIGEST",
       (lambda a=alg: _with_challenge(CHALLENGE.replace("algorithm=MD5", f"algorithm={a}"))))
      for alg in ("MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256")),
    ("RFC2617-3.2.2.1-RESPONSE-DIGEST",
     lambda: _with_challenge(CHALLENGE.replace('qop="auth"', 'qop="auth-int"'))),
    ("RFC3261-17.1.2.2-TIMER-E-START", lambda: base(transport="TLS")),
    ("RFC3261-17.1.2.2-TIMER-E-START", lambda: base(transport="SCTP")),
]


@pytest.mark.parametrize(("rule_id", "build"), [
    pytest.param(r, b, id=f"{r}:{i}", marks=pytest.mark.requirement(r))
    for i, (r, b) in enumerate(CLEAN)
])
def test_correct_traffic_is_left_alone(rule_id: str, build: Callable[[], Trace]) -> None:
    report = audit_records(build().records(), password=PASSWORD)
    assert report.clean, [f.to_dict() for f in report.findings]


@pytest.mark.requirement("RFC2617-3.2.2.1-RESPONSE-DIGEST")
@pytest.mark.parametrize("algorithm", ["MD5-sess", "SHA-256-sess"])
def test_wrong_password_found_with_sess(algorithm: str) -> None:
    challenge = CHALLENGE.replace("algorithm=MD5", f"algorithm={algorithm}")
    t = _with_challenge(challenge)
    r2 = next(m for m in t.messages if m.sent and m.header("Authorization"))
    r2.set("Authorization", credentials(challenge, password="not-it"))
    report = audit_records(t.records(), password=PASSWORD)
    assert report.rule_ids() == {"RFC2617-3.2.2.1-RESPONSE-DIGEST"}


@pytest.mark.requirement("RFC3261-21.5.4-503-HOLD-OFF")
def test_503_hold_off_spans_call_ids() -> None:
    """A new Call-ID does not lift a 503's Retry-After: the registrar is the same."""
    t = Trace()
    r1 = t.register(0.0, 1)
    t.respond(r1, 0.01, 503, "Service Unavailable", ("Retry-After", "10"))
    r2 = t.register(2.0, 1, call_id="reg-2@192.0.2.10", branch="z9hG4bKother1")
    t.respond(r2, 2.01, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    report = audit_records(t.records())
    assert report.rule_ids() == {"RFC3261-21.5.4-503-HOLD-OFF",
                                 "RFC3261-10.2-CALL-ID-PER-REGISTRAR"}


@pytest.mark.requirement("RFC3261-8.1.1.2-NO-TO-TAG")
def test_must_not_violation_exits_1() -> None:
    report = audit_records(to_tag().records())
    assert [f.level for f in report.findings] == ["MUST NOT"]
    assert report.exit_code == 1


def _capture(tmp_path: Path, trace: Trace, **options: object) -> Path:
    records = trace.records()
    tcp = any(r["transport"] == "TCP" for r in records)
    return write_pcap(tmp_path / "p.pcap",
                      frames(records, client=CLIENT, server=REGISTRAR, tcp=tcp,
                             **options),  # type: ignore[arg-type]
                      str(options.get("link", "ethernet")))


@pytest.mark.parametrize(("rule_id", "build"), [
    pytest.param(r, b, id=f"{r}:{b.__name__}", marks=pytest.mark.requirement(r))
    for r, b in PLANTED if b().messages[0].transport in ("UDP", "TCP")
])
def test_planted_violation_found_in_a_capture(
    tmp_path: Path, rule_id: str, build: Callable[[], Trace]
) -> None:
    report = audit_paths([_capture(tmp_path, build())], password=PASSWORD)
    assert report.rule_ids() == {rule_id}, [f.to_dict() for f in report.findings]


@pytest.mark.requirement("RFC3261-10.2-CSEQ-INCREMENT")
@pytest.mark.parametrize("link", ["sll", "sll2"])
def test_linux_cooked_captures(tmp_path: Path, link: str) -> None:
    from tests.audit.test_planted import cseq_jump

    clean = audit_paths([_capture(tmp_path, base(), link=link)], password=PASSWORD)
    assert clean.clean and clean.messages == len(base().messages)
    report = audit_paths([_capture(tmp_path, cseq_jump(), link=link)], password=PASSWORD)
    assert report.rule_ids() == {"RFC3261-10.2-CSEQ-INCREMENT"}


@pytest.mark.requirement("RFC3261-10.2-CSEQ-INCREMENT")
def test_tcp_retransmission_overlapping_new_data(tmp_path: Path) -> None:
    records = base(transport="TCP").records()
    packets = frames(records, client=CLIENT, server=REGISTRAR, tcp=True, segment=40,
                     overlap=11)
    path = write_pcapng(tmp_path / "o.pcapng", packets)
    observations, _ = read_observations([path])
    assert [o.raw for o in observations] == [str(r["message"]).encode() for r in records]
    assert audit_paths([path], password=PASSWORD).clean
