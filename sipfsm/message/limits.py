"""Parser resource limits: input over a limit is a :class:`ParseError`, never memory growth."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """``max_message_size``: bytes of one whole message (a UDP datagram cannot exceed 65535);
    ``max_headers``: header rows (continuation lines included);
    ``max_header_line``: characters of one row, and of one field after unfolding."""

    max_message_size: int = 65535
    max_headers: int = 256
    max_header_line: int = 8192

    def __post_init__(self) -> None:
        for name in ("max_message_size", "max_headers", "max_header_line"):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive int, not {value!r}")


DEFAULT_LIMITS = Limits()
