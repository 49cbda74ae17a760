"""The pure helpers behind +sip.instance / reg-id and the 200's GRUU, Path, Flow-Timer."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.errors import ConfigError
from sipfsm.message import Response, SipUri, parse
from sipfsm.outbound.registration import (
    contact_parameters,
    instance_urn,
    read_extensions,
    validate_instance,
)


@given(st.text(min_size=1, max_size=40))
def test_instance_urn_is_a_stable_uuid_urn(seed: str) -> None:
    urn = instance_urn(seed)
    assert urn == instance_urn(seed)
    assert urn.startswith("urn:uuid:")
    assert uuid.UUID(urn[len("urn:uuid:"):]).version == 5


@given(st.uuids())
def test_bare_uuid_becomes_a_urn(value: uuid.UUID) -> None:
    assert validate_instance(str(value)) == f"urn:uuid:{value}"


@pytest.mark.parametrize("bad", ["", "alice", "urn:", "<urn:uuid:x>", 'urn:x:"y"'])
def test_bad_instance_ids_are_config_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        validate_instance(bad)


@given(st.uuids(), st.integers(1, 2**31 - 1))
def test_contact_parameters_quote_the_urn_in_angle_brackets(value: uuid.UUID, reg_id: int
                                                            ) -> None:
    urn = f"urn:uuid:{value}"
    assert contact_parameters(urn, reg_id) == f';+sip.instance="<{urn}>";reg-id={reg_id}'
    assert contact_parameters(urn, None) == f';+sip.instance="<{urn}>"'
    assert contact_parameters(None, None) == ""
    with pytest.raises(ConfigError):
        contact_parameters(None, reg_id)


URN = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"


def _ok(*lines: str) -> Response:
    text = ("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bK-1\r\n"
            "To: <sip:alice@example.com>;tag=t\r\nFrom: <sip:alice@example.com>;tag=f\r\n"
            "Call-ID: c\r\nCSeq: 2 REGISTER\r\n" + "".join(f"{line}\r\n" for line in lines)
            + "Content-Length: 0\r\n\r\n")
    message = parse(text.encode())
    assert isinstance(message, Response)
    return message


def test_gruus_of_our_binding_path_flow_timer_and_require() -> None:
    ours = SipUri(scheme="sip", user="alice", host="192.0.2.4", port=5070)
    response = _ok(
        "Require: outbound", "Flow-Timer: 25",
        "Path: <sip:edge1.example.com;lr;ob>", "Path: <sip:edge2.example.com;lr>",
        'Contact: <sip:alice@192.0.2.9>;expires=100;+sip.instance="<urn:uuid:other>"'
        ';pub-gruu="sip:alice@example.com;gr=urn:uuid:other"',
        f'Contact: <sip:alice@192.0.2.4:5070>;expires=600;+sip.instance="<{URN}>";reg-id=1'
        f';pub-gruu="sip:alice@example.com;gr={URN}"'
        ';temp-gruu="sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@example.com;gr"')
    found = read_extensions(response, [ours], URN)
    assert found.pub_gruu == f"sip:alice@example.com;gr={URN}"
    assert found.temp_gruu == "sip:tgruu.7hs==jd7vnzga5w7fajsc7-ajd6fabz0f8g5@example.com;gr"
    assert found.path == ("sip:edge1.example.com;lr;ob", "sip:edge2.example.com;lr")
    assert found.flow_timer == 25 and found.outbound


def test_a_plain_200_says_nothing_and_bad_values_are_ignored() -> None:
    plain = read_extensions(_ok("Contact: <sip:alice@192.0.2.4>;expires=60"), [], None)
    assert (plain.pub_gruu, plain.temp_gruu, plain.path, plain.flow_timer, plain.outbound) == (
        None, None, (), None, False)
    odd = read_extensions(_ok("Flow-Timer: soon"), [], None)
    assert odd.flow_timer is None
