"""Audit a small hand-written trace: a client that skips a CSeq number.

    python examples/audit_example.py
"""

import json
import sys
import tempfile
from pathlib import Path

from sipfsm.audit import audit_paths


def register(cseq, branch, t):
    text = (f"REGISTER sip:example.com SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK{branch}\r\n"
            "Max-Forwards: 70\r\nTo: <sip:alice@example.com>\r\n"
            "From: <sip:alice@example.com>;tag=1\r\nCall-ID: demo-1\r\n"
            f"CSeq: {cseq} REGISTER\r\nContact: <sip:alice@192.0.2.10:5062>\r\n"
            "Expires: 600\r\nContent-Length: 0\r\n\r\n")
    return {"time": t, "direction": "sent", "transport": "UDP", "local": "192.0.2.10:5062",
            "remote": "192.0.2.1:5060", "message": text}


def ok(request, t):
    head = request["message"].split("\r\n")
    keep = [h for h in head[1:] if h.split(":")[0] in ("Via", "From", "Call-ID", "CSeq")]
    text = "\r\n".join(["SIP/2.0 200 OK", *keep, "To: <sip:alice@example.com>;tag=r",
                        "Contact: <sip:alice@192.0.2.10:5062>;expires=600",
                        "Content-Length: 0", "", ""])
    return {**request, "time": t, "direction": "received", "message": text}


def main():
    first, second = register(1, "a", 0.0), register(3, "b", 300.0)  # CSeq 2 skipped
    records = [first, ok(first, 0.01), second, ok(second, 300.01)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        report = audit_paths([path])
    print(report.summary())
    for f in report.findings:
        print(f"  {f.level} {f.rule_id}: {f.explanation} (messages {list(f.evidence.messages)})")
    assert report.rule_ids() == {"RFC3261-10.2-CSEQ-INCREMENT"}
    return report.exit_code


if __name__ == "__main__":
    sys.exit(0 if main() == 1 else 1)  # the planted MUST violation is expected
