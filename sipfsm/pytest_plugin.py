"""A pytest plugin (entry point ``pytest11``): test your own SIP client against sipfsm's
embedded registrar and assert on the audit of what it sent.

Fixtures:

``sip_registrar``
    a factory: ``sip_registrar("auth")`` starts the embedded registrar on loopback (a free port,
    UDP unless ``transport="tcp"``) with one of :data:`sipfsm.probe.SCENARIOS` (``plain``,
    ``auth``, ``stale-nonce``, ``423``, ``503-retry-after``, ``omit-contact``, ``no-answer``,
    ``wrong-password``, ``dropped``) and returns a :class:`RunningRegistrar`: its ``host``,
    ``port``, ``transport``, the account (``user``, ``password`` -- the one to give the client,
    wrong on purpose in ``wrong-password`` -- ``aor``), ``records`` (the trace so far, the README's
    JSON-lines records) and ``audit()``.  Every registrar started is stopped at teardown.
``sip_audit``
    the :func:`audit` helper: ``sip_audit(registrar_or_records_or_paths, password=...)`` ->
    :class:`sipfsm.audit.Report` (``report.clean``, ``report.violations(rule_id, level)``).

::

    def test_my_phone_registers(sip_registrar, sip_audit):
        registrar = sip_registrar("auth")
        run_my_phone(registrar.host, registrar.port, registrar.user, registrar.password)
        report = sip_audit(registrar)
        assert report.clean, report.findings

The registrar runs on its own event loop in a background thread, so the test itself stays
synchronous; nothing here is imported until a fixture is used.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["RunningRegistrar", "audit", "sip_audit", "sip_registrar"]


class RunningRegistrar:
    """The embedded registrar serving one scenario in a background thread."""

    def __init__(self, scenario: str = "auth", *, transport: str = "udp", user: str = "alice",
                 password: str = "plugin-secret", domain: str = "sipfsm.test",
                 host: str = "127.0.0.1") -> None:
        from sipfsm.errors import ConfigError
        from sipfsm.probe import client_password_for, registrar_config, scenario_named
        from sipfsm.registrar.server import RegistrarServer

        if transport not in ("udp", "tcp"):
            raise ConfigError(f"transport {transport!r} is not udp or tcp")
        self.scenario = scenario_named(scenario)
        self.transport = transport
        self.user, self.domain = user, domain
        self.password = client_password_for(self.scenario, password)
        self.aor = f"sip:{user}@{domain}"
        self._records: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True,
                                        name=f"sipfsm-registrar-{scenario}")
        self._thread.start()
        config = registrar_config(self.scenario, user=user, password=password, domain=domain)
        udp = transport == "udp"
        start = RegistrarServer.start(config, host=host, udp_port=0 if udp else None,
                                      tcp_port=None if udp else 0, trace=self)
        try:
            self._server = asyncio.run_coroutine_threadsafe(start, self._loop).result(10)
        except BaseException:
            self._shutdown_loop()
            raise
        address = self._server.udp_address if udp else self._server.tcp_address
        assert address is not None
        self.host, self.port = address.host, address.port
        self.started = time.time()
        self.stopped: float | None = None

    # TraceSink: called on the registrar's loop
    def record(self, direction: Any, transport: str, local: Any, remote: Any,
               data: bytes) -> None:
        from sipfsm.aio.trace import trace_record

        self._records.append(trace_record(time.time(), direction, transport, local, remote,
                                          data))

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def records(self) -> list[dict[str, Any]]:
        """What the registrar received and sent so far (a copy)."""
        return list(self._records)

    def audit(self, *, password: str | None = None) -> Any:
        """The audit of the exchange so far (the client's password by default)."""
        from sipfsm.audit import audit_records

        return audit_records(self.records, password=password or self.password,
                             end=self.stopped or time.time())

    def stop(self) -> None:
        if self.stopped is not None:
            return
        self.stopped = time.time()
        try:
            asyncio.run_coroutine_threadsafe(self._server.aclose(), self._loop).result(10)
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __repr__(self) -> str:
        return (f"RunningRegistrar({self.scenario.name!r}, {self.transport}:{self.address}, "
                f"aor={self.aor!r})")


def audit(source: RunningRegistrar | Iterable[Any] | str | Path, *,
          password: str | None = None) -> Any:
    """Audit a :class:`RunningRegistrar`'s exchange, trace records, or a recording's path(s)."""
    from sipfsm.audit import audit_paths, audit_records

    if isinstance(source, RunningRegistrar):
        return source.audit(password=password)
    if isinstance(source, str | Path):
        return audit_paths([source], password=password)
    items = list(source)
    if items and all(isinstance(i, str | Path) for i in items):
        return audit_paths(items, password=password)
    return audit_records(items, password=password)


@pytest.fixture
def sip_registrar() -> Iterator[Callable[..., RunningRegistrar]]:
    """Factory: ``sip_registrar(scenario="auth", *, transport="udp", user=..., password=...)``."""
    started: list[RunningRegistrar] = []

    def start(scenario: str = "auth", **options: Any) -> RunningRegistrar:
        registrar = RunningRegistrar(scenario, **options)
        started.append(registrar)
        return registrar

    yield start
    for registrar in started:
        registrar.stop()


@pytest.fixture
def sip_audit() -> Callable[..., Any]:
    """The :func:`audit` helper."""
    return audit
