"""The working client: a RegistrationClient wired to asyncio sockets, timers and DNS.

Used by ``sipfsm register / unregister / query / demo``; usable from any asyncio program::

    async with await AsyncRegistration.open(config, credentials=creds) as reg:
        reg.client.register()
        event = await reg.next_event(Registered, Failed)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import re
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar, overload

from sipfsm.aio import (
    AioTimers,
    DnsResolver,
    SecretsRandom,
    SystemClock,
    TcpTransport,
    TraceWriter,
    UdpTransport,
)
from sipfsm.errors import ConfigError, DestinationUnreachable, TransportError
from sipfsm.message import SipUri, parse_uri
from sipfsm.ports import HostPort, Target
from sipfsm.registration import (
    BindingLapsed,
    Failed,
    FailureReason,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    StateChanged,
)
from sipfsm.transaction import Dropped, TimerValues, TransactionLayer

if TYPE_CHECKING:
    from sipfsm.aio.tls import TlsSettings
    from sipfsm.auth import CredentialStore
    from sipfsm.ports import Transport

__all__ = [
    "EXIT_AUTH",
    "EXIT_REJECTED",
    "EXIT_UNREACHABLE",
    "AsyncRegistration",
    "PoolObserver",
    "RegistrationPool",
    "TraceFanout",
    "exit_code_for",
    "parse_registrar_address",
    "parse_sip_uri",
    "resolve_target",
]

E = TypeVar("E")
E2 = TypeVar("E2")
E3 = TypeVar("E3")

# Exit codes of the client commands (cli.py documents them too).
EXIT_AUTH = 4
EXIT_UNREACHABLE = 5
EXIT_REJECTED = 6
EXIT_CERTIFICATE = 7  # TLS: the server's certificate is not trusted or names another domain


@dataclass(frozen=True, slots=True)
class CertificateFailed(Failed):
    """A TLS certificate error ended the registration (retrying cannot help)."""


def exit_code_for(failure: Failed) -> int:
    if isinstance(failure, CertificateFailed):
        return EXIT_CERTIFICATE
    if failure.reason is FailureReason.AUTH:
        return EXIT_AUTH
    if failure.reason in (FailureReason.TIMEOUT, FailureReason.TRANSPORT, FailureReason.RESOLVE):
        return EXIT_UNREACHABLE
    return EXIT_REJECTED


def parse_sip_uri(text: str, what: str) -> SipUri:
    """A sip: URI from the command line or configuration, or a ConfigError naming ``what``."""
    from sipfsm.errors import ParseError

    try:
        uri = parse_uri(text.strip())
    except ParseError as exc:
        raise ConfigError(f"{what}: {text!r} is not a SIP URI ({exc})") from None
    if not isinstance(uri, SipUri):
        raise ConfigError(f"{what}: {text!r} is not a sip: URI")
    return uri


# The transports ``--registrar`` accepts, as written before the first colon.
REGISTRAR_TRANSPORTS = ("udp", "tcp", "tls")
REGISTRAR_FORM = (
    "udp:HOST[:PORT], tcp:HOST[:PORT] or tls:HOST[:PORT] (IPv6 in brackets: udp:[::1]:5060)")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _valid_host_name(host: str) -> bool:
    """RFC 1123 host name syntax (letters, digits, hyphens; dot-separated labels)."""
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return len(host) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def parse_registrar_address(text: str) -> Target:
    """``udp:HOST[:PORT]`` or ``tcp:HOST[:PORT]`` (port 5060 by default); IPv6 in brackets,
    ``udp:[::1]:5060``.  Anything else is a ConfigError naming the expected form."""
    raw = text.strip()

    def bad(why: str) -> ConfigError:
        return ConfigError(f"--registrar {text!r}: {why}; expected {REGISTRAR_FORM}")

    scheme, sep, rest = raw.partition(":")
    if not sep or not scheme:
        raise bad("no transport")
    if scheme.lower() not in REGISTRAR_TRANSPORTS:
        raise bad(f"transport {scheme!r} is not supported")
    transport, raw = scheme.upper(), rest
    if raw.startswith("["):
        host, end, tail = raw[1:].partition("]")
        if not end:
            raise bad("unclosed '['")
        port_text = tail[1:] if tail.startswith(":") else ""
        if tail and not tail.startswith(":"):
            raise bad("junk after ']'")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad("bad IPv6 address") from None
    else:
        if raw.count(":") > 1:
            raise bad("put IPv6 addresses in brackets")
        host, colon, port_text = raw.partition(":")
        if colon and not port_text:
            raise bad("empty port")
        if not host:
            raise bad("no host")
        if not _valid_host_name(host):
            raise bad(f"{host!r} is not a host name or IP address")
    port = 5061 if transport == "TLS" else 5060  # RFC 3261 §19.1.2
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise bad(f"bad port {port_text!r} (1-65535)")
        port = int(port_text)
    return Target(transport, host, port)


async def resolve_target(target: Target, *, local_host: str = "0.0.0.0") -> Target:
    """``target`` with its host name looked up (A/AAAA through the system resolver, as a TCP
    connect does), so that a UDP socket can send to it; an IP literal is returned unchanged.
    The address family follows ``local_host`` (an IPv4 bind needs an IPv4 address).  Raises
    :class:`~sipfsm.aio.ResolveError` when the name does not resolve."""
    from sipfsm.aio import ResolveError
    from sipfsm.aio._net import bare_host, is_ip_literal

    if is_ip_literal(target.host):
        return target
    local = bare_host(local_host)
    family = socket.AF_UNSPEC if local == "::" else (
        socket.AF_INET6 if ":" in local else socket.AF_INET)
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, family=family,
                                       type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise ResolveError(f"cannot look up {target.host}: {exc}") from None
    if not infos:
        raise ResolveError(f"{target.host} has no address")
    address = str(infos[0][4][0]).split("%", 1)[0]
    return Target(target.transport, address, target.port)


class TraceFanout:
    """A trace sink that forwards each record to several sinks (file, in-memory ladder)."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = [s for s in sinks if s is not None]

    def record(self, direction: Any, transport: str, local: HostPort, remote: HostPort,
               data: bytes) -> None:
        for sink in self.sinks:
            sink.record(direction, transport, local, remote, data)


