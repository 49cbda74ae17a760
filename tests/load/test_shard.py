"""The worker's receiver: what reaches the transaction layer, and what cannot."""

from __future__ import annotations

from typing import Any

from sipfsm.errors import TransportError
from sipfsm.load.shard import _Receiver
from sipfsm.ports import HostPort, Target


class _Layer:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def receive(self, data: bytes, source: HostPort, transport: Any) -> None:
        self.seen.append(("receive", data))

    def transport_error(self, target: Target, error: Exception) -> None:
        self.seen.append(("error", target))


def test_the_receiver_drops_what_comes_before_the_layer_then_hands_everything_to_it() -> None:
    receiver = _Receiver()
    source, target = HostPort("127.0.0.1", 5060), Target("UDP", "127.0.0.1", 5060)
    # before the layer exists: dropped quietly (no transaction can be concerned)
    receiver.receive(b"SIP/2.0 200 OK\r\n\r\n", source, None)
    receiver.transport_error(target, TransportError("refused"))
    layer = _Layer()
    receiver.attach(layer)  # type: ignore[arg-type]
    receiver.receive(b"after", source, None)
    receiver.transport_error(target, TransportError("refused"))
    assert layer.seen == [("receive", b"after"), ("error", target)]
