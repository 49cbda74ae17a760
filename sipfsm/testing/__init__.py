"""Tools for harness authors: drive a :class:`~sipfsm.RegistrationClient` through a simulated
world and look at what it did.  Nothing here needs hypothesis; the strategies that do are in
:mod:`sipfsm.testing.strategies` (install the ``test`` or ``conformance`` extra).

* :class:`SimWorld` -- one client, its registrar(s), the virtual clock (:class:`~sipfsm.sim.
  Scheduler`), the in-memory network with faults and the recorder (the conformance checks'
  :class:`World`, plus typed event waiting).
* :func:`per_transaction` -- a scripted registrar: one answer per REGISTER transaction, in order;
  the retransmissions of a transaction get the very responses its first arrival got (what a
  server transaction does, RFC 3261 §17.2.2).  Answers: :func:`ok`, :func:`drop`,
  :func:`status`, :func:`challenge`, :func:`interval_too_brief`, :func:`retry_later`,
  :func:`redirect`, :func:`provisional_then`.
* :meth:`SimWorld.next_event` / :class:`EventWaiter` -- the next event of a given class, running
  virtual time as needed, typed as that class (``Registered`` in, ``Registered`` out).

>>> from sipfsm import Registered, StaticCredentials
>>> world = SimWorld(per_transaction([challenge(), ok(expires=600)]),
...                  credentials=StaticCredentials("alice", "secret"))
>>> world.client.register()
>>> world.next_event(Registered).expires
600
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar, overload

from sipfsm.conformance.harness import (
    CLIENT,
    REGISTRAR,
    Responder,
    ScriptedRegistrar,
    StaticResolver,
    World,
    default_config,
    ok_echo,
    reply,
)
from sipfsm.message import Request, Response
from sipfsm.registration import RegistrationEvent

__all__ = [
    "CLIENT",
    "REGISTRAR",
    "Answer",
    "EventTimeout",
    "EventWaiter",
    "Responder",
    "ScriptedRegistrar",
    "SimWorld",
    "StaticResolver",
    "TransactionScript",
    "World",
    "challenge",
    "default_config",
    "drop",
    "interval_too_brief",
    "ok",
    "ok_echo",
    "per_transaction",
    "provisional_then",
    "redirect",
    "reply",
    "retry_later",
    "status",
]

E = TypeVar("E")
E2 = TypeVar("E2")
E3 = TypeVar("E3")

# -- answers: what a registrar does with one REGISTER transaction ---------------------------------

Answer = Callable[[Request], Sequence[Response]]
"""The responses to one transaction's request, in order (none: the request is dropped)."""


def ok(expires: int | None = None, *, other_bindings: Iterable[str] = ()) -> Answer:
    """200 listing the request's contacts with ``;expires=`` (``expires``, else the request's
    Expires, else 3600), plus ``other_bindings`` (Contact values of other UAs)."""
    extra = tuple(other_bindings)

    def answer(request: Request) -> Sequence[Response]:
        return [ok_echo(request, expires=expires, extra=extra)]

    answer.__qualname__ = f"ok({expires})"
    return answer


def drop() -> Answer:
    """No answer, to the request and to every retransmission of it (Timer F will fire)."""

    def answer(request: Request) -> Sequence[Response]:
        return []

    answer.__qualname__ = "drop()"
    return answer


def status(code: int, reason: str | None = None, *,
           headers: Iterable[tuple[str, str]] = ()) -> Answer:
    """A final (or provisional) response ``code`` with ``headers`` added."""
    rows = tuple(headers)

    def answer(request: Request) -> Sequence[Response]:
        return [reply(request, code, reason, headers=rows, to_tag=None if code < 200 else "reg")]

    answer.__qualname__ = f"status({code})"
    return answer


def challenge(realm: str = "example.com", nonce: str = "n0nce", *, algorithm: str = "MD5",
              qop: str | None = "auth", stale: bool = False, proxy: bool = False) -> Answer:
    """401 with ``WWW-Authenticate`` (``proxy``: 407 with ``Proxy-Authenticate``).  A scripted
    registrar checks no credentials: the next answer in the script decides."""
    text = f'Digest realm="{realm}", nonce="{nonce}", algorithm={algorithm}'
    if qop is not None:
        text += f', qop="{qop}"'
    if stale:
        text += ", stale=true"
    header = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    return status(407 if proxy else 401, headers=[(header, text)])


def interval_too_brief(min_expires: int) -> Answer:
    """423 Interval Too Brief with ``Min-Expires`` (RFC 3261 §10.3 step 7)."""
    return status(423, headers=[("Min-Expires", str(min_expires))])


