"""Scenarios: ways the embedded registrar misbehaves on purpose, to test clients against.

A :class:`Scenario` is an ordered tuple of *faults*, each a small frozen dataclass naming one
misbehaviour.  Scenarios compose with ``+``; :func:`parse_scenario` reads the text a CLI flag
carries (``drop:0.3``, ``retry-after:2:5,stale-nonce``), and ``str(scenario)`` writes it back.

Syntax: faults separated by commas, each ``NAME[:ARG[:ARG]]``.  A COUNT of 0 means "every
request"; otherwise the fault hits the first COUNT requests it sees and then stays quiet.

=========================  =======================================================================
``drop:P``                 drop each request with probability P (0 < P <= 1, from the Random port)
``drop-every:N``           drop every Nth request (N >= 1; 1 drops them all)
``retry-after:N:S``        answer the first N REGISTERs with 503 and ``Retry-After: S``
``server-error:N[:CODE]``  answer the first N REGISTERs with CODE (500-599, default 500), no
                           Retry-After
``stale-nonce[:N]``        answer the first N (default 1) REGISTERs whose credentials are correct
                           with 401 ``stale=true`` and a fresh nonce
``omit-contact[:N]``       leave the requester's own contacts out of the first N 200s (default 0:
                           every 200); the bindings are still stored
``423-loop[:STEP[:COUNT]]`` answer the first COUNT (default 10) REGISTERs asking for a
                           non-zero expiry with 423, each ``Min-Expires`` STEP (default 60) above
                           both the last one and the interval asked for, but never above the
                           registrar's max_expires (``--max-expires``); then behave
``redirect:[N:]URI``       answer the first N (default 0: every) REGISTERs with 302 and
                           ``Contact: <URI>``
=========================  =======================================================================

The registrar keeps the counters; a :class:`Scenario` itself is immutable and reusable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeAlias

from sipfsm.errors import ConfigError, ParseError
from sipfsm.message import SipUri, parse_uri

__all__ = [
    "DropEvery",
    "DropRandom",
    "Fault",
    "IntervalTooBriefLoop",
    "OmitContact",
    "Redirect",
    "Scenario",
    "ServerError",
    "ServiceUnavailable",
    "StaleNonce",
    "parse_scenario",
]


def _count(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{what}: count must be an integer >= 0, not {value!r}")


@dataclass(frozen=True, slots=True)
class DropRandom:
    """Drop each request with ``probability`` (lost on the way in: no response at all)."""

    probability: float

    def __post_init__(self) -> None:
        p = self.probability
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 < p <= 1.0:
            raise ConfigError(f"drop: probability must be in (0, 1], not {p!r}")

    def __str__(self) -> str:
        return f"drop:{self.probability}"


@dataclass(frozen=True, slots=True)
class DropEvery:
    """Drop every ``every``-th request (counting every request received, 1-based)."""

    every: int

    def __post_init__(self) -> None:
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ConfigError(f"drop-every: N must be an integer >= 1, not {self.every!r}")

    def __str__(self) -> str:
        return f"drop-every:{self.every}"


@dataclass(frozen=True, slots=True)
class ServiceUnavailable:
    """503 Service Unavailable with ``Retry-After: retry_after`` for the first ``count``."""

    count: int
    retry_after: int

    def __post_init__(self) -> None:
        _count(self.count, "retry-after")
        if (
            isinstance(self.retry_after, bool)
            or not isinstance(self.retry_after, int)
            or self.retry_after < 0
        ):
            raise ConfigError(
                f"retry-after: seconds must be an integer >= 0, not {self.retry_after!r}"
            )

    def __str__(self) -> str:
        return f"retry-after:{self.count}:{self.retry_after}"


@dataclass(frozen=True, slots=True)
class ServerError:
    """A 5xx (``status``) without Retry-After for the first ``count`` REGISTERs."""

    count: int
    status: int = 500

    def __post_init__(self) -> None:
        _count(self.count, "server-error")
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not (
            500 <= self.status <= 599
        ):
            raise ConfigError(f"server-error: status must be 500-599, not {self.status!r}")

    def __str__(self) -> str:
        return f"server-error:{self.count}:{self.status}"


@dataclass(frozen=True, slots=True)
class StaleNonce:
    """401 ``stale=true`` for the first ``count`` REGISTERs whose credentials are correct."""

    count: int = 1

    def __post_init__(self) -> None:
        _count(self.count, "stale-nonce")

    def __str__(self) -> str:
        return f"stale-nonce:{self.count}"


@dataclass(frozen=True, slots=True)
class OmitContact:
    """Leave the requester's contacts out of the first ``count`` 200s (0: all of them)."""

    count: int = 0

    def __post_init__(self) -> None:
        _count(self.count, "omit-contact")

    def __str__(self) -> str:
        return f"omit-contact:{self.count}"


@dataclass(frozen=True, slots=True)
class IntervalTooBriefLoop:
    """423 to the first ``count`` REGISTERs asking for a non-zero expiry, ``Min-Expires``
    rising by ``step`` up to the registrar's max_expires (``count`` 0: every one)."""

    step: int = 60
    count: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 1:
            raise ConfigError(f"423-loop: step must be an integer >= 1, not {self.step!r}")
        _count(self.count, "423-loop")

    def __str__(self) -> str:
        return f"423-loop:{self.step}:{self.count}"