class AsyncRegistration:
    """One RegistrationClient on real sockets; events arrive on an asyncio queue."""

    def __init__(self) -> None:
        self.client: RegistrationClient
        self.events: asyncio.Queue[RegistrationEvent] = asyncio.Queue()
        self._closers: list[Any] = []
        self._listeners: list[Callable[[RegistrationEvent], None]] = []

    @classmethod
    async def open(
        cls,
        config: RegistrationConfig,
        *,
        credentials: Any = None,
        local_host: str = "0.0.0.0",
        trace: Any = None,
        trace_path: Path | None = None,
        listeners: list[Callable[[RegistrationEvent], None]] | None = None,
        on_transport_error: Callable[[Target, Exception], None] | None = None,
        tls: TlsSettings | None = None,
    ) -> AsyncRegistration:
        """Bind the sockets and build the client (not started: call ``client.register()``).
        ``listeners`` see every event as it happens; ``on_transport_error`` every error a
        transport reports (before the transaction layer handles it).  ``tls``: how to
        authenticate a TLS registrar (TLS is used when the config's transport or registrar
        target says TLS, or when ``tls`` is given)."""
        self = cls()
        self._listeners = list(listeners or [])
        if config.registrar_target is not None:
            # A UDP socket sends to addresses only: look the name up as a TCP connect would.
            target = await resolve_target(config.registrar_target, local_host=local_host)
            if target != config.registrar_target:
                config = dataclasses.replace(config, registrar_target=target)
        random = SecretsRandom()
        timers = AioTimers()
        clock = SystemClock()
        try:
            writer = TraceWriter(trace_path) if trace_path is not None else None
        except OSError as exc:
            raise ConfigError(f"cannot write the trace {trace_path}: "
                              f"{exc.strerror or exc}") from None
        if writer is not None:
            self._closers.append(writer)
        sink = TraceFanout(writer, trace) if (writer is not None or trace is not None) else None
        layer_box: list[TransactionLayer] = []

        class _Deferred:
            """Transports need their receiver before the layer exists."""

            def receive(self, data: bytes, source: HostPort, transport: Any) -> None:
                layer_box[0].receive(data, source, transport)

            def transport_error(self, target: Target, error: Exception) -> None:
                if on_transport_error is not None:
                    on_transport_error(target, error)
                layer_box[0].transport_error(target, error)

        receiver = _Deferred()
        want_tcp = (config.transport or "").upper() == "TCP" or (
            config.registrar_target is not None and config.registrar_target.transport == "TCP")
        udp = await UdpTransport.open(receiver, local_host=local_host, trace=sink)
        self._closers.append(udp)
        transports: dict[str, Any] = {"UDP": udp}
        if want_tcp:
            tcp = await TcpTransport.open(receiver, local_host=local_host, listen=False,
                                          trace=sink)
            self._closers.append(tcp)
            transports["TCP"] = tcp
        # TLS when asked for, and whenever RFC 3263 picks the transport (NAPTR SIPS+D2T,
        # SRV _sips._tcp): the resolver only offers what a transport exists for.
        if tls is not None or config.registrar_target is None or "TLS" in (
                (config.transport or "").upper(),
                config.registrar_target.transport if config.registrar_target else ""):
            from sipfsm.aio.tls import TlsSettings, TlsTransport

            settings = tls or TlsSettings(server_name=(
                config.outbound_proxy or config.registrar or config.aor).host)
            transports["TLS"] = await TlsTransport.open(
                receiver, settings=settings, local_host=local_host, trace=sink,
                on_certificate_error=self._certificate_failed)
            self._closers.append(transports["TLS"])
        layer = TransactionLayer(transports, timers, random)
        layer_box.append(layer)
        resolver = DnsResolver(random=random, transports=tuple(transports))
        self._closers.append(resolver)
        self.client = RegistrationClient(
            config, layer=layer, timers=timers, clock=clock, random=random, resolver=resolver,
            credentials=credentials, observer=self._observe,
        )
        return self

    def _certificate_failed(self, target: Target, error: Exception) -> None:
        # A certificate that is not trusted or names another domain stays so: stop at once
        # rather than retry with backoff (RFC 5922 §7.3).
        with contextlib.suppress(Exception):
            self.client.stop()
        self._observe(self.client, CertificateFailed(FailureReason.TRANSPORT, None, str(error)))

    def _observe(self, client: RegistrationClient, event: RegistrationEvent) -> None:
        self.events.put_nowait(event)
        for listener in self._listeners:
            listener(event)

    @overload
    async def next_event(self, kind: type[E], /, *, timeout: float | None = None) -> E: ...

    @overload
    async def next_event(self, kind: type[E], kind2: type[E2], /, *,
                         timeout: float | None = None) -> E | E2: ...

    @overload
    async def next_event(self, kind: type[E], kind2: type[E2], kind3: type[E3], /, *,
                         timeout: float | None = None) -> E | E2 | E3: ...

    async def next_event(self, *kinds: type[object],
                         timeout: float | None = None) -> object:
        """The next event of one of ``kinds`` (others are skipped), typed as that class:
        ``event = await reg.next_event(Registered, Failed)`` is ``Registered | Failed``.
        TimeoutError after ``timeout`` seconds."""
        if not kinds:
            raise TypeError("next_event() needs at least one event class")
        return await asyncio.wait_for(self._next_matching(kinds), timeout)

    async def _next_matching(self, kinds: tuple[type[object], ...]) -> RegistrationEvent:
        while True:
            event = await self.events.get()
            if isinstance(event, kinds):
                return event

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            self.client.stop()
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                result = closer.close()
                if asyncio.iscoroutine(result):
                    await result

    async def __aenter__(self) -> AsyncRegistration:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


