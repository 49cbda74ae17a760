"""The message recorder and the JSON-lines trace format.

Trace format (shared with the asyncio client's ``--trace``; :mod:`sipfsm.ladder` reads it): one
JSON object per line, one line per message sent or received, fields in this order::

    {"time": 0.5, "direction": "sent", "transport": "UDP", "local": "192.0.2.10:5060",
     "remote": "192.0.2.1:5060", "message": "REGISTER sip:example.com SIP/2.0\\r\\n..."}

``time``
    float seconds: virtual time in the simulator (the asyncio client writes wall-clock time);
``direction``
    ``sent`` or ``received``, seen from ``local``;
``transport``
    ``UDP``, ``TCP`` or ``TLS``;
``local`` / ``remote``
    ``host:port`` (an IPv6 host in brackets): the endpoint that sent or received, and its peer;
``message``
    the raw SIP text, decoded as UTF-8 (invalid bytes replaced).

The simulator records both ends of every delivery; :meth:`Recorder.to_jsonl` with ``local=``
writes one endpoint's view, which is exactly what that endpoint's real client would have written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from sipfsm.ports import Clock, HostPort

__all__ = ["TRACE_FIELDS", "Recorder", "TraceEntry"]

TRACE_FIELDS = ("time", "direction", "transport", "local", "remote", "message")
Direction = Literal["sent", "received"]


@dataclass(frozen=True, slots=True)
class TraceEntry:
    time: float
    direction: str
    transport: str
    local: str
    remote: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in TRACE_FIELDS}


class Recorder:
    """Every message with its time, direction, transport, local and remote address.

    ``record`` has the signature of :class:`sipfsm.aio.trace.TraceSink`, so a recorder can also
    listen to real transports.  ``clock`` gives the time (the simulator's scheduler; ``wall=True``
    records ``clock.wall()`` instead of ``clock.monotonic()``)."""

    def __init__(self, clock: Clock, *, wall: bool = False) -> None:
        self._clock = clock
        self._wall = wall
        self.entries: list[TraceEntry] = []

    def record(
        self,
        direction: Direction,
        transport: str,
        local: HostPort,
        remote: HostPort,
        data: bytes,
    ) -> None:
        time = self._clock.wall() if self._wall else self._clock.monotonic()
        self.entries.append(
            TraceEntry(
                time=time,
                direction=direction,
                transport=transport,
                local=str(local),
                remote=str(remote),
                message=data.decode("utf-8", errors="replace"),
            )
        )

    def select(
        self,
        *,
        local: HostPort | str | None = None,
        direction: Direction | None = None,
        transport: str | None = None,
    ) -> list[TraceEntry]:
        """The entries seen from ``local`` (and/or in one direction, over one transport)."""
        want_local = None if local is None else str(local)
        return [
            e
            for e in self.entries
            if (want_local is None or e.local == want_local)
            and (direction is None or e.direction == direction)
            and (transport is None or e.transport == transport.upper())
        ]

    def dumps(self, *, local: HostPort | str | None = None) -> str:
        """The trace as JSON lines (each line ends with a newline)."""
        return "".join(
            json.dumps(e.as_dict(), ensure_ascii=False) + "\n" for e in self.select(local=local)
        )

    def to_jsonl(self, dest: str | Path | TextIO, *, local: HostPort | str | None = None) -> None:
        """Write the trace (one endpoint's view when ``local`` is given) as JSON lines."""
        text = self.dumps(local=local)
        if isinstance(dest, str | Path):
            Path(dest).write_text(text, encoding="utf-8", newline="\n")
        else:
            dest.write(text)

    def clear(self) -> None:
        self.entries.clear()

    def __iter__(self) -> Iterator[TraceEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)
