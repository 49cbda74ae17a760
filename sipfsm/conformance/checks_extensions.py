"""Conformance checks for the REGISTER side of RFC 5626 (outbound), RFC 5627 (GRUU) and RFC 3327
(Path) (spec/outbound.toml, spec/gruu.toml, spec/path.toml).

The client runs in the simulator against a scripted registrar; hypothesis chooses the instance
id, the reg-id, the contacts and what the 200 carries (GRUUs, Path values, Flow-Timer).  Expected
values are built here from the RFCs' syntax, never read from the code under test.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sipfsm.conformance.harness import World, default_config, reply
from sipfsm.conformance.registry import check, expect
from sipfsm.message import Request, Response
from sipfsm.registration import Refreshed, Registered

instances = st.uuids().map(lambda u: f"urn:uuid:{u}")
reg_ids = st.integers(1, 2**31 - 1)
hosts = st.sampled_from(["edge1.example.com", "edge2.example.net", "192.0.2.77", "[2001:db8::7]"])


def _registers(world: World) -> list[Request]:
    return world.sent_registers()


def _first_registered(world: World) -> Any:
    events = world.events_of(Registered)
    assert events, [e for _, e in world.events]
    return events[0]


@check("RFC5626-4.2-INSTANCE-AND-REG-ID", "RFC5627-4.1-INSTANCE-ID")
@given(instances, reg_ids)
def every_contact_carries_the_instance_and_reg_id(instance: str, reg_id: int) -> None:
    """Each Contact of a REGISTER that adds a binding carries ``+sip.instance`` with the URN in
    angle brackets inside a quoted string, and the flow's ``reg-id``."""
    world = World(config=default_config(instance_id=instance, reg_id=reg_id, expires=600))
    world.client.register()
    world.run(5)
    (request,) = _registers(world)
    for contact in request.contacts:
        for rid in ("RFC5626-4.2-INSTANCE-AND-REG-ID", "RFC5627-4.1-INSTANCE-ID"):
            expect(rid, contact.params.get("+sip.instance") == f'"<{instance}>"',
                   f"+sip.instance={contact.params.get('+sip.instance')!r}")
        expect("RFC5626-4.2-INSTANCE-AND-REG-ID", contact.params.get("reg-id") == str(reg_id),
               f"reg-id={contact.params.get('reg-id')!r}, the flow is {reg_id}")


@check("RFC5626-4.2-SUPPORTED-OUTBOUND", "RFC5627-4.1-SUPPORTED-GRUU", "RFC3327-5.1-SUPPORTED-PATH")
@given(st.none() | instances, st.booleans())
def supported_lists_outbound_gruu_and_path(instance: str | None, with_reg_id: bool) -> None:
    """Every REGISTER says ``Supported: outbound, gruu, path`` (RFC 3261 §8.1.1.9: the option
    tags of the extensions the client implements)."""
    reg_id = 1 if instance is not None and with_reg_id else None
    world = World(config=default_config(instance_id=instance, reg_id=reg_id))
    world.client.register()
    world.run(5)
    (request,) = _registers(world)
    tags = {t.lower() for t in request.supported}
    for rid, tag in (("RFC5626-4.2-SUPPORTED-OUTBOUND", "outbound"),
                     ("RFC5627-4.1-SUPPORTED-GRUU", "gruu"),
                     ("RFC3327-5.1-SUPPORTED-PATH", "path")):
        expect(rid, tag in tags, f"Supported: {request.headers.get('Supported')} lacks {tag}")


def _gruu_responder(pub: str, temp: str, paths: list[str], flow_timer: int | None,
                    outbound: bool) -> Any:
    def answer(request: Request, registrar: Any) -> Response:
        extra: list[tuple[str, str]] = []
        for contact in request.contacts:
            params = "".join(f";{k}={v}" if v is not None else f";{k}"
                             for k, v in contact.params.items() if k != "expires")
            extra.append(("Contact", f'<{contact.uri}>;expires=600{params}'
                                     f';pub-gruu="{pub}";temp-gruu="{temp}"'))
        extra += [("Path", f"<{p}>") for p in paths]
        if flow_timer is not None:
            extra.append(("Flow-Timer", str(flow_timer)))
        if outbound:
            extra.append(("Require", "outbound"))
        return reply(request, 200, headers=extra)

    return answer


@check("RFC5627-4.1-READ-GRUUS", "RFC3327-5.1-PATH-REPORTED", "RFC5626-4.4-FLOW-TIMER-READ")
@given(instances, st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=4,
                          max_size=24), st.lists(hosts, max_size=3),
       st.none() | st.integers(1, 600), st.booleans())
def gruus_path_and_flow_timer_are_reported(instance: str, token: str, path_hosts: list[str],
                                           flow_timer: int | None, outbound: bool) -> None:
    """The pub-gruu and temp-gruu the 200 gives our contact, the Path values in order, the
    Flow-Timer and ``Require: outbound`` are on the Registered event (and a refresh's)."""
    pub = f"sip:alice@example.com;gr={instance}"
    temp = f"sip:tgruu.{token}@example.com;gr"
    paths = [f"sip:{h};lr" for h in path_hosts]
    world = World(_gruu_responder(pub, temp, paths, flow_timer, outbound),
                  config=default_config(instance_id=instance, reg_id=1, expires=600))
    world.client.register()
    world.run(5)
    event = _first_registered(world)
    expect("RFC5627-4.1-READ-GRUUS", event.pub_gruu == pub and event.temp_gruu == temp,
           f"reported {event.pub_gruu} / {event.temp_gruu}, the 200 gave {pub} / {temp}")
    expect("RFC3327-5.1-PATH-REPORTED", list(event.path) == paths,
           f"reported Path {list(event.path)}, the 200 gave {paths}")
    expect("RFC5626-4.4-FLOW-TIMER-READ",
           event.flow_timer == flow_timer and event.outbound is outbound,
           f"reported Flow-Timer {event.flow_timer} outbound {event.outbound}, the 200 gave "
           f"{flow_timer} {outbound}")
    world.run(600)
    refreshed = world.events_of(Refreshed)
    expect("RFC5627-4.1-READ-GRUUS", refreshed and refreshed[0].pub_gruu == pub,
           f"after the refresh: {refreshed[:1]}")


@check("RFC5626-4.1-INSTANCE-URN")
@given(st.text(min_size=1, max_size=30))
def the_default_instance_id_is_a_stable_uuid_urn(seed: str) -> None:
    """The instance id is a UUID URN (RFC 4122), the same every time for the same client."""
    from sipfsm.outbound.registration import instance_urn

    first, second = instance_urn(seed), instance_urn(seed)
    assert first == second and first.startswith("urn:uuid:")
    assert uuid.UUID(first[len("urn:uuid:"):])