PoolObserver = Callable[[RegistrationClient, RegistrationEvent], None]


class _LayerReceiver:
    """The transport's receiver.  The transport needs it before the layer exists; ``bind``
    then points both entries straight at the layer's methods (no extra call per datagram)."""

    def __init__(self) -> None:
        self.receive: Callable[[bytes, HostPort, Transport], None] = self._ignore
        self.transport_error: Callable[[Target, Exception], None] = self._ignore_error

    def bind(self, layer: TransactionLayer) -> None:
        self.receive = layer.receive
        self.transport_error = layer.transport_error

    @staticmethod
    def _ignore(data: bytes, source: HostPort, transport: Transport) -> None:
        return

    @staticmethod
    def _ignore_error(target: Target, error: Exception) -> None:
        return


class RegistrationPool:
    """Many RegistrationClients in one process sharing ONE UdpTransport (one socket, one Via
    port), ONE TransactionLayer, and one set of timers, clock, randomness and resolver.

    Every client reports to the same ``observer(client, event)`` (no per-client closure; tell
    clients apart by ``client.config.aor``).  ``None`` is cheapest: a client without an observer
    does not build the binding lists of its events.  For many clients, configure them with
    ``keep_last_response=False``.  A process holding thousands of clients may also call
    ``gc.freeze()`` once they are created: every full collection otherwise walks all of them
    (about 0.4 s with 10,000 clients, an event-loop pause that delays responses)::

        async with await RegistrationPool.open(observer=on_event, local_host="127.0.0.1") as pool:
            for config, creds in accounts:
                pool.add(config, credentials=creds).register()
            ...
    """

    def __init__(
        self,
        *,
        transport: UdpTransport,
        layer: TransactionLayer,
        timers: AioTimers,
        clock: SystemClock,
        random: SecretsRandom,
        resolver: DnsResolver | None = None,
        observer: PoolObserver | None = None,
    ) -> None:
        self.transport = transport
        self.layer = layer
        self.timers = timers
        self.clock = clock
        self.random = random
        self.resolver = resolver
        self.observer = observer
        self._clients: list[RegistrationClient] = []
        self._closed = False

    @classmethod
    async def open(
        cls,
        *,
        observer: PoolObserver | None = None,
        local_host: str = "0.0.0.0",
        local_port: int = 0,
        timer_values: TimerValues | None = None,
        drop_observer: Callable[[Dropped], None] | None = None,
        resolver: bool = True,
        trace: Any = None,
        receive_buffer: int | None = 4 * 1024 * 1024,
    ) -> RegistrationPool:
        """Bind the UDP socket and build the shared layer.  ``resolver=False``: no DNS (every
        client then needs ``registrar_target`` or an IP-literal registrar).

        ``receive_buffer``: SO_RCVBUF asked for the shared socket (the kernel caps it at
        net.core.rmem_max); ``None`` keeps the system default.  Every response for every client
        queues on this one socket: with the default (~208 KiB, ~90 small datagrams on Linux) a
        burst or a pause of the event loop (a full garbage collection) overflows it, the
        dropped responses are retransmitted and the load grows."""
        random = SecretsRandom()
        timers = AioTimers()
        receiver = _LayerReceiver()
        udp = await UdpTransport.open(receiver, local_host=local_host, local_port=local_port,
                                      trace=trace)
        if receive_buffer is not None:
            udp.set_receive_buffer(receive_buffer)
        layer = TransactionLayer({"UDP": udp}, timers, random, timer_values=timer_values,
                                 observer=drop_observer)
        receiver.bind(layer)
        dns = DnsResolver(random=random, transports=("UDP",)) if resolver else None
        return cls(transport=udp, layer=layer, timers=timers, clock=SystemClock(),
                   random=random, resolver=dns, observer=observer)

    def add(self, config: RegistrationConfig, *,
            credentials: CredentialStore | None = None) -> RegistrationClient:
        """A new client on the shared transport and layer (not started: call ``register()``)."""
        if self._closed:
            raise ConfigError("this RegistrationPool is closed")
        client = RegistrationClient(
            config, layer=self.layer, timers=self.timers, clock=self.clock, random=self.random,
            resolver=self.resolver, credentials=credentials, observer=self.observer,
        )
        self._clients.append(client)
        return client

    def remove(self, client: RegistrationClient) -> None:
        """Stop ``client`` and forget it (its bindings stay until they expire)."""
        client.stop()
        with contextlib.suppress(ValueError):
            self._clients.remove(client)

    @property
    def clients(self) -> list[RegistrationClient]:
        return list(self._clients)

    @property
    def receive_buffer(self) -> int | None:
        """The shared socket's SO_RCVBUF as the kernel reports it (Linux: twice the size
        granted), or None when unknown."""
        return self.transport.receive_buffer

    def __len__(self) -> int:
        return len(self._clients)

    def stop_all(self) -> None:
        """Stop every client: timers cancelled, transactions in flight abandoned."""
        for client in self._clients:
            with contextlib.suppress(Exception):
                client.stop()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.stop_all()
        self._clients.clear()
        if self.resolver is not None:
            self.resolver.close()
        await self.transport.aclose()

    async def __aenter__(self) -> RegistrationPool:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()


