"""A tiny STUN codec (RFC 5389): what RFC 5626 §4.4.2 keep-alives need, and nothing more.

Binding requests and responses, XOR-MAPPED-ADDRESS (and the legacy MAPPED-ADDRESS when a server
sends only that), ERROR-CODE read, FINGERPRINT written on request and checked when present.
Pure functions over bytes: no sockets, no clock, no randomness (the caller passes the
transaction id).

RFC 5389 §6 header: two zero bits, a 14-bit message type, a 16-bit length of the attributes
(a multiple of 4), the magic cookie 0x2112A442 and a 96-bit transaction id; attributes are
type-length-value, padded to 4 bytes.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from dataclasses import dataclass

from sipfsm.errors import ParseError

__all__ = [
    "BINDING_ERROR",
    "BINDING_REQUEST",
    "BINDING_SUCCESS",
    "MAGIC_COOKIE",
    "StunMessage",
    "binding_request",
    "binding_success",
    "decode_stun",
    "encode_stun",
    "looks_like_stun",
]

SPEC_STUN = "RFC5626-4.4.2-STUN-KEEPALIVE"

MAGIC_COOKIE = 0x2112A442
HEADER = struct.Struct("!HHI12s")
# RFC 5389 §6: method Binding (0x001) in the four classes.
BINDING_REQUEST = 0x0001
BINDING_SUCCESS = 0x0101
BINDING_ERROR = 0x0111
# RFC 5389 §18.2: attribute types.
ATTR_MAPPED_ADDRESS = 0x0001
ATTR_ERROR_CODE = 0x0009
ATTR_XOR_MAPPED_ADDRESS = 0x0020
ATTR_SOFTWARE = 0x8022
ATTR_FINGERPRINT = 0x8028
FINGERPRINT_XOR = 0x5354554E  # RFC 5389 §15.5: "STUN"
_FAMILY_IPV4 = 0x01
_FAMILY_IPV6 = 0x02


@dataclass(frozen=True, slots=True)
class StunMessage:
    """A decoded STUN message: its type, transaction id and the attributes sipfsm reads."""

    message_type: int
    transaction_id: bytes
    mapped_address: tuple[str, int] | None = None  # XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS
    error_code: int | None = None
    fingerprint_ok: bool | None = None  # None: no FINGERPRINT attribute

    @property
    def is_binding_request(self) -> bool:
        return self.message_type == BINDING_REQUEST

    @property
    def is_binding_response(self) -> bool:
        return self.message_type in (BINDING_SUCCESS, BINDING_ERROR)


def looks_like_stun(data: bytes) -> bool:
    """RFC 5389 §6/§8 demultiplexing: first two bits zero, the magic cookie at bytes 4-7, a
    length that is a multiple of 4 and fits.  A SIP message starts with a letter: never STUN."""
    if len(data) < HEADER.size or data[0] & 0xC0:
        return False
    length = int.from_bytes(data[2:4], "big")
    cookie = int.from_bytes(data[4:8], "big")
    return cookie == MAGIC_COOKIE and length % 4 == 0 and HEADER.size + length == len(data)


def _pad(length: int) -> int:
    return (4 - length % 4) % 4


def _attribute(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\x00" * _pad(len(value))


def _xor_address(host: str, port: int, transaction_id: bytes) -> bytes:
    address = ipaddress.ip_address(host)
    x_port = port ^ (MAGIC_COOKIE >> 16)
    if address.version == 4:
        x_addr = int(address) ^ MAGIC_COOKIE
        return struct.pack("!BBHI", 0, _FAMILY_IPV4, x_port, x_addr)
    key = int.from_bytes(struct.pack("!I", MAGIC_COOKIE) + transaction_id, "big")
    x_addr6 = (int(address) ^ key).to_bytes(16, "big")
    return struct.pack("!BBH", 0, _FAMILY_IPV6, x_port) + x_addr6


def encode_stun(
    message_type: int,
    transaction_id: bytes,
    attributes: list[tuple[int, bytes]] | None = None,
    *,
    fingerprint: bool = False,
) -> bytes:
    """The bytes of a STUN message (attribute values unpadded; padding is added here)."""
    if len(transaction_id) != 12:
        raise ValueError("a STUN transaction id is 96 bits (12 bytes)")
    if message_type & 0xC000:
        raise ValueError("a STUN message type has its two top bits zero")
    body = b"".join(_attribute(kind, value) for kind, value in attributes or [])
    if fingerprint:
        # RFC 5389 §15.5: CRC-32 over the message up to the attribute, with the header length
        # already counting the FINGERPRINT attribute (8 bytes), XORed with 0x5354554e.
        head = HEADER.pack(message_type, len(body) + 8, MAGIC_COOKIE, transaction_id)
        crc = (zlib.crc32(head + body) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
        return head + body + _attribute(ATTR_FINGERPRINT, struct.pack("!I", crc))
    return HEADER.pack(message_type, len(body), MAGIC_COOKIE, transaction_id) + body


def binding_request(transaction_id: bytes, *, fingerprint: bool = False) -> bytes:
    """A Binding request with no attributes (RFC 5626 §4.4.2 needs no authentication)."""
    return encode_stun(BINDING_REQUEST, transaction_id, fingerprint=fingerprint)


def binding_success(
    transaction_id: bytes, host: str, port: int, *, fingerprint: bool = False
) -> bytes:
    """A Binding success response carrying ``host:port`` in XOR-MAPPED-ADDRESS."""
    value = _xor_address(host, port, transaction_id)
    return encode_stun(BINDING_SUCCESS, transaction_id, [(ATTR_XOR_MAPPED_ADDRESS, value)],
                       fingerprint=fingerprint)


def _read_address(value: bytes, transaction_id: bytes, xor: bool) -> tuple[str, int]:
    if len(value) < 4:
        raise ParseError("STUN address attribute too short", spec_id=SPEC_STUN)
    _, family, port = struct.unpack_from("!BBH", value)
    raw = value[4:]
    if xor:
        port ^= MAGIC_COOKIE >> 16
    if family == _FAMILY_IPV4:
        if len(raw) != 4:
            raise ParseError("STUN IPv4 address is not 4 bytes", spec_id=SPEC_STUN)
        number = int.from_bytes(raw, "big") ^ (MAGIC_COOKIE if xor else 0)
        return str(ipaddress.IPv4Address(number)), port
    if family == _FAMILY_IPV6:
        if len(raw) != 16:
            raise ParseError("STUN IPv6 address is not 16 bytes", spec_id=SPEC_STUN)
        key = int.from_bytes(struct.pack("!I", MAGIC_COOKIE) + transaction_id, "big")
        number = int.from_bytes(raw, "big") ^ (key if xor else 0)
        return str(ipaddress.IPv6Address(number)), port
    raise ParseError(f"STUN address family {family} unknown", spec_id=SPEC_STUN)


def decode_stun(data: bytes) -> StunMessage:
    """Decode a STUN message; :class:`ParseError` when it is not one or is malformed."""
    if not looks_like_stun(data):
        raise ParseError("not a STUN message", spec_id=SPEC_STUN)
    message_type, length, _, transaction_id = HEADER.unpack_from(data)
    offset = HEADER.size
    end = HEADER.size + length
    mapped: tuple[str, int] | None = None
    xor_mapped: tuple[str, int] | None = None
    error_code: int | None = None
    fingerprint_ok: bool | None = None
    while offset < end:
        if end - offset < 4:
            raise ParseError("truncated STUN attribute header", offset=offset, spec_id=SPEC_STUN)
        kind, size = struct.unpack_from("!HH", data, offset)
        start = offset + 4
        stop = start + size
        if stop > end:
            raise ParseError("STUN attribute overruns the message", offset=offset,
                             spec_id=SPEC_STUN)
        value = data[start:stop]
        if fingerprint_ok is not None:
            raise ParseError("STUN attribute after FINGERPRINT", offset=offset, spec_id=SPEC_STUN)
        if kind == ATTR_XOR_MAPPED_ADDRESS:
            xor_mapped = _read_address(value, transaction_id, xor=True)
        elif kind == ATTR_MAPPED_ADDRESS:
            mapped = _read_address(value, transaction_id, xor=False)
        elif kind == ATTR_ERROR_CODE:
            if len(value) < 4:
                raise ParseError("STUN ERROR-CODE too short", spec_id=SPEC_STUN)
            error_code = (value[2] & 0x07) * 100 + value[3]
        elif kind == ATTR_FINGERPRINT:
            if size != 4:
                raise ParseError("STUN FINGERPRINT is not 4 bytes", spec_id=SPEC_STUN)
            expected = (zlib.crc32(data[:offset]) & 0xFFFFFFFF) ^ FINGERPRINT_XOR
            fingerprint_ok = struct.unpack("!I", value)[0] == expected
        offset = stop + _pad(size)
    return StunMessage(
        message_type=message_type,
        transaction_id=transaction_id,
        mapped_address=xor_mapped if xor_mapped is not None else mapped,
        error_code=error_code,
        fingerprint_ok=fingerprint_ok,
    )
