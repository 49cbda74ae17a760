"""Readers: sipfsm JSON-lines traces, pcap / pcapng captures, SIPp ``-trace_msg`` logs and plain
text (messages one after another) -> :class:`~sipfsm.audit.model.Observation` lists.

The format is recognised from the first bytes.  Captures are read with ``dpkt`` (the ``audit``
extra): Ethernet, Linux cooked (SLL, SLL2), BSD loopback and raw IP link layers, IPv4 and IPv6,
UDP datagrams and TCP streams (reassembled per direction by sequence number, then framed by
Content-Length).  Packets that carry no SIP are skipped and counted.  Anything unreadable raises
:class:`~sipfsm.audit.model.AuditInputError`, naming the file and where.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sipfsm.audit.model import AuditInputError, Observation
from sipfsm.errors import ParseError, RemoteProtocolError
from sipfsm.message import parse
from sipfsm.message.framing import ByteStreamFramer

__all__ = ["READERS", "detect_format", "observations_from_records", "read_observations"]

_PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_NL = b"\n"
_SIPP_SEPARATOR = re.compile(rb"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s*$", re.M)
_SIPP_HEADER = re.compile(
    rb"^(UDP|TCP|TLS|SCTP) message (sent|received) [\(\[](\d+)\]? ?bytes\)? ?:", re.I
)
_START_LINE = re.compile(rb"^(?:[A-Za-z]+ \S+ SIP/2\.0|SIP/2\.0 \d{3}(?: [^\r\n]*)?)\r?$", re.M)
_CONTENT_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", re.I | re.M)
_VIA_TRANSPORT = re.compile(
    rb"^(?:via|v)[ \t]*:[ \t]*SIP[ \t]*/[ \t]*2\.0[ \t]*/[ \t]*([A-Za-z]+)", re.I | re.M
)
_REQUEST_START = re.compile(rb"^[A-Za-z]+ [^ \r\n]+ SIP/")


class _Builder:
    """Numbers observations and parses their bytes (parse errors kept, not raised)."""

    def __init__(self, start: int = 1) -> None:
        self.observations: list[Observation] = []
        self.ignored = 0
        self._next = start
        self._parsed: dict[bytes, Any] = {}

    def add(
        self,
        raw: bytes,
        *,
        time: float | None,
        transport: str,
        source: str,
        destination: str,
        where: str,
        view: str = "",
    ) -> None:
        if not raw.strip(b"\r\n \t"):
            return  # keep-alive
        cached = self._parsed.get(raw)
        if cached is None:
            try:
                cached = parse(raw)
            except ParseError as exc:
                cached = str(exc)
            except (TypeError, ValueError) as exc:  # defensive: never a traceback
                cached = f"{type(exc).__name__}: {exc}"
            if len(self._parsed) < 4096:  # retransmissions repeat the very bytes
                self._parsed[raw] = cached
        message, error = (None, cached) if isinstance(cached, str) else (cached, None)
        self.observations.append(
            Observation(self._next, time, transport.upper(), source, destination, raw, message,
                        error, where, view)
        )
        self._next += 1

    def finish(self) -> list[Observation]:
        """One point of view.  A trace may hold both ends of each message (the simulator's
        recorder does): when some lines were recorded by a client (the sender of REGISTERs),
        the lines other parties recorded are dropped, and the rest renumbered."""
        clients = {
            o.source for o in self.observations
            if o.view and o.raw[:9].upper() == b"REGISTER "
        }
        if not any(o.view in clients for o in self.observations):
            return self.observations
        kept = [o for o in self.observations if not o.view or o.view in clients]
        if len(kept) == len(self.observations):
            return kept
        self.observations = [replace(o, number=i) for i, o in enumerate(kept, 1)]
        return self.observations


def detect_format(head: bytes) -> str:
    """``pcap``, ``pcapng``, ``jsonl``, ``sipp`` or ``text`` from a file's first bytes."""
    if head[:4] in _PCAP_MAGICS:
        return "pcap"
    if head[:4] == _PCAPNG_MAGIC:
        return "pcapng"
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return "jsonl"
    if _SIPP_SEPARATOR.match(stripped.split(b"\n", 1)[0] + b"\n"):
        return "sipp"
    return "text"