def progress_printer(out: TextIO, start: float) -> Callable[[RegistrationEvent], None]:
    """Print state changes and retries as they happen (one line each), with each retry's
    cause."""
    loop_time = asyncio.get_running_loop().time

    def show(event: RegistrationEvent) -> None:
        stamp = f"[{loop_time() - start:7.3f}s]"
        if isinstance(event, StateChanged):
            print(f"{stamp} {event.old} -> {event.new}", file=out, flush=True)
        elif isinstance(event, Retrying):
            status = f" ({event.status})" if event.status else ""
            cause = f": {event.detail}" if event.detail else ""
            print(f"{stamp} {event.reason.value}{status}{cause}: retry #{event.failures} in "
                  f"{event.delay:.1f}s", file=out, flush=True)
        elif isinstance(event, Failed):
            status = f" ({event.status})" if event.status else ""
            print(f"{stamp} failed, {event.reason.value}{status}: {event.detail}", file=out,
                  flush=True)
        elif isinstance(event, BindingLapsed):
            print(f"{stamp} binding lapsed: the registrar no longer holds "
                  f"{', '.join(event.contacts)} (registering again)", file=out, flush=True)

    return show


class ProgressTrace:
    """A trace sink that tells a person what goes over the wire, one line a message: each
    REGISTER sent (and each retransmission of it while no answer comes), each response with
    what it means for the next step (a challenge, 423 with its Min-Expires, Retry-After), and
    each transport error."""

    def __init__(self, out: TextIO, start: float) -> None:
        self._out = out
        self._start = start
        self._time = asyncio.get_running_loop().time
        self._sent: dict[tuple[HostPort, bytes], int] = {}

    def _print(self, text: str) -> None:
        print(f"[{self._time() - self._start:7.3f}s] {text}", file=self._out, flush=True)

    def record(self, direction: Any, transport: str, local: HostPort, remote: HostPort,
               data: bytes) -> None:
        from sipfsm.errors import ParseError
        from sipfsm.message import Request, Response, parse

        where = f"{transport.lower()}:{remote}"
        try:
            message = parse(data)
            cseq = message.cseq
        except ParseError as exc:
            self._print(f"{direction} an unreadable message ({where}): {exc}")
            return
        if direction == "sent" and isinstance(message, Request):
            key = (remote, data)
            count = self._sent.get(key)
            if count is not None:
                # The same bytes again: the transaction retransmits (RFC 3261 §17.1.2.2).
                self._sent[key] = count + 1
                self._print(f"-> {message.method} (CSeq {cseq.number}) to {where}: "
                            f"retransmission {count + 1}, no answer yet")
                return
            if len(self._sent) > 64:
                self._sent.clear()
            self._sent[key] = 0
            notes = []
            if message.method == "REGISTER":
                notes.append(f"Expires {message.expires}" if message.expires is not None
                             else "no Expires: a query")
                if message.headers.get("Authorization") or message.headers.get(
                        "Proxy-Authorization"):
                    notes.append("with credentials")
            extra = f", {', '.join(notes)}" if notes else ""
            self._print(f"-> {message.method} (CSeq {cseq.number}{extra}) to {where}")
        elif isinstance(message, Response):
            self._print(f"<- {message.status} {message.reason} (CSeq {cseq.number}) from "
                        f"{where}{self._meaning(message)}")

    @staticmethod
    def _meaning(response: Any) -> str:
        from sipfsm.errors import ParseError

        status = response.status
        try:
            if status in (401, 407):
                return ": a challenge, answering with credentials"
            if status == 423:
                minimum = response.min_expires
                return (f": Min-Expires {minimum}, asking again for that"
                        if minimum is not None else ": no Min-Expires")
            if status >= 300 and response.retry_after is not None:
                return f": Retry-After {response.retry_after.seconds}s"
            if 300 <= status < 400:
                return ": redirected"
        except ParseError as exc:
            return f" (malformed: {exc})"
        return ""

    def transport_error(self, target: Target, error: Exception) -> None:
        self._print(f"!! {target}: {error}")


