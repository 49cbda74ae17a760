"""What message equality means (the round trip ``parse(m.to_bytes()) == m`` is checked by
sipfsm/conformance/checks_message_parse.py)."""

from __future__ import annotations

from sipfsm.message import Headers, Response


def test_equality_ignores_only_content_length() -> None:
    rows = [("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("From", "<sip:a@b.example>;tag=1"),
            ("To", "<sip:a@b.example>"), ("Call-ID", "c"), ("CSeq", "1 OPTIONS")]  # fmt: skip
    a = Response(200, "OK", Headers(rows))
    assert a == Response(200, "OK", Headers([*rows, ("Content-Length", "0")]))
    assert a != Response(200, "OK", Headers(rows[::-1]))
    assert a != Response(200, "Ok", Headers(rows))
    assert a != Response(200, "OK", Headers(rows), b"x")
    assert a.with_body(b"x") == Response(200, "OK", Headers(rows), b"x")
    assert len({a, Response(200, "OK", Headers([*rows, ("l", "7")]))}) == 1
