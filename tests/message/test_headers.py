"""Building Headers (the §7.3 rules on header fields are checked by
sipfsm/conformance/checks_message_headers.py)."""

from __future__ import annotations

import pytest

from sipfsm.errors import LocalProtocolError
from sipfsm.message import Headers


def test_builders_return_new_headers() -> None:
    base = Headers([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1"), ("v", "SIP/2.0/UDP b"), ("X-A", "1")])
    assert base.with_prepended("Via", "SIP/2.0/UDP c").get_lines("v")[0] == "SIP/2.0/UDP c"
    assert list(base.with_replaced("VIA", "SIP/2.0/UDP d")) == [
        ("Via", "SIP/2.0/UDP d"),
        ("X-A", "1"),
    ]
    assert list(base.with_replaced("X-B", "2"))[-1] == ("X-B", "2")
    assert list(base.without("via")) == [("X-A", "1")]
    assert len(base) == 3 and "x-a" in base and "X-B" not in base
    with pytest.raises(LocalProtocolError):
        base.with_added("X-Evil", "a\r\nInjected: yes")
