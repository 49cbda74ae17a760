"""``sipfsm demo``: the whole registration lifecycle against the embedded registrar, on
loopback, with no set-up: register (401, then 200 with credentials), refresh (the registrar
grants a short expiry), query, unregister.  Prints each state change and the message ladder."""

from __future__ import annotations

import asyncio
from typing import Any, TextIO

from sipfsm.aio import SystemClock
from sipfsm.app import AsyncRegistration, exit_code_for, progress_printer
from sipfsm.ladder import TraceRecord, text_ladder
from sipfsm.message import SipUri
from sipfsm.ports import Target
from sipfsm.registrar import RegistrarConfig
from sipfsm.registrar.server import RegistrarServer
from sipfsm.registration import (
    BindingsReported,
    Failed,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationConfig,
    Unregistered,
)
from sipfsm.sim import Recorder

__all__ = ["run_demo"]

DOMAIN = "sipfsm.demo"
USER, PASSWORD = "alice", "wonderland"
GRANTED = 4  # seconds: short, so that a refresh happens within the demo


async def run_demo(out: TextIO, *, timeout: float = 30.0, tls: bool = False) -> int:
    """``tls``: over TLS, with a throwaway CA and certificate made in a temporary directory."""
    import tempfile

    from sipfsm.auth import StaticCredentials

    recorder = Recorder(SystemClock())
    with tempfile.TemporaryDirectory(prefix="sipfsm-demo-") as folder:
        tls_context, tls_settings = (None, None)
        if tls:
            from sipfsm.aio.tls_pki import throwaway_tls

            tls_context, tls_settings = throwaway_tls(folder, DOMAIN)
        server = await RegistrarServer.start(
            RegistrarConfig(users={USER: PASSWORD}, realm=DOMAIN, min_expires=1,
                            max_expires=GRANTED, default_expires=GRANTED),
            host="127.0.0.1", udp_port=None if tls else 0, tcp_port=None,
            tls_port=0 if tls else None, tls_context=tls_context)
        return await _run_demo(out, timeout, server, recorder, tls_settings, StaticCredentials)


async def _run_demo(out: TextIO, timeout: float, server: RegistrarServer, recorder: Recorder,
                    tls_settings: Any, credentials: Any) -> int:
    transport = "TLS" if tls_settings is not None else "UDP"
    address = server.tls_address if tls_settings is not None else server.udp_address
    assert address is not None
    print(f"embedded registrar on {transport.lower()}:{address} (realm {DOMAIN}, user {USER})",
          file=out)
    config = RegistrationConfig(
        aor=SipUri(scheme="sip", user=USER, host=DOMAIN),
        registrar_target=Target(transport, address.host, address.port),
        expires=3600,
        refresh=RefreshPolicy(margin=2.0, fraction=0.5, jitter=0.05, floor=0.5),
        max_consecutive_failures=2,
    )
    start = asyncio.get_running_loop().time()
    registration = await AsyncRegistration.open(
        config, credentials=credentials(USER, PASSWORD), local_host="127.0.0.1",
        trace=recorder, listeners=[progress_printer(out, start)], tls=tls_settings)
    try:
        client = registration.client
        steps = [
            ("register", client.register, Registered),
            ("refresh", None, Refreshed),
            ("query", client.query, BindingsReported),
            ("unregister", client.unregister, Unregistered),
        ]
        for name, command, outcome in steps:
            print(f"--- {name}", file=out, flush=True)
            if command is not None:
                command()
            try:
                event = await registration.next_event(outcome, Failed, timeout=timeout)
            except TimeoutError:
                print(f"sipfsm demo: no {outcome.__name__} within {timeout:.0f}s", file=out)
                return 1
            if isinstance(event, Failed):
                print(f"sipfsm demo: {name} failed: {event.detail}", file=out)
                return exit_code_for(event)
            detail = ""
            if isinstance(event, Registered | Refreshed):
                detail = f" for {event.expires}s"
            elif isinstance(event, BindingsReported | Unregistered):
                detail = f" ({len(event.bindings)} binding(s) at the registrar)"
            print(f"    {type(event).__name__}{detail}", file=out, flush=True)
    finally:
        await registration.aclose()
        await server.aclose()
    records = [TraceRecord.from_mapping(e.as_dict()) for e in recorder.entries]
    print("\nmessage ladder (client on the left):", file=out)
    print(text_ladder(records), file=out, end="")
    print("demo complete: registered, refreshed, queried and unregistered", file=out)
    return 0
