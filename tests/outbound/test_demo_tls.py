"""``sipfsm demo --tls``: the whole lifecycle over TLS with a throwaway CA, no set-up."""

from __future__ import annotations

import asyncio
import io

from sipfsm.demo import run_demo


def test_demo_over_tls() -> None:
    out = io.StringIO()
    code = asyncio.run(asyncio.wait_for(run_demo(out, timeout=15.0, tls=True), 60))
    text = out.getvalue()
    assert code == 0, text
    assert "embedded registrar on tls:127.0.0.1:" in text
    assert "demo complete" in text


def test_demo_outbound_over_tls() -> None:
    from sipfsm.aio.outbound_demo import run_outbound_demo

    out = io.StringIO()
    code = asyncio.run(asyncio.wait_for(run_outbound_demo(out, timeout=15.0, tls=True), 60))
    text = out.getvalue()
    assert code == 0, text
    assert "flow 1: up -> registering (connection closed)" in text
    assert "stun keep-alives, mapped 127.0.0.1:" in text
    assert "demo complete" in text