@dataclass(frozen=True)
class ClientOptions:
    """What the register / unregister / query commands were asked to do."""

    aor: SipUri
    registrar: Target | None
    registrar_uri: SipUri | None
    outbound_proxy: SipUri | None
    username: str
    password: str | None = field(repr=False)  # never in reprs, logs or tracebacks
    expires: int = 3600
    contacts: tuple[SipUri, ...] = ()
    duration: float | None = None
    trace: Path | None = None
    transport: str | None = None
    local_host: str = "0.0.0.0"
    max_failures: int = 3
    rewrite_contact: bool = False
    timeout: float | None = None  # bound on the wait for the command's answer
    max_retry_after: float | None = None  # cap on an honoured Retry-After (None: the core's)
    tls: TlsSettings | None = None  # TLS verification / client certificate (--ca-file ...)
    instance_id: str | None = None  # +sip.instance (RFC 5627 GRUU; --instance-id)


def _config_from(options: ClientOptions) -> RegistrationConfig:
    from sipfsm.registration import ContactSpec

    contacts = tuple(ContactSpec(uri=u) for u in options.contacts) or (ContactSpec(),)
    config = RegistrationConfig(
        aor=options.aor,
        registrar=options.registrar_uri,
        registrar_target=options.registrar,
        outbound_proxy=options.outbound_proxy,
        contacts=contacts,
        expires=options.expires,
        transport=options.transport,
        max_consecutive_failures=options.max_failures,
        rewrite_contact=options.rewrite_contact,
        instance_id=options.instance_id,
    )
    if options.max_retry_after is not None:
        config = dataclasses.replace(config, max_retry_after=options.max_retry_after)
    return config


