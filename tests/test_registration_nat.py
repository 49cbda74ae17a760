"""RFC 3581: the address the registrar saw is exposed, and optionally used as the Contact."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from sipfsm.conformance.harness import World, default_config, ok_echo
from sipfsm.message import Request, Response
from sipfsm.ports import HostPort


def natted(public: HostPort):  # type: ignore[no-untyped-def]
    def responder(request: Request, registrar: object) -> Response:
        response = ok_echo(request)
        vias = response.headers.get_all("Via")
        top = f"{vias[0].replace(';rport', '')};received={public.host};rport={public.port}"
        headers = response.headers.without("Via").with_prepended("Via", top)
        return response.with_headers(headers)

    return responder


@given(st.integers(1, 254), st.integers(1024, 65535), st.booleans())
def test_public_address_is_exposed_and_optionally_registered(last: int, port: int,
                                                             rewrite: bool) -> None:
    public = HostPort(f"203.0.113.{last}", port)
    world = World(natted(public), config=replace(default_config(), rewrite_contact=rewrite))
    world.client.register()
    world.run(10)
    assert world.client.public_address == public
    assert world.client.state == "registered"
    contacts = list(world.client.bound_contacts)
    if rewrite:
        assert contacts == [f"sip:alice@{public.host}:{public.port}"]
        regs = world.sent_registers()
        # the public contact was registered before the private one was removed
        assert regs[-1].expires == 0 and str(regs[-1].contacts[0].uri).endswith("10:5060")
    else:
        assert contacts == ["sip:alice@192.0.2.10:5060"]
