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