def _credentials(options: ClientOptions) -> Any:
    if options.password is None:
        return None
    from sipfsm.auth import StaticCredentials

    return StaticCredentials(options.username, options.password)


def _print_bindings(event: Any, out: TextIO) -> None:
    bindings = getattr(event, "bindings", ())
    if not bindings:
        print("  (no bindings)", file=out)
    for b in bindings:
        mark = "*" if b.ours else " "
        expires = f"expires {b.expires}s" if b.expires is not None else "expires ?"
        q = f" q={b.q:g}" if b.q is not None else ""
        print(f"  {mark} {b.contact}  {expires}{q}", file=out)


# How long the closing unregister (end of --duration, or Ctrl-C) may take when --timeout does not
# say: four UDP retransmissions (0.5 + 1 + 2 + 4 s, RFC 3261 §17.1.2.2) and a margin.
UNREGISTER_WAIT = 8.0
EXIT_INTERRUPTED = 130


class _Interrupts:
    """The first SIGINT or SIGTERM asks the command to finish (unregister, then leave); the
    second to leave at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.finish = asyncio.Event()
        self.abort = asyncio.Event()
        self._loop = loop
        self._installed: list[signal.Signals] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._signalled)
            except (NotImplementedError, RuntimeError, ValueError):
                continue
            self._installed.append(sig)

    def _signalled(self) -> None:
        if self.finish.is_set():
            self.abort.set()
        self.finish.set()

    def close(self) -> None:
        for sig in self._installed:
            with contextlib.suppress(Exception):
                self._loop.remove_signal_handler(sig)


class _Ended(Enum):
    TIMEOUT = "timeout"
    FINISH = "finish"
    ABORT = "abort"


async def _outcome(registration: AsyncRegistration, kinds: tuple[type[object], ...], *,
                   within: float | None,
                   stop_on: Sequence[tuple[asyncio.Event, _Ended]]) -> RegistrationEvent | _Ended:
    """The next event of ``kinds``, or what ended the wait first: ``within`` seconds passed
    (TIMEOUT), or one of the ``stop_on`` events was set (earlier entries win)."""
    getter = asyncio.ensure_future(registration._next_matching(kinds))
    watchers = [(asyncio.ensure_future(flag.wait()), ended) for flag, ended in stop_on]
    try:
        done, _ = await asyncio.wait({getter, *(w for w, _ in watchers)},
                                     timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getter, *(w for w, _ in watchers)):
            if not task.done():
                task.cancel()
    for watcher, ended in watchers:
        if watcher in done and ended is _Ended.ABORT:
            return ended
    if getter in done:
        return getter.result()
    for watcher, ended in watchers:
        if watcher in done:
            return ended
    return _Ended.TIMEOUT


def _earliest(*limits: float | None) -> float | None:
    known = [limit for limit in limits if limit is not None]
    return max(0.0, min(known)) if known else None


@dataclass(frozen=True, slots=True)
class _Refused:
    """Every target refused at once (ICMP port unreachable, connection refused)."""

    target: Target
    error: Exception


class _Refusals:
    """The transport errors, shown as progress; those saying the destination refused at once
    (:class:`~sipfsm.errors.DestinationUnreachable`) are kept until looked at."""

    def __init__(self, progress: ProgressTrace) -> None:
        self._progress = progress
        self._seen: list[tuple[Target, Exception]] = []

    def transport_error(self, target: Target, error: Exception) -> None:
        self._progress.transport_error(target, error)
        if isinstance(error, DestinationUnreachable):
            self._seen.append((target, error))

    def take(self) -> list[tuple[Target, Exception]]:
        seen, self._seen = self._seen, []
        return seen


async def _answer(registration: AsyncRegistration, kinds: tuple[type[object], ...], *,
                  within: float | None, stop_on: Sequence[tuple[asyncio.Event, _Ended]],
                  refusals: _Refusals) -> RegistrationEvent | _Ended | _Refused:
    """:func:`_outcome`, except that a retry the client schedules because the registrar
    refused at once ends the wait (``_Refused``): nothing answers there, so there is nothing
    to wait for.  (Retries after timeouts or 5xx are waited for, within ``within``.)"""
    loop = asyncio.get_running_loop()
    deadline = None if within is None else loop.time() + within
    refusals.take()
    while True:
        left = None if deadline is None else max(0.0, deadline - loop.time())
        got = await _outcome(registration, (*kinds, Retrying), within=left, stop_on=stop_on)
        if isinstance(got, Retrying) and not isinstance(got, kinds):
            refused = refusals.take()
            if refused and got.reason is FailureReason.TRANSPORT:
                return _Refused(*refused[-1])
            continue
        return got


async def run_client(options: ClientOptions, action: str, out: TextIO, err: TextIO) -> int:
    """``register`` (then refresh until the duration ends or Ctrl-C, then unregister),
    ``unregister``, ``unregister-all`` or ``query``.  Returns the exit code.

    Every wait is bounded: ``options.timeout`` bounds the wait for the command's answer,
    ``options.duration`` the whole ``register`` command, and the closing unregister waits at
    most ``options.timeout`` or :data:`UNREGISTER_WAIT` seconds.  The first Ctrl-C (or SIGTERM)
    ends ``register`` through the unregister, the second at once (exit 130)."""
    from sipfsm.aio import ResolveError

    loop = asyncio.get_running_loop()
    start = loop.time()
    progress = ProgressTrace(err, start)
    refusals = _Refusals(progress)
    interrupts = _Interrupts(loop)
    try:
        try:
            registration = await AsyncRegistration.open(
                _config_from(options), credentials=_credentials(options),
                local_host=options.local_host, trace_path=options.trace, trace=progress,
                listeners=[progress_printer(err, start)],
                on_transport_error=refusals.transport_error, tls=options.tls)
        except ResolveError as exc:
            print(f"sipfsm: {exc}", file=err)
            return EXIT_UNREACHABLE
        except TransportError as exc:  # the local socket cannot be bound: --local-host
            raise ConfigError(f"--local-host {options.local_host}: {exc}") from None
        try:
            if action == "register":
                return await _register(registration, options, out, err, interrupts, refusals)
            return await _one_shot(registration, options, action, out, err, interrupts,
                                   refusals)
        finally:
            await registration.aclose()
    finally:
        interrupts.close()


async def _one_shot(registration: AsyncRegistration, options: ClientOptions, action: str,
                    out: TextIO, err: TextIO, interrupts: _Interrupts,
                    refusals: _Refusals) -> int:
    from sipfsm.registration import BindingsReported, Unregistered

    client = registration.client
    kinds: tuple[type[object], ...]
    if action == "query":
        client.query()
        kinds, what = (BindingsReported, Failed), "query"
    else:
        if action == "unregister-all":
            client.unregister_all()
        else:
            client.unregister()
        kinds, what = (Unregistered, Failed), "unregister"
    got = await _answer(registration, kinds, within=options.timeout,
                        stop_on=[(interrupts.finish, _Ended.ABORT)], refusals=refusals)
    if isinstance(got, _Refused):
        print(f"sipfsm: {what} failed: {got.target} unreachable: {got.error}", file=err)
        return EXIT_UNREACHABLE
    if got is _Ended.ABORT:
        print(f"sipfsm: interrupted before the {what} completed", file=err)
        return EXIT_INTERRUPTED
    if got is _Ended.TIMEOUT:
        print(f"sipfsm: no answer to the {what} within {options.timeout:g}s (--timeout)",
              file=err)
        return EXIT_UNREACHABLE
    if isinstance(got, Failed):
        print(f"sipfsm: {what} failed: {got.detail}", file=err)
        return exit_code_for(got)
    if isinstance(got, BindingsReported):
        print(f"bindings of {options.aor}:", file=out)
    else:
        print(f"unregistered; remaining bindings of {options.aor}:", file=out)
    _print_bindings(got, out)
    return 0


async def _register(registration: AsyncRegistration, options: ClientOptions, out: TextIO,
                    err: TextIO, interrupts: _Interrupts, refusals: _Refusals) -> int:
    from sipfsm.registration import Refreshed, Registered, Unregistered

    loop = asyncio.get_running_loop()
    began = loop.time()  # the sockets are open: the first REGISTER leaves now
    deadline = None if options.duration is None else began + options.duration

    def remaining() -> float | None:
        return None if deadline is None else max(0.0, deadline - loop.time())

    either = [(interrupts.abort, _Ended.ABORT), (interrupts.finish, _Ended.FINISH)]
    client = registration.client
    client.register()
    left = remaining()
    within = _earliest(options.timeout, left)
    got = await _answer(registration, (Registered, Failed), within=within, stop_on=either,
                        refusals=refusals)
    if isinstance(got, _Refused):
        # Nothing listens there: the retries could only be refused too.
        print(f"sipfsm: registration failed: {got.target} unreachable: {got.error}",
              file=err)
        return EXIT_UNREACHABLE
    if isinstance(got, Failed):
        print(f"sipfsm: registration failed: {got.detail}", file=err)
        return exit_code_for(got)
    if got is _Ended.ABORT or got is _Ended.FINISH:
        print("sipfsm: interrupted before the registration completed", file=err)
        return EXIT_INTERRUPTED
    if got is _Ended.TIMEOUT:
        which = ("--timeout" if options.timeout is not None
                 and (left is None or options.timeout <= left) else "--duration")
        print(f"sipfsm: not registered within {loop.time() - began:.1f}s ({which})", file=err)
        return EXIT_UNREACHABLE
    assert isinstance(got, Registered)
    print(f"registered {options.aor} for {got.expires}s", file=out)
    _print_bindings(got, out)
    # RFC 5627 GRUUs and RFC 3327 Path values, when the registrar gave them.
    for label, value in (("pub-gruu", got.pub_gruu), ("temp-gruu", got.temp_gruu)):
        if value:
            print(f"  {label} {value}", file=out)
    if got.path:
        print("  path " + ", ".join(got.path), file=out)
    out.flush()
    while True:
        got = await _outcome(registration, (Refreshed, Failed), within=remaining(),
                             stop_on=either)
        if isinstance(got, Refreshed):
            print(f"refreshed for {got.expires}s", file=out, flush=True)
            continue
        if isinstance(got, Failed):
            # --max-failures reached (or a permanent failure): the binding is not kept.
            print(f"sipfsm: registration failed: {got.detail}", file=err)
            return exit_code_for(got)
        if got is _Ended.ABORT:
            return EXIT_INTERRUPTED
        break  # Ctrl-C or the end of --duration
    wait = options.timeout if options.timeout is not None else UNREGISTER_WAIT
    if interrupts.finish.is_set():
        print(f"sipfsm: unregistering (at most {wait:g}s; Ctrl-C again to leave now)",
              file=err, flush=True)
    client.unregister()
    got = await _answer(registration, (Unregistered, Failed), within=wait,
                        stop_on=[(interrupts.abort, _Ended.ABORT)], refusals=refusals)
    if isinstance(got, _Refused):
        print(f"sipfsm: unregister failed: {got.target} unreachable: {got.error}; the "
              "registrar keeps the binding until it expires", file=err)
        return EXIT_UNREACHABLE
    if got is _Ended.ABORT:
        print("sipfsm: interrupted; the registrar keeps the binding until it expires", file=err)
        return EXIT_INTERRUPTED
    if got is _Ended.TIMEOUT:
        print(f"sipfsm: no answer to the unregister within {wait:g}s; the registrar keeps the "
              "binding until it expires", file=err)
        return EXIT_UNREACHABLE
    if isinstance(got, Failed):
        print(f"sipfsm: unregister failed: {got.detail}", file=err)
        return exit_code_for(got)
    print(f"unregistered {options.aor}", file=out)
    return 0
