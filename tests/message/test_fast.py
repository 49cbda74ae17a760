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


# -- the text a fast-path URI prints is the one the careful parser's URI prints ----------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sipfsm import strategies as sip  # noqa: E402
from sipfsm.message.values import _parse_addr  # noqa: E402


@given(
    st.one_of(
        sip.name_addrs().map(str),
        sip.contacts().map(str),
        st.sampled_from(
            [
                "<sip:a@h:05060;Lr>;tag=1",  # a port with a leading zero, a parameter in capitals
                "<sip:h:0;transport=TCP>",
                "Bob <sip:bob@192.0.2.4:5060;transport=tcp;lr>;expires=60;q=0.5;X=1",
                '<sip:x>;a="b=c";rport',
            ]
        ),
    )
)
def test_a_fast_path_uri_prints_as_the_careful_one(text: str) -> None:
    fast = _fast.name_addr(text)
    if fast is None:
        return
    careful = _parse_addr(text, "test")
    assert fast == careful
    assert str(fast[0]) == str(careful[0])
    assert dict(fast[2]) == dict(careful[2])
