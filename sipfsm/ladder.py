"""Message ladders from traces: a text ladder for terminals and a Mermaid sequence diagram.

A trace is JSON lines, one object per message, written by the asyncio client (``--trace``) and
by the simulator's recorder::

    {"time": 0.0123, "direction": "sent", "transport": "UDP", "local": "127.0.0.1:5062",
     "remote": "127.0.0.1:5060", "message": "REGISTER sip:example.com SIP/2.0\\r\\n..."}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipfsm.errors import ParseError

__all__ = ["TraceRecord", "mermaid", "read_trace", "svg", "text_ladder"]

_FIELDS = ("time", "direction", "transport", "local", "remote", "message")


@dataclass(frozen=True, slots=True)
class TraceRecord:
    time: float
    direction: str  # "sent" | "received"
    transport: str
    local: str
    remote: str
    message: str

    @property
    def summary(self) -> str:
        """``REGISTER (CSeq 2)`` or ``401 Unauthorized (CSeq 1)``: the start line, short."""
        first, _, rest = self.message.partition("\r\n")
        if not first:
            first, _, rest = self.message.partition("\n")
        cseq = ""
        for line in rest.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() == "cseq":
                cseq = value.strip()
                break
        is_response = first.startswith("SIP/2.0 ")
        label = first[8:].strip() if is_response else first.split(" ", 1)[0]
        return f"{label} ({cseq})" if cseq else label

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], where: str = "trace") -> TraceRecord:
        missing = [f for f in _FIELDS if f not in raw]
        if missing:
            raise ParseError(f"trace record lacks {', '.join(missing)}", where=where)
        try:
            time = float(raw["time"])
        except (TypeError, ValueError):
            raise ParseError("trace record 'time' is not a number", where=where) from None
        direction = raw["direction"]
        if direction not in ("sent", "received"):
            raise ParseError(f"trace record direction {direction!r} is not sent/received",
                             where=where)
        values = [raw[f] for f in ("transport", "local", "remote", "message")]
        if not all(isinstance(v, str) for v in values):
            raise ParseError("trace record fields must be strings", where=where)
        return cls(time, direction, *values)


def read_trace(path: str | Path) -> list[TraceRecord]:
    """Read a JSON-lines trace; a malformed line is a ParseError naming the line."""
    records = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path} line {number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParseError(f"not JSON: {exc.msg}", where=where) from None
            if not isinstance(raw, dict):
                raise ParseError("a trace line must be a JSON object", where=where)
            records.append(TraceRecord.from_mapping(raw, where))
    return records


def _participants(records: Iterable[TraceRecord]) -> tuple[list[str], dict[str, str]]:
    """Local addresses are the client side; names in order of appearance."""
    order: list[str] = []
    for r in records:
        for addr in (r.local, r.remote):
            if addr not in order:
                order.append(addr)
    names = {}
    locals_ = {r.local for r in records}
    for i, addr in enumerate(order):
        names[addr] = f"{'UA' if addr in locals_ else 'Peer'}{i + 1}"
    return order, names


def mermaid(records: list[TraceRecord]) -> str:
    """The trace as a Mermaid ``sequenceDiagram``."""
    order, names = _participants(records)
    lines = ["sequenceDiagram"]
    for addr in order:
        lines.append(f"    participant {names[addr]} as {addr}")
    start = records[0].time if records else 0.0
    for r in records:
        src, dst = (r.local, r.remote) if r.direction == "sent" else (r.remote, r.local)
        label = r.summary.replace(";", ",").replace("#", "")
        lines.append(f"    {names[src]}->>{names[dst]}: {r.time - start:.3f}s {label}")
    return "\n".join(lines) + "\n"


def text_ladder(records: list[TraceRecord], *, width: int = 36) -> str:
    """A two-column ladder for a terminal (client on the left, peers on the right)."""
    if not records:
        return "(no messages)\n"
    start = records[0].time
    out = []
    for r in records:
        label = r.summary
        pad = max(width - len(label) - 4, 2)
        left, right = pad // 2, pad - pad // 2
        if r.direction == "sent":
            arrow = f"{'-' * left} {label} {'-' * right}>"
        else:
            arrow = f"<{'-' * left} {label} {'-' * right}"
        out.append(f"{r.time - start:8.3f}s  {r.local:>21} {arrow} {r.remote}")
    return "\n".join(out) + "\n"


def svg(records: list[TraceRecord]) -> str:
    """The ladder as a standalone SVG (no external tooling needed)."""
    from xml.sax.saxutils import escape

    order, _ = _participants(records)
    col = 260
    top = 50
    row = 34
    width = max(col * len(order), col) + 40
    height = top + row * (len(records) + 1)
    x = {addr: 20 + col // 2 + i * col for i, addr in enumerate(order)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="12">',
        '<defs><marker id="a" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
    ]
    for addr in order:
        parts.append(f'<text x="{x[addr]}" y="24" text-anchor="middle" font-weight="bold">'
                     f"{escape(addr)}</text>")
        parts.append(f'<line x1="{x[addr]}" y1="32" x2="{x[addr]}" y2="{height - 10}" '
                     'stroke="#999" stroke-dasharray="4,3"/>')
    start = records[0].time if records else 0.0
    for i, r in enumerate(records):
        src, dst = (r.local, r.remote) if r.direction == "sent" else (r.remote, r.local)
        y = top + row * (i + 1)
        parts.append(f'<line x1="{x[src]}" y1="{y}" x2="{x[dst]}" y2="{y}" stroke="black" '
                     'marker-end="url(#a)"/>')
        mid = (x[src] + x[dst]) // 2
        label = escape(f"{r.time - start:.3f}s {r.summary}")
        parts.append(f'<text x="{mid}" y="{y - 5}" text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