def read_observations(
    paths: Iterable[str | Path], *, fmt: str | None = None
) -> tuple[list[Observation], int]:
    """Read every file (in order) into one numbered list; returns (observations, ignored)."""
    builder = _Builder()
    for path in paths:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise AuditInputError(f"cannot read {path}: {exc.strerror or exc}") from None
        kind = fmt or detect_format(data[:256])
        reader = READERS.get(kind)
        if reader is None:
            raise AuditInputError(f"unknown input format {kind!r} (one of {sorted(READERS)})")
        reader(data, str(path), builder)
    return builder.finish(), builder.ignored


# -- JSON lines -----------------------------------------------------------------------------------


def _read_jsonl(data: bytes, name: str, builder: _Builder) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuditInputError(f"{name}: not UTF-8 text at byte {exc.start}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AuditInputError(f"{where}: not JSON: {exc.msg}") from None
        _add_record(raw, where, builder)


def _add_record(raw: object, where: str, builder: _Builder) -> None:
    if not isinstance(raw, Mapping):
        raise AuditInputError(f"{where}: a trace record must be a JSON object")
    missing = [k for k in ("direction", "local", "remote", "message") if k not in raw]
    if missing:
        raise AuditInputError(f"{where}: trace record lacks {', '.join(missing)}")
    direction = raw["direction"]
    if direction not in ("sent", "received"):
        raise AuditInputError(f"{where}: direction {direction!r} is not sent/received")
    local, remote, message = raw["local"], raw["remote"], raw["message"]
    transport = raw.get("transport", "UDP")
    if not all(isinstance(v, str) for v in (local, remote, message, transport)):
        raise AuditInputError(f"{where}: local, remote, transport and message must be strings")
    time = raw.get("time")
    if time is not None:
        if isinstance(time, bool) or not isinstance(time, int | float):
            raise AuditInputError(f"{where}: 'time' is not a number")
        time = float(time)
    source, destination = (local, remote) if direction == "sent" else (remote, local)
    builder.add(message.encode("utf-8"), time=time, transport=transport, source=source,
                destination=destination, where=where, view=local)


def observations_from_records(records: Iterable[object]) -> list[Observation]:
    """Observations from trace records already in memory (dicts in the JSON-lines format, or
    Observations, renumbered in order)."""
    builder = _Builder()
    for i, raw in enumerate(records, 1):
        if isinstance(raw, Observation):
            builder.add(raw.raw, time=raw.time, transport=raw.transport, source=raw.source,
                        destination=raw.destination, where=raw.where, view=raw.view)
        else:
            _add_record(raw, f"record {i}", builder)
    return builder.finish()


# -- SIPp -trace_msg ------------------------------------------------------------------------------


def _read_sipp(data: bytes, name: str, builder: _Builder) -> None:
    marks = list(_SIPP_SEPARATOR.finditer(data))
    if not marks:
        raise AuditInputError(f"{name}: no SIPp message separators found")
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(data)
        block = data[mark.end():end].lstrip(b"\r\n")
        where = f"{name}:{data.count(_NL, 0, mark.start()) + 1}"
        head, _, rest = block.partition(b"\n")
        header = _SIPP_HEADER.match(head.strip())
        if header is None:
            builder.ignored += 1  # SIPp also logs non-message lines; not ours to judge
            continue
        try:
            stamp = datetime.strptime(mark.group(1).decode(), "%Y-%m-%d %H:%M:%S.%f")
        except ValueError:
            try:
                stamp = datetime.strptime(mark.group(1).decode(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise AuditInputError(f"{where}: bad SIPp timestamp") from None
        transport = header.group(1).decode().upper()
        sent = header.group(2).lower() == b"sent"
        raw = _normalise(rest.lstrip(b"\r\n"))
        source, destination = ("local", "remote") if sent else ("remote", "local")
        builder.add(raw, time=stamp.timestamp(), transport=transport, source=source,
                    destination=destination, where=where)


def _normalise(text: bytes) -> bytes:
    """A logged message with CRLF line ends restored in the header section and the body cut to
    its Content-Length (logs add blank lines between messages)."""
    text = text.replace(b"\r\n", b"\n")
    head, _sep, body = text.partition(b"\n\n")
    head_crlf = head.strip(b"\n").replace(b"\n", b"\r\n") + b"\r\n\r\n"
    length = _CONTENT_LENGTH.search(head_crlf)
    if length is not None:
        n = int(length.group(1))
        body = body[:n]
        if len(body) < n:  # the log stripped the body's line ends: restore CRLF ones
            body = body.replace(b"\n", b"\r\n")[:n]
    else:
        body = body.rstrip(b"\n")
    return head_crlf + body


# -- plain text -----------------------------------------------------------------------------------


def _read_text(data: bytes, name: str, builder: _Builder) -> None:
    starts = [m.start() for m in _START_LINE.finditer(data)]
    if not starts:
        raise AuditInputError(
            f"{name}: not a trace, capture or SIPp log, and no SIP start line found"
        )
    if data[: starts[0]].strip():
        line = data.count(b"\n", 0, starts[0]) + 1
        raise AuditInputError(f"{name}:1-{line}: text before the first SIP message")
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        raw = _normalise(data[start:end])
        is_request = not raw.startswith(b"SIP/2.0 ")
        source, destination = ("client", "server") if is_request else ("server", "client")
        # Plain text does not say how a message travelled: take what its top Via declares.
        declared = _VIA_TRANSPORT.search(raw)
        transport = declared.group(1).decode("ascii") if declared else "UDP"
        builder.add(raw, time=None, transport=transport, source=source,
                    destination=destination, where=f"{name}:{data.count(_NL, 0, start) + 1}")


# -- pcap / pcapng --------------------------------------------------------------------------------


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _looks_like_sip(payload: bytes) -> bool:
    """SIP/2.0 in the first line, or a request line naming another SIP version (kept: the
    audit reports a REGISTER that does not parse, it does not skip it)."""
    first = payload.lstrip(b"\r\n")[:200].split(b"\n", 1)[0]
    return b"SIP/2.0" in first or _REQUEST_START.match(first) is not None


class _TcpStream:
    """One direction of a TCP connection: reassembly by sequence number, then framing."""

    KEEP = 1 << 20  # bytes of a stream kept to show what could not be framed

    def __init__(self) -> None:
        self.next_seq: int | None = None
        self.pending: dict[int, bytes] = {}
        self.framer = ByteStreamFramer()
        self.dead = False
        self.seen = bytearray()  # the in-order bytes so far (up to KEEP)
        self.unframed: list[bytes] = []  # messages cut from the stream after framing failed

    def feed(self, seq: int, payload: bytes, syn: bool) -> list[bytes]:
        if syn:
            self.next_seq = (seq + 1) & 0xFFFFFFFF
            return []
        if not payload or self.dead:
            return []
        if self.next_seq is None:
            self.next_seq = seq
        offset = (seq - self.next_seq) & 0xFFFFFFFF
        if offset >= 0x80000000:  # old data (a TCP retransmission), maybe overlapping new
            overlap = (self.next_seq - seq) & 0xFFFFFFFF
            if overlap >= len(payload):
                return []
            payload, seq = payload[overlap:], self.next_seq
        elif offset > 0:
            self.pending.setdefault(seq, payload)
            return []
        data = bytearray(payload)
        self.next_seq = (seq + len(payload)) & 0xFFFFFFFF
        while self.next_seq in self.pending:
            more = self.pending.pop(self.next_seq)
            data += more
            self.next_seq = (self.next_seq + len(more)) & 0xFFFFFFFF
        if len(self.seen) < self.KEEP:
            self.seen += data
        try:
            return self.framer.feed(bytes(data))
        except (ParseError, RemoteProtocolError) as exc:
            # Not SIP, or broken framing (RFC 3261 §18.3: no Content-Length): stop reading this
            # stream, but hand on what it held from the failing message on, cut at start lines,
            # so that the rules see the message that broke it.
            self.dead = True
            failed_at = getattr(exc, "offset", None)
            rest = bytes(self.seen[failed_at:]) if isinstance(failed_at, int) else b""
            starts = [m.start() for m in _START_LINE.finditer(rest)]
            if starts and not rest[:starts[0]].strip(b"\r\n"):
                self.unframed = [rest[a:b] for a, b in zip(starts, [*starts[1:], len(rest)],
                                                             strict=True)]
            return []


def _read_capture(data: bytes, name: str, builder: _Builder) -> None:
    try:
        import dpkt
    except ImportError:  # pragma: no cover - depends on the installation
        raise AuditInputError(
            f"{name}: reading captures needs dpkt (pip install 'sipfsm[audit]')"
        ) from None
    import io
    from ipaddress import ip_address

    def ip_text(raw: bytes) -> str:
        return str(ip_address(raw))

    try:
        if data[:4] == _PCAPNG_MAGIC:
            reader: Any = dpkt.pcapng.Reader(io.BytesIO(data))
        else:
            reader = dpkt.pcap.Reader(io.BytesIO(data))
        linktype = reader.datalink()
    except (ValueError, dpkt.dpkt.Error, struct_error()) as exc:
        raise AuditInputError(f"{name}: not a readable capture: {exc}") from None
    streams: dict[tuple[str, str], _TcpStream] = {}
    frame = 0
    try:
        for timestamp, packet in reader:
            frame += 1
            ip = _network_layer(dpkt, linktype, packet)
            if ip is None:
                builder.ignored += 1
                continue
            transport_layer = ip.data
            src_ip, dst_ip = ip_text(ip.src), ip_text(ip.dst)
            where = f"{name}#{frame}"
            if isinstance(transport_layer, dpkt.udp.UDP):
                payload = bytes(transport_layer.data)
                if not _looks_like_sip(payload):
                    builder.ignored += 1
                    continue
                builder.add(payload, time=float(timestamp), transport="UDP",
                            source=_address(src_ip, transport_layer.sport),
                            destination=_address(dst_ip, transport_layer.dport), where=where)
            elif isinstance(transport_layer, dpkt.tcp.TCP):
                source = _address(src_ip, transport_layer.sport)
                destination = _address(dst_ip, transport_layer.dport)
                stream = streams.setdefault((source, destination), _TcpStream())
                syn = bool(transport_layer.flags & dpkt.tcp.TH_SYN)
                framed = stream.feed(transport_layer.seq, bytes(transport_layer.data), syn)
                framed += stream.unframed
                stream.unframed = []
                for raw in framed:
                    if _looks_like_sip(raw):
                        builder.add(raw, time=float(timestamp), transport="TCP", source=source,
                                    destination=destination, where=where)
            else:
                builder.ignored += 1
    except (ValueError, dpkt.dpkt.Error, struct_error()) as exc:
        raise AuditInputError(f"{name}#{frame + 1}: truncated or malformed capture: {exc}") \
            from None


def struct_error() -> type[Exception]:
    import struct

    return struct.error


def _network_layer(dpkt: Any, linktype: int, packet: bytes) -> Any:
    """The IP / IPv6 packet inside one captured frame, or None (not IP, or a fragment)."""
    try:
        if linktype == dpkt.pcap.DLT_EN10MB:
            frame: Any = dpkt.ethernet.Ethernet(packet)
            ip = frame.data
        elif linktype == dpkt.pcap.DLT_LINUX_SLL:
            ip = dpkt.sll.SLL(packet).data
        elif linktype == 276:  # DLT_LINUX_SLL2
            ip = dpkt.sll2.SLL2(packet).data
        elif linktype in (dpkt.pcap.DLT_NULL, dpkt.pcap.DLT_LOOP):
            ip = dpkt.loopback.Loopback(packet).data
        elif linktype in (dpkt.pcap.DLT_RAW, 12, 14, 228, 229):
            version = packet[0] >> 4 if packet else 0
            ip = dpkt.ip.IP(packet) if version == 4 else dpkt.ip6.IP6(packet)
        else:
            return None
    except (dpkt.dpkt.Error, ValueError, IndexError):
        return None
    if isinstance(ip, dpkt.ip.IP):
        if ip.mf or ip.offset:
            return None  # an IPv4 fragment: not reassembled
        return ip
    if isinstance(ip, dpkt.ip6.IP6):
        return ip
    return None


READERS = {
    "jsonl": _read_jsonl,
    "sipp": _read_sipp,
    "text": _read_text,
    "pcap": _read_capture,
    "pcapng": _read_capture,
}


def iter_kinds() -> Iterator[str]:
    return iter(READERS)
