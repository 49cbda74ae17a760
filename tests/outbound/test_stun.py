"""The STUN codec against RFC 5389's own layout (header, XOR-MAPPED-ADDRESS, FINGERPRINT), with
expected bytes built here by hand from the RFC's description, not by the codec."""

from __future__ import annotations

import contextlib
import ipaddress
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.errors import ParseError
from sipfsm.outbound.stun import binding_request, binding_success, decode_stun, looks_like_stun

COOKIE = bytes.fromhex("2112a442")  # RFC 5389 §6: the magic cookie
transaction_ids = st.binary(min_size=12, max_size=12)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
ports = st.integers(min_value=1, max_value=65535)


def test_binding_request_layout() -> None:
    tid = bytes(range(12))
    # type 0x0001, length 0, cookie, transaction id (RFC 5389 §6, Figure 2)
    assert binding_request(tid) == b"\x00\x01\x00\x00" + COOKIE + tid


@given(transaction_ids, st.one_of(ipv4, ipv6), ports)
def test_xor_mapped_address_round_trip_and_layout(tid: bytes, host: str, port: int) -> None:
    data = binding_success(tid, host, port)
    assert data[:2] == b"\x01\x01" and data[4:8] == COOKIE and data[8:20] == tid
    attr_type, attr_len = struct.unpack("!HH", data[20:24])
    assert attr_type == 0x0020
    value = data[24:24 + attr_len]
    x_port = struct.unpack("!H", value[2:4])[0]
    assert x_port ^ 0x2112 == port  # §15.2: port XOR the cookie's top 16 bits
    address = ipaddress.ip_address(host)
    key = COOKIE if address.version == 4 else COOKIE + tid
    raw = bytes(a ^ b for a, b in zip(value[4:], key, strict=True))
    assert ipaddress.ip_address(raw) == address
    decoded = decode_stun(data)
    assert decoded.mapped_address == (str(address), port)
    assert decoded.transaction_id == tid and decoded.is_binding_response


@given(transaction_ids, ipv4, ports)
def test_fingerprint_is_crc32_xor_stun(tid: bytes, host: str, port: int) -> None:
    data = binding_success(tid, host, port, fingerprint=True)
    body, fingerprint = data[:-8], data[-8:]
    assert fingerprint[:4] == b"\x80\x28\x00\x04"
    expected = (zlib.crc32(body) & 0xFFFFFFFF) ^ 0x5354554E  # §15.5
    assert struct.unpack("!I", fingerprint[4:])[0] == expected
    assert decode_stun(data).fingerprint_ok is True
    tampered = data[:-1] + bytes([data[-1] ^ 1])
    assert decode_stun(tampered).fingerprint_ok is False


@given(st.binary(max_size=64))
def test_garbage_is_a_parse_error_never_a_crash(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_stun(data)


@pytest.mark.parametrize("text", [b"REGISTER sip:a SIP/2.0\r\n\r\n", b"\r\n\r\n", b""])
def test_sip_and_keepalive_crlf_are_not_stun(text: bytes) -> None:
    assert not looks_like_stun(text)
