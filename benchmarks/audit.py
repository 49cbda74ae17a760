"""Benchmark: `sipfsm audit` throughput on a generated 100,000-message trace, against a bare
parse of the same messages in the same run.

The trace: N user agents (distinct addresses, Call-IDs, branches), each registering through a
Digest challenge, refreshing with pre-emptive credentials and unregistering, with a share of
UDP retransmissions; all interleaved in time as one capture of a busy registrar's link would be.

* baseline -- ``sipfsm.message.parse`` of every message (what any audit has to pay at least);
* audit    -- ``sipfsm.audit.audit_records`` of the same records: read, parse, group, every
  message and sequence rule the spec marks auditable (the password is given, so each Digest
  response is recomputed too).

Times are process CPU time (the box may be shared).  Run:
``python benchmarks/audit.py [--messages 100000] [--repeat 3]``.  Target: audit >= 50,000
messages/s; prints messages/s and the ratio to the baseline, exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from sipfsm.audit import audit_records
from sipfsm.auth import build_authorization
from sipfsm.message import parse

TARGET = 50_000.0
REGISTRAR = "10.0.0.1:5060"
PASSWORD = "secret"


def _message(start: str, headers: list[tuple[str, str]]) -> str:
    return "\r\n".join([start, *(f"{n}: {v}" for n, v in headers), "Content-Length: 0", "", ""])


def generate(total: int) -> list[dict[str, Any]]:
    """About ``total`` trace records (client's view of many clients, interleaved)."""
    per_ua = 12
    records: list[dict[str, Any]] = []
    ua = 0
    while len(records) < total:
        ua += 1
        host = f"10.{1 + ua // 65000}.{(ua // 250) % 250}.{ua % 250 + 1}"
        client = f"{host}:5060"
        user = f"u{ua}"
        aor = f"sip:{user}@example.com"
        call_id = f"{ua:08x}-c@{host}"
        challenge = (f'Digest realm="example.com", nonce="n{ua:x}", qop="auth", '
                     'algorithm=MD5')
        t0 = (ua * 0.037) % 600.0
        cseq = 0
        nc = 0

        def request(t: float, expires: int, auth: bool, copies: int = 1) -> list[tuple[float, str]]:
            nonlocal cseq, nc
            cseq += 1
            headers = [("Via", f"SIP/2.0/UDP {client};branch=z9hG4bK{ua:x}.{cseq};rport"),
                       ("Max-Forwards", "70"), ("To", f"<{aor}>"),
                       ("From", f"<{aor}>;tag=t{ua:x}"), ("Call-ID", call_id),
                       ("CSeq", f"{cseq} REGISTER"), ("Contact", f"<sip:{user}@{client}>"),
                       ("Expires", str(expires))]
            if auth:
                nc += 1
                headers.append(("Authorization", build_authorization(
                    challenge, method="REGISTER", uri="sip:example.com", username=user,
                    password=PASSWORD, cnonce=f"c{ua:x}{nc}", nc=nc)))
            text = _message("REGISTER sip:example.com SIP/2.0", headers)
            return [(t + (0.5 * (2**i - 1)), text) for i in range(copies)]

        def response(request_text: str, t: float, status: str,
                     extra: list[tuple[str, str]]) -> tuple[float, str]:
            keep = [line.split(": ", 1) for line in request_text.split("\r\n")[1:7]]
            headers = [(n, v) for n, v in keep if n in ("Via", "From", "Call-ID", "CSeq")]
            headers.insert(1, ("To", f"<{aor}>;tag=r{ua:x}"))
            return (t, _message(f"SIP/2.0 {status}", headers + extra))

        events: list[tuple[float, str, bool]] = []
        first = request(t0, 600, False, copies=2 if ua % 5 == 0 else 1)
        events += [(t, m, True) for t, m in first]
        end1 = first[-1][0] + 0.05
        events.append((*response(first[0][1], end1, "401 Unauthorized",
                                 [("WWW-Authenticate", challenge)]), False))
        t = end1 + 0.01
        for expires in (600, 600, 600, 0):
            sent = request(t, expires, True)
            events += [(when, m, True) for when, m in sent]
            contact = [] if expires == 0 else [("Contact", f"<sip:{user}@{client}>;expires=600")]
            events.append((*response(sent[0][1], t + 0.02, "200 OK", contact), False))
            t += 300.0
        for when, text, sent_flag in events:
            records.append({"time": when, "direction": "sent" if sent_flag else "received",
                            "transport": "UDP", "local": client, "remote": REGISTRAR,
                            "message": text})
        del per_ua
        per_ua = 12
    records.sort(key=lambda r: r["time"])
    return records[:total] if len(records) > total else records


def measure(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    records = generate(args.messages)
    n = len(records)
    payloads = [r["message"].encode() for r in records]

    def baseline() -> None:
        for data in payloads:
            parse(data)

    report_box: list[Any] = []

    def audit() -> None:
        report_box.append(audit_records(records, password=PASSWORD))

    base_s = measure(baseline, args.repeat)
    audit_s = measure(audit, args.repeat)
    report = report_box[-1]
    rate = n / audit_s
    print(f"trace: {n} messages, {len(report.registrations)} registrations; "
          f"audit verdict: {report.summary()}")
    print(f"baseline (bare parse): {n / base_s:12,.0f} messages/s")
    print(f"audit (all rules)    : {rate:12,.0f} messages/s   "
          f"= {base_s / audit_s:.2f} x the bare parse")
    print(f"target >= {TARGET:,.0f} messages/s: {'met' if rate >= TARGET else 'MISSED'} "
          "(process CPU time; the box may be shared)")
    if not report.clean:
        print("the generated trace should audit clean", file=sys.stderr)
        return 2
    return 0 if rate >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