def retry_later(seconds: int, code: int = 503) -> Answer:
    """``code`` (503 by default) with ``Retry-After: seconds``."""
    return status(code, headers=[("Retry-After", str(seconds))])


def redirect(contact: str, code: int = 302) -> Answer:
    """A 3xx naming ``contact`` (a URI) as where to register instead."""
    return status(code, headers=[("Contact", f"<{contact}>")])


def provisional_then(code: int, then: Answer) -> Answer:
    """A provisional ``code`` (100-199), then whatever ``then`` answers."""

    def answer(request: Request) -> Sequence[Response]:
        return [*status(code)(request), *then(request)]

    answer.__qualname__ = f"provisional_then({code})"
    return answer


class TransactionScript:
    """A :data:`Responder` answering REGISTER transactions (told apart by the top Via's branch)
    with ``script[0]``, ``script[1]``, ... in the order they first arrive, then ``default``.
    A retransmission gets the same responses as its transaction's first arrival."""

    def __init__(self, script: Sequence[Answer], default: Answer | None = None) -> None:
        self.script = list(script)
        self.default = default if default is not None else ok()
        self.answered: dict[str, Sequence[Response]] = {}  # branch -> the responses sent

    @property
    def transactions(self) -> int:
        """How many transactions have arrived."""
        return len(self.answered)

    def __call__(self, request: Request, registrar: ScriptedRegistrar) -> Sequence[Response]:
        branch = request.vias[0].branch or ""
        responses = self.answered.get(branch)
        if responses is None:
            index = len(self.answered)
            answer = self.script[index] if index < len(self.script) else self.default
            responses = self.answered[branch] = tuple(answer(request))
        return responses


def per_transaction(script: Sequence[Answer], default: Answer | None = None
                    ) -> TransactionScript:
    """A scripted registrar's responder: see :class:`TransactionScript`."""
    return TransactionScript(script, default)


# -- typed event waiting --------------------------------------------------------------------------

class EventTimeout(TimeoutError):
    """No event of the classes asked for arrived within the virtual time given."""


class EventWaiter:
    """Reads a :class:`World`'s events in order, running its virtual clock as needed: each call
    returns the first matching event after the one the previous call returned."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.position = 0  # index into world.events of the next event to look at

    @overload
    def next_event(self, kind: type[E], /, *, within: float = ...) -> E: ...

    @overload
    def next_event(self, kind: type[E], kind2: type[E2], /, *, within: float = ...
                   ) -> E | E2: ...

    @overload
    def next_event(self, kind: type[E], kind2: type[E2], kind3: type[E3], /, *,
                   within: float = ...) -> E | E2 | E3: ...

    def next_event(self, *kinds: type[object], within: float = 3600.0) -> object:
        """The next event of one of ``kinds``; :class:`EventTimeout` when none comes within
        ``within`` virtual seconds (the clock then stands at the deadline)."""
        if not kinds:
            raise TypeError("next_event() needs at least one event class")
        scheduler = self.world.scheduler
        deadline = scheduler.now + within
        while True:
            found = self._scan(kinds)
            if found is not None:
                return found
            upcoming = scheduler.next_time()
            if upcoming is None or upcoming > deadline:
                scheduler.run(until=deadline)
                found = self._scan(kinds)
                if found is not None:
                    return found
                names = " or ".join(kind.__name__ for kind in kinds)
                raise EventTimeout(f"no {names} within {within:g} virtual seconds "
                                   f"(now t={scheduler.now:g})")
            scheduler.step()

    def _scan(self, kinds: tuple[type[object], ...]) -> RegistrationEvent | None:
        events = self.world.events
        while self.position < len(events):
            _, event = events[self.position]
            self.position += 1
            if isinstance(event, kinds):
                return event
        return None


class SimWorld(World):
    """A :class:`World` (same arguments) with typed event waiting: ``next_event``."""

    def __init__(self, responder: Responder | None = None, **options: Any) -> None:
        super().__init__(responder, **options)
        self.waiter = EventWaiter(self)

    @overload
    def next_event(self, kind: type[E], /, *, within: float = ...) -> E: ...

    @overload
    def next_event(self, kind: type[E], kind2: type[E2], /, *, within: float = ...
                   ) -> E | E2: ...

    @overload
    def next_event(self, kind: type[E], kind2: type[E2], kind3: type[E3], /, *,
                   within: float = ...) -> E | E2 | E3: ...

    def next_event(self, *kinds: type[object], within: float = 3600.0) -> object:
        """See :meth:`EventWaiter.next_event`."""
        return self.waiter.next_event(*kinds, within=within)