@dataclass(frozen=True, slots=True)
class Redirect:
    """302 Moved Temporarily with ``Contact: <target>`` for the first ``count`` (0: all)."""

    target: SipUri
    count: int = 0

    def __post_init__(self) -> None:
        _count(self.count, "redirect")
        if not isinstance(self.target, SipUri):
            raise ConfigError(f"redirect: target must be a sip: or sips: URI, not {self.target!r}")

    def __str__(self) -> str:
        return f"redirect:{self.count}:{self.target}"


Fault: TypeAlias = (
    DropRandom
    | DropEvery
    | ServiceUnavailable
    | ServerError
    | StaleNonce
    | OmitContact
    | IntervalTooBriefLoop
    | Redirect
)
FAULT_TYPES = (
    DropRandom,
    DropEvery,
    ServiceUnavailable,
    ServerError,
    StaleNonce,
    OmitContact,
    IntervalTooBriefLoop,
    Redirect,
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """An ordered, immutable set of faults (empty: the registrar behaves)."""

    faults: tuple[Fault, ...] = ()

    def __post_init__(self) -> None:
        faults = tuple(self.faults)
        for fault in faults:
            if not isinstance(fault, FAULT_TYPES):
                raise ConfigError(f"not a scenario fault: {fault!r}")
        object.__setattr__(self, "faults", faults)

    @classmethod
    def of(cls, *faults: Fault) -> Scenario:
        return cls(tuple(faults))

    def __add__(self, other: Scenario | Fault) -> Scenario:
        if isinstance(other, Scenario):
            return Scenario(self.faults + other.faults)
        if isinstance(other, FAULT_TYPES):
            return Scenario((*self.faults, other))
        return NotImplemented

    def __bool__(self) -> bool:
        return bool(self.faults)

    def __str__(self) -> str:
        return ",".join(str(f) for f in self.faults) or "none"


# -- parsing ----------------------------------------------------------------------------------


def _int(text: str, what: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise ConfigError(f"scenario {what}: {text!r} is not an integer") from None
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"scenario drop: {text!r} is not a probability") from None
    if not math.isfinite(value):
        raise ConfigError(f"scenario drop: {text!r} is not a probability")
    return value


def _arity(name: str, args: list[str], low: int, high: int) -> None:
    if not low <= len(args) <= high:
        if low == high:
            want = f"{low} argument{'s' if low != 1 else ''}"
        else:
            want = f"{low} to {high} arguments"
        raise ConfigError(f"scenario {name}: takes {want}, got {len(args)}")


def _redirect(rest: str) -> Redirect:
    count = 0
    head, sep, tail = rest.partition(":")
    if sep and head.isdigit():
        count, rest = int(head), tail
    if not rest:
        raise ConfigError("scenario redirect: needs a target URI, e.g. redirect:sip:127.0.0.1:5070")
    try:
        uri = parse_uri(rest)
    except ParseError as exc:
        raise ConfigError(f"scenario redirect: bad URI {rest!r}: {exc.message}") from None
    if not isinstance(uri, SipUri):
        raise ConfigError(f"scenario redirect: {rest!r} is not a sip: or sips: URI")
    return Redirect(uri, count)


def _fault(text: str) -> Fault:
    name, _, rest = text.partition(":")
    name = name.strip().lower()
    if name == "redirect":
        return _redirect(rest.strip())
    args = [a.strip() for a in rest.split(":")] if rest else []
    if name == "drop":
        _arity(name, args, 1, 1)
        return DropRandom(_probability(args[0]))
    if name == "drop-every":
        _arity(name, args, 1, 1)
        return DropEvery(_int(args[0], name))
    if name == "retry-after":
        _arity(name, args, 2, 2)
        return ServiceUnavailable(_int(args[0], name), _int(args[1], name))
    if name == "server-error":
        _arity(name, args, 1, 2)
        if len(args) == 2:
            return ServerError(_int(args[0], name), _int(args[1], name))
        return ServerError(_int(args[0], name))
    if name == "stale-nonce":
        _arity(name, args, 0, 1)
        return StaleNonce(_int(args[0], name)) if args else StaleNonce()
    if name == "omit-contact":
        _arity(name, args, 0, 1)
        return OmitContact(_int(args[0], name)) if args else OmitContact()
    if name == "423-loop":
        _arity(name, args, 0, 2)
        if len(args) == 2:
            return IntervalTooBriefLoop(_int(args[0], name), _int(args[1], name))
        return IntervalTooBriefLoop(_int(args[0], name)) if args else IntervalTooBriefLoop()
    known = (
        "drop, drop-every, retry-after, server-error, stale-nonce, omit-contact, 423-loop, "
        "redirect"
    )
    raise ConfigError(f"unknown scenario {name!r} (known: {known})")


def parse_scenario(text: str) -> Scenario:
    """``"drop:0.3,retry-after:2:5"`` -> a :class:`Scenario`; ``""`` or ``"none"`` -> empty.

    Raises :class:`ConfigError` naming the bad part."""
    text = text.strip()
    if not text or text.lower() == "none":
        return Scenario()
    faults: list[Fault] = []
    for part in text.split(","):
        if not part.strip():
            raise ConfigError(f"empty scenario in {text!r}")
        faults.append(_fault(part.strip()))
    return Scenario(tuple(faults))
