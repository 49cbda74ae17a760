"""The audit reads each final response the way the model does (sipfsm.core.classify when
present, a by-status reading otherwise)."""

from __future__ import annotations

import pytest

from sipfsm.audit.exchange import group
from sipfsm.audit.readers import observations_from_records
from sipfsm.audit.replay import core_available, outcome
from tests.audit.support import CONTACT, OTHER_CONTACT, Trace


def _outcomes(trace: Trace) -> list[tuple[str, int | None, int | None, object]]:
    exchange = group(observations_from_records(trace.records()))
    out = []
    for t in exchange.registrations[0].transactions:
        read = outcome(t)
        assert read is not None
        granted = None if read.granted is None else [(str(u), s) for u, s in read.granted]
        out.append((read.kind, read.min_expires, read.retry_after, granted))
    return out


@pytest.mark.requirement("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY")
def test_final_responses_are_read_like_the_model() -> None:
    t = Trace()
    r1 = t.register(0.0, 1, expires="30")
    t.respond(r1, 0.01, 423, "Interval Too Brief", ("Min-Expires", "60"))
    r2 = t.register(0.02, 2)
    t.respond(r2, 0.03, 503, "Service Unavailable", ("Retry-After", "7"))
    r3 = t.register(8.0, 3)
    t.respond(r3, 8.01, 401, "Unauthorized", ("WWW-Authenticate", 'Digest realm="x", nonce="y"'))
    r4 = t.register(8.02, 4)
    # our contact is listed second, with its own expiry; another binding's comes first
    t.respond(r4, 8.03, 200, "OK",
              ("Contact", f"{OTHER_CONTACT};expires=3600, {CONTACT};expires=45"))
    r5 = t.register(9.0, 5)
    t.respond(r5, 9.01, 404, "Not Found")
    kinds = _outcomes(t)
    assert kinds[0][:2] == ("too-brief", 60)
    assert kinds[1][0] == "retry-later" and kinds[1][2] == 7
    assert kinds[2][0] == "challenge"
    assert kinds[3][0] == "success"
    assert kinds[3][3] == [("sip:alice@192.0.2.10:5062", 45)]
    assert kinds[4][0] == "rejected"


def test_the_core_classifier_is_used_when_present() -> None:
    if not core_available():
        pytest.skip("sipfsm.core.classify (the registration core) is not in this tree")
    t = Trace()
    r1 = t.register(0.0, 1)
    t.respond(r1, 0.01, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    exchange = group(observations_from_records(t.records()))
    read = outcome(exchange.registrations[0].transactions[0])
    assert read is not None and read.by_core and read.kind == "success"
