"""A Locust ``User`` that registers with sipfsm's own client (``pip install 'sipfsm[locust]'``).

Each simulated user is one :class:`~sipfsm.registration.RegistrationClient` on the gevent ports
of :mod:`sipfsm.contrib.gevent_ports` (its own UDP socket and transaction layer).  Every REGISTER
transaction -- request sent, final response received -- is a Locust request event:

* ``request_type`` ``REGISTER``;
* ``name``: ``initial`` (the first REGISTER of a registration, normally answered 401),
  ``auth`` (a REGISTER answering a 401/407 challenge), ``refresh`` (the client's own refreshes
  before the expiry), ``unregister`` (``Expires: 0`` when the user stops);
* ``response_time``: milliseconds from the first transmission to the final response
  (retransmissions included); ``response_length``: the response's size;
* ``exception``: :class:`RegisterFailed` for a final response that is not 2xx, 401, 407 or 423
  (or a 401/407 to credentials already answering one), for a transaction that timed out and
  for a registration that failed.

So ``locust -f locustfile.py --master`` and ``--worker`` on many hosts spread the users, and
Locust's web UI and ``--csv`` files show the REGISTER statistics.  Subclass and set::

    class Registrations(SipRegistrationUser):
        host = "udp:192.0.2.10:5060"        # or --host; the registrar (UDP, IP literal)
        domain = "example.com"              # AOR sip:<user>@<domain> (default: the host)
        user_pattern = "u{n}"               # {n}: this user's number
        password_pattern = "pw-{user}"      # or password_env = "SIP_PASSWORD"
        expires = 60
        wait_time = constant(1)

User numbers are unique per worker: ``n = first + worker_index * per_worker + i``.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import gevent
from gevent.event import Event
from locust import User, task
from locust.exception import StopUser

from sipfsm.app import parse_registrar_address
from sipfsm.auth import StaticCredentials
from sipfsm.contrib.gevent_ports import GeventClock, GeventRandom, GeventTimers, GeventUdpTransport
from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, SipUri, parse, parse_uri
from sipfsm.registration import (
    Failed,
    Refreshed,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    Unregistered,
)
from sipfsm.transaction import TransactionLayer

__all__ = ["RegisterFailed", "SipRegistrationUser"]

_EXPECTED = frozenset({401, 407, 423})  # answered by the client itself (§22.2, §10.2.8)


class RegisterFailed(Exception):
    """A REGISTER transaction or registration that failed (the Locust failure)."""


@dataclass
class _Pending:
    started: float
    with_credentials: bool


class _TransactionTimer:
    """Times each REGISTER transaction from the traffic, and names it."""

    def __init__(self, user: SipRegistrationUser) -> None:
        self.user = user
        self.pending: dict[tuple[str, int], _Pending] = {}
        self.last_status = 0

    def sent(self, data: bytes) -> None:
        try:
            message = parse(data)
        except ParseError:
            return
        if not isinstance(message, Request) or message.method != "REGISTER":
            return
        key = (message.call_id, message.cseq.number)
        if key in self.pending:
            return  # a retransmission: the transaction's time runs from the first one
        credentials = bool(message.authorization or message.proxy_authorization)
        self.pending[key] = _Pending(time.perf_counter(), credentials)

    def received(self, data: bytes) -> None:
        try:
            message = parse(data)
            if not isinstance(message, Response) or message.status < 200:
                return
            key = (message.call_id, message.cseq.number)
        except ParseError:
            return
        pending = self.pending.pop(key, None)
        if pending is None:
            return  # a retransmitted response
        status = message.status
        name = self.user.phase
        if pending.with_credentials and self.last_status in (401, 407):
            name = "auth"
        exception: Exception | None = None
        if not (200 <= status < 300 or status in _EXPECTED):
            exception = RegisterFailed(f"{status} {message.reason}")
        elif status in (401, 407) and name == "auth":
            exception = RegisterFailed(f"{status} {message.reason}: credentials rejected")
        self.last_status = status
        self.user.report(name, (time.perf_counter() - pending.started) * 1000, len(data), exception)

    def abandon(self, reason: str) -> None:
        """Transactions that will get no response (timed out, transport error)."""
        now = time.perf_counter()
        for pending in self.pending.values():
            self.user.report(
                self.user.phase, (now - pending.started) * 1000, 0, RegisterFailed(reason)
            )
        self.pending.clear()


class SipRegistrationUser(User):  # type: ignore[misc,unused-ignore]
    """Registers on start, stays registered (the client refreshes), unregisters on stop."""

    abstract = True
    domain: ClassVar[str | None] = None
    user_pattern: ClassVar[str] = "u{n}"
    password_pattern: ClassVar[str | None] = None
    password_env: ClassVar[str | None] = None
    first: ClassVar[int] = 0
    per_worker: ClassVar[int] = 100_000
    expires: ClassVar[int] = 60
    local_host: ClassVar[str] = "127.0.0.1"
    register_timeout: ClassVar[float] = 40.0  # seconds on_start waits for the registration
    unregister_timeout: ClassVar[float] = 5.0

    _numbers: ClassVar[Any] = None

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        cls = type(self)
        if cls._numbers is None:
            runner = getattr(environment, "runner", None)
            worker = int(getattr(runner, "worker_index", 0) or 0)
            cls._numbers = itertools.count(cls.first + worker * cls.per_worker)
        self.number = next(cls._numbers)
        self.phase = "initial"
        self.registered = Event()
        self.unregistered = Event()
        self.failure: str | None = None
        self.client: RegistrationClient | None = None
        self.transport: GeventUdpTransport | None = None

    # -- reporting -------------------------------------------------------------------------------

    def report(
        self, name: str, response_time: float, length: int, exception: Exception | None
    ) -> None:
        self.environment.events.request.fire(
            request_type="REGISTER",
            name=name,
            response_time=response_time,
            response_length=length,
            exception=exception,
            context={"user": self.username},
        )

    def _observe(self, client: RegistrationClient, event: RegistrationEvent) -> None:
        kind = type(event)
        if kind is Registered or kind is Refreshed:
            self.phase = "refresh"
            self.registered.set()
        elif kind is Unregistered:
            self.unregistered.set()
        elif kind is Retrying or kind is Failed:
            assert isinstance(event, Retrying | Failed)
            if event.reason.value in ("timeout", "transport"):
                self._timer.abandon(f"{event.reason.value}")
            if kind is Failed:
                assert isinstance(event, Failed)
                self.failure = f"{event.reason.value} {event.status or ''}".strip()
                self.registered.set()
                self.unregistered.set()

    # -- the user's life -------------------------------------------------------------------------

    @property
    def username(self) -> str:
        return self.user_pattern.format(n=self.number)

    def _password(self) -> str | None:
        if self.password_env is not None:
            return os.environ.get(self.password_env)
        if self.password_pattern is not None:
            return self.password_pattern.format(n=self.number, user=self.username)
        return None

    def on_start(self) -> None:
        target = parse_registrar_address(self.host or "")
        domain = self.domain or target.host
        aor = parse_uri(f"sip:{self.username}@{domain}")
        assert isinstance(aor, SipUri)
        self._timer = _TransactionTimer(self)
        timers, random = GeventTimers(), GeventRandom()

        class _Receiver:
            layer: TransactionLayer

            def receive(self, data: bytes, source: Any, transport: Any) -> None:
                self.layer.receive(data, source, transport)

            def transport_error(self, target: Any, error: Exception) -> None:
                self.layer.transport_error(target, error)

        receiver = _Receiver()
        self.transport = GeventUdpTransport(
            receiver, local_host=self.local_host,
            on_sent=self._timer.sent, on_received=self._timer.received,
        )  # fmt: skip
        layer = receiver.layer = TransactionLayer({"UDP": self.transport}, timers, random)
        password = self._password()
        self.client = RegistrationClient(
            RegistrationConfig(aor=aor, registrar_target=target, transport="UDP",
                               expires=self.expires, keep_last_response=False),
            layer=layer, timers=timers, clock=GeventClock(), random=random,
            credentials=StaticCredentials(self.username, password) if password else None,
            observer=self._observe,
        )  # fmt: skip
        self.client.register()
        if not self.registered.wait(self.register_timeout):
            self.report("initial", self.register_timeout * 1000, 0,
                        RegisterFailed("no final response in time"))  # fmt: skip
            raise StopUser()
        if self.failure is not None:
            self.report(self.phase, 0, 0, RegisterFailed(f"registration failed: {self.failure}"))
            raise StopUser()

    @task
    def stay_registered(self) -> None:
        """Nothing to do: the client refreshes the registration by itself before it expires."""
        if self.failure is not None:
            raise StopUser()

    def on_stop(self) -> None:
        client, transport = self.client, self.transport
        if client is None or transport is None:
            return
        try:
            if self.failure is None and self.registered.is_set():
                self.phase = "unregister"
                client.unregister()
                self.unregistered.wait(self.unregister_timeout)
        finally:
            client.stop()
            gevent.sleep(0)
            transport.close()
