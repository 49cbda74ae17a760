"""The fast paths take the common shapes (their agreement with the careful parsers, and the
caches, are checked in sipfsm/conformance/checks_message_fuzz.py)."""

from __future__ import annotations

from sipfsm.message import _fast


def test_the_fast_paths_take_the_common_shapes() -> None:
    assert _fast.name_addr('"Bob" <sip:bob@biloxi.com>;tag=1') is not None
    assert (
        _fast.name_addr("Bob <sip:bob@192.0.2.4:5060;transport=tcp>;expires=60;q=0.5") is not None
    )
    assert _fast.via("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1;rport") is not None
