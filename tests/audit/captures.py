"""Build pcap / pcapng captures of a trace with dpkt, for the reader tests."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import dpkt

EPOCH = 1_700_000_000.0  # capture timestamps: this plus the trace's times


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def _ip(src: str, dst: str, proto: int, payload: Any) -> Any:
    if ":" in src:
        ip6 = dpkt.ip6.IP6(src=socket.inet_pton(socket.AF_INET6, src),
                           dst=socket.inet_pton(socket.AF_INET6, dst), nxt=proto, hlim=64,
                           data=payload)
        ip6.plen = len(bytes(payload))
        return ip6, dpkt.ethernet.ETH_TYPE_IP6
    ip4 = dpkt.ip.IP(src=socket.inet_pton(socket.AF_INET, src),
                     dst=socket.inet_pton(socket.AF_INET, dst), p=proto, ttl=64, data=payload)
    ip4.len = 20 + len(bytes(payload))
    return ip4, dpkt.ethernet.ETH_TYPE_IP


def frames(records: list[dict[str, Any]], *, client: str, server: str, tcp: bool = False,
           segment: int = 0, reorder: bool = False, overlap: int = 0,
           link: str = "ethernet") -> list[tuple[float, bytes]]:
    """Ethernet frames carrying each record's message, from the client's or the server's side.
    TCP: one connection (SYN both ways first), messages cut into ``segment``-byte pieces, the
    first two pieces of each message swapped when ``reorder``; with ``overlap``, every piece
    but the first starts ``overlap`` bytes early (a retransmission repacketised with new data).
    ``link``: ``ethernet``, ``sll`` (Linux cooked v1) or ``sll2`` (v2) headers."""
    out: list[tuple[float, bytes]] = []
    epoch = EPOCH
    seq = {client: 1000, server: 5000}
    (chost, cport), (shost, sport) = _split(client), _split(server)

    def emit(time: float, src: str, dst: str, payload: bytes, flags: int = 0,
             sequence: int = 0) -> None:
        (h1, p1), (h2, p2) = _split(src), _split(dst)
        if tcp:
            layer: Any = dpkt.tcp.TCP(sport=p1, dport=p2, seq=sequence, flags=flags or
                                      dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH, data=payload)
            proto = dpkt.ip.IP_PROTO_TCP
        else:
            layer = dpkt.udp.UDP(sport=p1, dport=p2, data=payload)
            layer.ulen = 8 + len(payload)
            proto = dpkt.ip.IP_PROTO_UDP
        ip, ethertype = _ip(h1, h2, proto, layer)
        if link == "sll":
            frame: Any = dpkt.sll.SLL(ethtype=ethertype, data=ip)
        elif link == "sll2":
            frame = dpkt.sll2.SLL2(ethtype=ethertype, data=ip)
        else:
            frame = dpkt.ethernet.Ethernet(src=b"\x00" * 6, dst=b"\x00" * 6, type=ethertype,
                                           data=ip)
        out.append((epoch + time, bytes(frame)))

    if tcp and records:
        t0 = float(records[0]["time"]) - 0.001
        emit(t0, client, server, b"", dpkt.tcp.TH_SYN, seq[client] - 1)
        emit(t0, server, client, b"", dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK, seq[server] - 1)
    for record in records:
        src, dst = (client, server) if record["direction"] == "sent" else (server, client)
        data = record["message"].encode()
        if not tcp:
            emit(float(record["time"]), src, dst, data)
            continue
        size = segment or len(data)
        pieces = [(seq[src] + i - (overlap if i else 0), data[i - (overlap if i else 0):i + size])
                  for i in range(0, len(data), size)]
        if reorder and len(pieces) > 1:
            pieces[0], pieces[1] = pieces[1], pieces[0]
        for start, piece in pieces:
            emit(float(record["time"]), src, dst, piece, sequence=start)
        seq[src] += len(data)
    del chost, cport, shost, sport
    return out


LINKTYPES = {"ethernet": 1, "sll": 113, "sll2": 276}  # tcpdump.org link-layer header types


def write_pcap(path: Path, packets: list[tuple[float, bytes]], link: str = "ethernet") -> Path:
    with path.open("wb") as handle:
        writer = dpkt.pcap.Writer(handle, linktype=LINKTYPES[link])
        for time, frame in packets:
            writer.writepkt(frame, ts=time)
    return path


def write_pcapng(path: Path, packets: list[tuple[float, bytes]]) -> Path:
    with path.open("wb") as handle:
        writer = dpkt.pcapng.Writer(handle, linktype=dpkt.pcap.DLT_EN10MB)
        for time, frame in packets:
            writer.writepkt(frame, ts=time)
    return path
