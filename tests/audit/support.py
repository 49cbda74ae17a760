"""Hand-built registration traces for the audit tests: a clean base exchange and knobs to plant
exactly one violation.  Digest credentials come from sipfsm.auth (not the audit's reference)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipfsm.auth import build_authorization

CLIENT = "192.0.2.10:5062"
REGISTRAR = "192.0.2.1:5060"
PASSWORD = "secret"
AOR = "sip:alice@example.com"
CONTACT = "<sip:alice@192.0.2.10:5062>"
OTHER_CONTACT = "<sip:alice@198.51.100.7:5060>"
CHALLENGE = 'Digest realm="example.com", nonce="n1", qop="auth", opaque="op1", algorithm=MD5'


def credentials(
    challenge: str = CHALLENGE,
    *,
    uri: str = "sip:example.com",
    nc: int = 1,
    cnonce: str = "c0ffee01",
    password: str = PASSWORD,
) -> str:
    return build_authorization(challenge, method="REGISTER", uri=uri, username="alice",
                               password=password, cnonce=cnonce, nc=nc)


@dataclass
class Msg:
    """One message of a trace being built; ``headers`` in order, easy to edit in a test."""

    start: str
    headers: list[tuple[str, str]]
    time: float
    sent: bool = True  # sent by the client
    transport: str = "UDP"
    content_length: bool = True  # False: no Content-Length row at all

    def header(self, name: str) -> str | None:
        for n, v in self.headers:
            if n.lower() == name.lower():
                return v
        return None

    def set(self, name: str, value: str | None) -> Msg:
        """Replace (None: remove) the header ``name``; appended when absent."""
        out, done = [], False
        for n, v in self.headers:
            if n.lower() == name.lower():
                if value is not None and not done:
                    out.append((n, value))
                done = True
            else:
                out.append((n, v))
        if not done and value is not None:
            out.append((name, value))
        self.headers = out
        return self

    def text(self) -> str:
        lines = [self.start, *(f"{n}: {v}" for n, v in self.headers),
                 *(["Content-Length: 0"] if self.content_length else [])]
        return "\r\n".join(lines) + "\r\n\r\n"

    def record(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "direction": "sent" if self.sent else "received",
            "transport": self.transport,
            "local": CLIENT,
            "remote": REGISTRAR,
            "message": self.text(),
        }

    def copy(self, time: float) -> Msg:
        return Msg(self.start, list(self.headers), time, self.sent, self.transport,
                   self.content_length)


@dataclass
class Trace:
    messages: list[Msg] = field(default_factory=list)
    call_id: str = "reg-1@192.0.2.10"

    def register(
        self,
        time: float,
        cseq: int,
        *,
        branch: str | None = None,
        expires: str | None = "60",
        contact: str | None = CONTACT,
        authorization: str | None = None,
        call_id: str | None = None,
        transport: str = "UDP",
    ) -> Msg:
        via = f"SIP/2.0/{transport} 192.0.2.10:5062;branch={branch or f'z9hG4bKb{cseq}'}"
        headers = [
            ("Via", via),
            ("Max-Forwards", "70"),
            ("To", f"<{AOR}>"),
            ("From", f"<{AOR}>;tag=ft1"),
            ("Call-ID", call_id or self.call_id),
            ("CSeq", f"{cseq} REGISTER"),
        ]
        if contact is not None:
            headers.append(("Contact", contact))
        if expires is not None:
            headers.append(("Expires", expires))
        if authorization is not None:
            headers.append(("Authorization", authorization))
        msg = Msg("REGISTER sip:example.com SIP/2.0", headers, time, True, transport)
        self.messages.append(msg)
        return msg

    def retransmit(self, request: Msg, time: float) -> Msg:
        msg = request.copy(time)
        self.messages.append(msg)
        return msg

    def respond(self, request: Msg, time: float, status: int, reason: str = "",
                *extra: tuple[str, str]) -> Msg:
        headers = [(n, v) for n, v in request.headers
                   if n in ("Via", "From", "Call-ID", "CSeq")]
        to = request.header("To") or ""
        headers.insert(1, ("To", to + (";tag=rt1" if status > 100 else "")))
        headers += list(extra)
        msg = Msg(f"SIP/2.0 {status} {reason or 'X'}", headers, time, False, request.transport)
        self.messages.append(msg)
        return msg

    def records(self) -> list[dict[str, Any]]:
        return [m.record() for m in sorted(self.messages, key=lambda m: m.time)]


def base(*, transport: str = "UDP") -> Trace:
    """Clean: REGISTER (one retransmission over UDP) -> 401 -> REGISTER with credentials -> 200,
    a refresh at 30 s -> 200, an unregister at 60 s -> 200."""
    trace = Trace()
    r1 = trace.register(0.0, 1, transport=transport)
    if transport == "UDP":
        trace.retransmit(r1, 0.5)
    trace.respond(r1, 0.6, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = trace.register(0.61, 2, authorization=credentials(nc=1), transport=transport)
    trace.respond(r2, 0.62, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    r3 = trace.register(30.0, 3, authorization=credentials(nc=2, cnonce="c0ffee02"),
                        transport=transport)
    trace.respond(r3, 30.01, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    r4 = trace.register(60.0, 4, expires="0", authorization=credentials(nc=3, cnonce="c0ffee03"),
                        transport=transport)
    trace.respond(r4, 60.01, 200, "OK")
    return trace
