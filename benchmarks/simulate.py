"""Benchmark: many registration clients refreshing for hours of virtual time over a lossy network.

N UAs (one :class:`~sipfsm.registration.RegistrationClient` each, one AOR each, distinct
Call-IDs) register and keep refreshing for H virtual hours against ONE simulated registrar, all on
ONE simulator :class:`~sipfsm.sim.Scheduler` and ONE :class:`~sipfsm.sim.Network` whose links lose
a fraction P of the datagrams (both ways).  No trace is recorded.

Phases (each bounded by what is left of ``--max-wall``; a phase cut short reports partial results):

1. ``scaled``: the same run with N/10 UAs (the baseline for how the cost scales);
2. ``hand``: the same N/10 UAs as a minimal hand-written refresh loop with no state machine (no
   transaction layer, no registration machine): the floor that the simulator, the network, the
   message layer and the registrar cost by themselves;
3. ``main``: the N-UA run, timed (wall and CPU time, and the time spent in the garbage
   collector), with the RSS delta;
4. ``memory``: N/10 UAs again under tracemalloc: bytes allocated and still live per UA after
   setup and after the run (tracing slows Python down, so it is not the timed run).

The clients are built with ``RegistrationConfig(keep_last_response=False)`` unless
``--keep-last-response`` is given: a kept response costs ~2.5 KiB and ~20 objects a client, and
the garbage collector walking them made the run ~25 % slower.  Every client has one shared
observer counting outcomes (``--no-observer`` to drop it).

The collector is set as ``sipfsm load`` sets it for thousands of clients: ``gc.freeze()`` once
the clients are built and after every simulated minute, first-generation threshold 10,000
(``--no-gc-freeze --gc-threshold 0``: Python's defaults, the run is the same).  With Python's
defaults every older-generation pass walks every client: ~37 % of the 10,000-UA run.  The
clients make no cyclic garbage; what would have been is collected and counted after the run.

Layouts (``--layout``): ``per-ua`` gives every UA its own SimTransport endpoint address and its
own TransactionLayer; ``shared`` puts ``--per-endpoint`` UAs behind each endpoint, sharing its
TransactionLayer (responses are matched by branch; each UA's contact differs by its user part).

Registrars (``--registrar``): ``echo`` parses each REGISTER and answers 200 listing the request's
contacts with ``;expires=<requested>`` (byte for byte the conformance harness's ``ok_echo``,
built without parsing the contact URIs); ``core`` is the embedded registrar (``Registrar`` behind
``RegistrarEndpoint``, authentication off); ``both`` runs the main phase once with each.

``--processes P`` splits the main phase's UAs over P forked processes (each its own scheduler,
network, registrar and seed, as ``sipfsm load --processes`` shards users).  The default is every
usable core (``len(os.sched_getaffinity(0))`` where the platform has it, else ``os.cpu_count()``),
as for ``sipfsm load``; ``--processes 1`` runs the main phase in this process.  The statistics
are merged: counts, CPU and RSS summed, the run wall the slowest process's (each process's own
line is printed too).  Shard k runs UAs ``first .. first + size - 1`` with seed ``seed + 7919 k``,
so for a given seed and process count the run is deterministic; another process count is
another (equally valid) run.  The other phases run in this process.

Run: ``python benchmarks/simulate.py [--uas 10000] [--hours 24] [--loss 0.10] [--expires 3600]``.
Targets (issue 14): 10,000 UAs x 24 h with 10 % loss in <= 20 s wall; <= 4 KiB RSS per live,
refreshing registration at 10,000 and at 100,000 UAs (`--layout shared`, as in RegistrationPool).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import re
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sipfsm.conformance.harness import ok_echo
from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, SipUri, parse
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.registration import (
    FailureReason,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    Retrying,
)
from sipfsm.sim import LinkFaults, Network, Scheduler, SeededRandom
from sipfsm.transaction import TimerValues, TransactionLayer

REGISTRAR = HostPort("192.0.2.1", 5060)
REGISTRAR_TARGET = Target("UDP", REGISTRAR.host, REGISTRAR.port)
DOMAIN = "example.com"
CHUNK = 60.0  # virtual seconds run between two checks of the wall-clock limit
_COPIED = frozenset({"From", "To", "Call-ID", "CSeq", "Expires"})


# --------------------------------------------------------------------------------------------
# Registrars
# --------------------------------------------------------------------------------------------


# The request header names the echo registrar reads from the bytes (as sipfsm's clients write
# them) -> what it does with the row: 0 Via, 1 From, 2 To, 3 Call-ID, 4 CSeq, 5 Contact,
# 6 Expires, 9 nothing.  Any other name (a compact form, another spelling) takes the parsing path.
_ROLES = {b"Via": 0, b"From": 1, b"To": 2, b"Call-ID": 3, b"CSeq": 4, b"Contact": 5,
          b"Expires": 6, b"Max-Forwards": 9, b"Supported": 9, b"User-Agent": 9,
          b"Content-Length": 9, b"Authorization": 9, b"Proxy-Authorization": 9, b"Route": 9,
          b"Require": 9, b"Proxy-Require": 9, b"Allow": 9, b"Path": 9, b"Timestamp": 9}


# The exact shape of the REGISTER sipfsm's clients send in this benchmark (no credentials, one
# contact without parameters): values without surrounding whitespace or quotes, a Via and a
# contact without commas, no CR or LF but the line ends.  Read by one regular expression plus
# checks of the values it captures: the expression lets any byte but CR into a value (sre runs
# over "not one byte" about twice as fast as over a set of bytes) and the checks then refuse a
# LF or a quote in a value and a comma in the Via -- which is exactly the shape (see
# tests/sim/test_echo_registrar.py: the same matches and groups as the one expression written
# with sets, ``[^\r\n"]*``).  A value's last character is checked by looking behind.
_VALUE = rb'([^\s"][^\r]*(?<=[^\s"]))'
_USUAL = re.compile(
    rb"REGISTER [^\r\n]* SIP/2\.0\r\nVia: " + _VALUE + rb"\r\n"
    rb"Max-Forwards: \d+\r\nTo: " + _VALUE + rb"\r\nFrom: " + _VALUE + rb"\r\nCall-ID: " + _VALUE
    + rb"\r\nCSeq: " + _VALUE + rb"\r\nContact: (<[^\s\",>*]*>)\r\nExpires: (\d+)\r\n"
    # Possessive: a line given back could not start "Content-Length" (~10 % of the match).
    rb"(?:(?:Supported|User-Agent): [^\r\n]*\r\n)*+Content-Length: 0\r\n\r\n")
_USUAL_ANSWER = (b"SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s\r\nCall-ID: %s\r\n"
                 b"CSeq: %s\r\n%sContent-Length: 0\r\n\r\n")


def usual_groups(data: bytes) -> tuple[bytes, ...] | None:
    """Via, To, From, Call-ID, CSeq, Contact and Expires of a request of the usual shape; None
    for any other."""
    usual = _USUAL.fullmatch(data)
    if usual is None:
        return None
    groups = usual.groups()
    via, to, from_, call_id, cseq = groups[:5]
    # Bytes tested as ints: ``10 in value`` is a plain scan, ``b"\\n" in value`` first fails to
    # read b"\\n" as an int (an exception made and dropped: ~10x slower on CPython 3.11).
    if (10 in via or 10 in to or 10 in from_ or 10 in call_id or 10 in cseq  # LF
            or 34 in via or 34 in to or 34 in from_ or 34 in call_id or 34 in cseq  # "
            or 44 in via):  # ,
        return None
    return groups


class _Unusual(Exception):
    """The request is not in the shape the byte path reads: parse it instead."""


class EchoRegistrar:
    """A ``ports.Receiver``: 200 to every REGISTER, listing its contacts with ``;expires=`` the
    requested Expires (3600 when absent); none for ``Expires: 0`` or ``Contact: *``.  Stateless
    (retransmissions are answered again), like ``ok_echo`` behind the conformance harness.

    The registrar side is not what is measured, so it is cheap: a request in the shape sipfsm's
    clients send (the header names above, one value a row, no quoted strings, no folding) is read
    straight from its bytes (one regular expression for the usual REGISTER) and answered from
    byte templates; anything else is parsed with
    :func:`sipfsm.message.parse` and answered from its rows.  Either way the answer is byte for
    byte what the conformance harness's ``ok_echo(request).to_bytes()`` gives -- checked on the
    first request of every run, and on every request with ``verify=True``."""

    def __init__(self, *, verify: bool = False) -> None:
        self.received = 0
        self.sent = 0
        self.bad = 0
        self.parsed = 0  # requests that took the parsing path
        self.verify = verify
        self._checked = False
        self._targets: dict[tuple[str, str, int], Target] = {}

    def rows(self, request: Request) -> list[tuple[str, str]]:
        """The response's header rows, in :func:`reply`'s order, read in one pass over the
        request's rows (§8.2.6.2: Vias, From, To + tag, Call-ID, CSeq; then the contacts)."""
        vias: list[tuple[str, str]] = []
        copied: dict[str, str] = {}
        contacts = False
        for name, value in request.headers:
            if name == "Via":
                vias.append((name, value))
            elif name == "Contact":
                contacts = True
            elif name in _COPIED and name not in copied:
                copied[name] = value
        expires = copied.get("Expires", "3600")
        to = copied.get("To", "")
        rows = [*vias, ("From", copied.get("From", "")),
                ("To", to if ";tag=" in to else f"{to};tag=reg"),
                ("Call-ID", copied.get("Call-ID", "")), ("CSeq", copied.get("CSeq", ""))]
        if expires.strip() != "0" and contacts:
            # The client sends each contact as <uri>[;params]: appending the param is enough.
            rows.extend(("Contact", f"{contact};expires={expires}")
                        for contact in request.headers.get_all("Contact") if contact != "*")
        return rows

    @staticmethod
    def answer_bytes(data: bytes) -> bytes | None:
        """The 200 to ``data`` read from its bytes; None for a response; :class:`_Unusual` when
        the request is not in the shape this reads."""
        usual = usual_groups(data)
        if usual is not None:
            via, to, from_, call_id, cseq, contact, expires_text = usual
            expires = int(expires_text)
            return _USUAL_ANSWER % (
                via, from_, to, b"" if to.find(b";tag=") >= 0 else b";tag=reg", call_id, cseq,
                b"Contact: %s;expires=%d\r\n" % (contact, expires) if expires else b"")
        lines = data.split(b"\r\n")
        if lines[0].startswith(b"SIP/"):
            return None
        out = [b"SIP/2.0 200 OK"]
        found: list[bytes | None] = [None, None, None, None, None]  # -, From, To, Call-ID, CSeq
        contacts: list[bytes] = []
        expires = 3600
        roles = _ROLES
        for line in lines[1:]:
            if not line:
                break
            name, colon, value = line.partition(b":")
            role = roles.get(name)
            if role is None or not colon or b'"' in value:
                raise _Unusual
            if role == 9:
                continue
            value = value.strip()
            if role == 0:
                if b"," in value:
                    raise _Unusual
                out.append(b"Via: " + value)
            elif role == 5:
                if b"," in value:
                    raise _Unusual
                contacts.append(value)
            elif role == 6:
                if not value.isdigit():
                    raise _Unusual
                expires = int(value)
            elif found[role] is None:
                found[role] = value
        else:
            raise _Unusual  # no blank line ending the head
        if len(out) == 1 or None in found[1:]:
            raise _Unusual
        to = found[2]
        assert to is not None
        out.append(b"From: " + found[1])  # type: ignore[operator]
        out.append(b"To: " + to if b";tag=" in to else b"To: " + to + b";tag=reg")
        out.append(b"Call-ID: " + found[3])  # type: ignore[operator]
        out.append(b"CSeq: " + found[4])  # type: ignore[operator]
        if expires != 0 and b"*" not in contacts:
            out.extend(b"Contact: %s;expires=%d" % (contact, expires) for contact in contacts)
        out.append(b"Content-Length: 0\r\n\r\n")
        return b"\r\n".join(out)

    def answer_parsed(self, data: bytes) -> bytes | None:
        """The 200 to ``data`` from its parsed rows (None: a response or bad bytes)."""
        self.parsed += 1
        try:
            request = parse(data)
        except ParseError:
            self.bad += 1
            return None
        if not isinstance(request, Request):
            return None
        rows = self.rows(request)
        return "\r\n".join(["SIP/2.0 200 OK", *[f"{n}: {v}" for n, v in rows],
                             "Content-Length: 0", "\r\n"]).encode()

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.received += 1
        try:
            wire = self.answer_bytes(data)
        except _Unusual:
            wire = self.answer_parsed(data)
        if wire is None:
            return
        if self.verify or not self._checked:
            request = parse(data)
            assert isinstance(request, Request)
            assert wire == ok_echo(request).to_bytes(), (wire, ok_echo(request).to_bytes())
            self._checked = True
        self.sent += 1
        key = (transport.name, source.host, source.port)
        target = self._targets.get(key)
        if target is None:
            target = self._targets[key] = Target(transport.name, source.host, source.port)
        transport.send(wire, target)

    def transport_error(self, target: Target, error: Exception) -> None:
        return


class CountingEndpoint:
    """Counts the responses a ``RegistrarEndpoint`` sends (it has no counter of its own)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent = 0

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.inner.receive(data, source, _CountingTransport(self, transport))

    def transport_error(self, target: Target, error: Exception) -> None:
        self.inner.transport_error(target, error)


class _CountingTransport:
    def __init__(self, counter: CountingEndpoint, inner: Transport) -> None:
        self._counter = counter
        self._inner = inner
        self.name = inner.name
        self.reliable = inner.reliable

    def local_address(self) -> HostPort:
        return self._inner.local_address()

    def send(self, data: bytes, target: Target) -> None:
        self._counter.sent += 1
        self._inner.send(data, target)


def make_registrar(kind: str, scheduler: Scheduler, expires: int, seed: int, *,
                   verify: bool = False) -> Any:
    if kind == "echo":
        return EchoRegistrar(verify=verify)
    from sipfsm.registrar.core import Registrar, RegistrarConfig
    from sipfsm.registrar.endpoint import RegistrarEndpoint

    config = RegistrarConfig(users=None, max_expires=max(expires, 3600),
                             min_expires=min(60, expires))
    core = Registrar(config, scheduler, SeededRandom(seed + 3))
    return CountingEndpoint(RegistrarEndpoint(core))


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def vm_rss() -> int:
    """Resident set size now, in bytes (/proc/self/status VmRSS; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return peak_rss()


def peak_rss() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


@dataclass
class Result:
    name: str
    uas: int
    hours: float
    wall: float = 0.0  # seconds of wall time for the run itself (setup excluded)
    cpu: float = 0.0  # process CPU seconds for the same (other load on the machine shows here)
    gc_time: float = 0.0  # wall seconds of the run spent in the cyclic garbage collector
    cyclic_garbage: int = 0  # objects the collector found unreachable after the run (unfrozen)
    gc_runs: tuple[int, int, int] = (0, 0, 0)  # collections per generation during the run
    setup_wall: float = 0.0
    virtual: float = 0.0  # virtual seconds reached
    partial: bool = False
    transactions: int = 0  # REGISTER transactions completed (final response or timeout)
    successes: int = 0  # 2xx outcomes (Registered / Refreshed)
    timeouts: int = 0
    registers_sent: int = 0  # datagrams, retransmissions included
    responses_sent: int = 0
    lost: int = 0
    events: int = 0  # scheduler events run
    registered: int = 0  # UAs whose binding exists at the end (registered or refreshing)
    states: dict[str, int] = field(default_factory=dict)
    rss_setup: int = 0  # VmRSS growth over setup, bytes
    rss_run: int = 0  # VmRSS growth over setup + run, bytes
    traced_setup: float = 0.0  # tracemalloc bytes per UA, live after setup
    traced_run: float = 0.0  # ... live after the run
    traced_peak: float = 0.0  # ... peak during setup + run
    top: list[str] = field(default_factory=list)
    shards: int = 1  # processes the UAs were split over (simulate_sharded)
    elapsed: float = 0.0  # sharded: the parent's wall time, fork to last result (setup included)
    parts: list[Result] = field(default_factory=list)  # sharded: each process's own result

    @property
    def tx_per_s(self) -> float:
        return self.transactions / self.wall if self.wall > 0 else 0.0


class Counts:
    """The observer shared by every client (one function, no per-UA state)."""

    __slots__ = ("successes", "timeouts")

    def __init__(self) -> None:
        self.successes = 0
        self.timeouts = 0

    def __call__(self, client: RegistrationClient, event: object) -> None:
        kind = type(event)
        if kind is Registered or kind is Refreshed:
            self.successes += 1
        elif kind is Retrying and event.reason is FailureReason.TIMEOUT:  # type: ignore[attr-defined]
            self.timeouts += 1


def ua_address(index: int) -> HostPort:
    # 10.0.0.1, 10.0.0.2, ...: one address per endpoint.
    n = index + 1
    return HostPort(f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}", 5060)


class GcTimer:
    """Time spent in the cyclic garbage collector (gc.callbacks), per run."""

    def __init__(self) -> None:
        self.total = 0.0
        self.runs = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start
            self.runs[info["generation"]] += 1

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def run_until(scheduler: Scheduler, end: float, deadline: float, *, freeze: bool = False) -> bool:
    """Run the scheduler to ``end`` in chunks; False when the wall-clock deadline cut it short.
    ``freeze``: ``gc.freeze()`` after every chunk, so that what the clients keep (bindings,
    timers, the next refresh's state) leaves the collector's generations instead of being walked
    by every older-generation pass (``sipfsm load`` freezes after each batch of starts)."""
    while scheduler.now < end:
        scheduler.run(until=min(end, scheduler.now + CHUNK))
        if freeze:
            gc.freeze()
        if time.perf_counter() >= deadline and scheduler.now < end:
            return False
    return True


@contextlib.contextmanager
def gc_policy(opts: Options) -> Iterator[None]:
    """``opts.gc_threshold`` as the first generation's threshold for the run, restored after."""
    saved = gc.get_threshold()
    if opts.gc_threshold:
        gc.set_threshold(opts.gc_threshold, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def unfrozen_garbage() -> int:
    """Unfreeze and collect: the number of objects that were cyclic garbage -- what freezing
    kept alive (reported, so that a client leaking cycles under the freeze shows)."""
    gc.unfreeze()
    return gc.collect()


# --------------------------------------------------------------------------------------------
# The simulated run (sipfsm's clients)
# --------------------------------------------------------------------------------------------


@dataclass
class Options:
    uas: int
    hours: float
    loss: float
    expires: int
    seed: int
    layout: str
    per_endpoint: int
    registrar: str
    ramp: float
    delay: tuple[float, float]
    observer: bool = True  # one shared observer counting outcomes (as an application would)
    # RegistrationConfig.keep_last_response: off by default here, as an application running
    # thousands of clients would set it (a kept response is ~2.5 KiB and ~20 objects a client
    # for the garbage collector to walk: ~25 % more CPU in this benchmark).
    keep_last_response: bool = False
    # gc.freeze() once the clients are built and after every chunk of the run: what
    # RegistrationPool's documentation advises an application holding thousands of clients to do
    # and what ``sipfsm load`` does (every older-generation pass otherwise walks them all: ~35 %
    # of the 10,000-UA run's time with Python's defaults).  Whatever was cyclic garbage under the
    # freeze is collected and counted at the end (Result.cyclic_garbage).
    gc_freeze: bool = True
    # gc.set_threshold(N) for the run (0: Python's own, 700); ``sipfsm load`` raises it to 10,000:
    # a transaction's few hundred objects are freed by reference counting within moments.
    gc_threshold: int = 10_000
    # The echo registrar checks every answer against ok_echo (tests; slow), not just the first.
    verify_echo: bool = False
    first: int = 0  # index of the first UA (user u<index>): a shard's UAs continue the numbering


def simulate(name: str, opts: Options, deadline: float, *, trace_memory: bool = False,
             top: int = 0) -> Result:
    result = Result(name, opts.uas, opts.hours)
    gc.collect()
    rss0 = vm_rss()
    if trace_memory:
        tracemalloc.start()
    traced0 = tracemalloc.get_traced_memory()[0] if trace_memory else 0
    t0 = time.perf_counter()

    scheduler = Scheduler()
    net = Network(scheduler, seed=opts.seed,
                  faults=LinkFaults(loss=opts.loss, delay=opts.delay))
    registrar = make_registrar(opts.registrar, scheduler, opts.expires, opts.seed,
                               verify=opts.verify_echo)
    net.endpoint(REGISTRAR, "UDP", registrar)
    # One Random for every layer and client: tokens (Call-IDs, tags, branches) stay distinct and
    # a random.Random per UA would cost ~2.5 KiB each.
    rng = SeededRandom(opts.seed + 1)
    timer_values = TimerValues()
    counts = Counts()
    clients: list[RegistrationClient] = []
    layer: TransactionLayer | None = None
    per_endpoint = 1 if opts.layout == "per-ua" else max(1, opts.per_endpoint)
    # Passed only when off: the same script then also runs against versions without the option.
    extra = {} if opts.keep_last_response else {"keep_last_response": False}
    for i in range(opts.uas):
        if i % per_endpoint == 0:
            endpoint = net.endpoint(ua_address(i // per_endpoint), "UDP")
            layer = TransactionLayer(endpoint, scheduler, rng, timer_values=timer_values)
            endpoint.bind(layer)
        assert layer is not None
        config = RegistrationConfig(
            aor=SipUri(scheme="sip", host=DOMAIN, user=f"u{opts.first + i:06d}"),
            registrar_target=REGISTRAR_TARGET,
            expires=opts.expires,
            **extra,
        )
        client = RegistrationClient(config, layer=layer, timers=scheduler, clock=scheduler,
                                    random=rng, observer=counts if opts.observer else None)
        clients.append(client)
        # Spread the initial REGISTERs over the ramp so that they do not all leave at t=0.
        scheduler.call_at(rng.uniform(0.0, opts.ramp), client.register, "start")
    del config, client, layer
    result.setup_wall = time.perf_counter() - t0
    gc.collect()
    if opts.gc_freeze:
        gc.freeze()
    result.rss_setup = vm_rss() - rss0
    if trace_memory:
        result.traced_setup = (tracemalloc.get_traced_memory()[0] - traced0) / opts.uas

    t1, c1 = time.perf_counter(), time.process_time()
    with GcTimer() as gc_timer, gc_policy(opts):
        finished = run_until(scheduler, opts.hours * 3600.0, deadline, freeze=opts.gc_freeze)
    result.wall = time.perf_counter() - t1
    result.cpu = time.process_time() - c1
    result.cyclic_garbage = unfrozen_garbage()
    result.gc_time, result.gc_runs = gc_timer.total, tuple(gc_timer.runs)  # type: ignore[assignment]
    result.partial = not finished
    result.virtual = scheduler.now

    result.events = scheduler.events_run
    result.transactions = sum(c.cseq for c in clients) - sum(1 for c in clients if c.in_flight)
    result.successes = counts.successes
    result.timeouts = counts.timeouts
    result.responses_sent = registrar.sent
    result.registers_sent = net.stats["sent"] - registrar.sent
    result.lost = net.stats["lost"]
    for c in clients:
        result.states[c.state] = result.states.get(c.state, 0) + 1
    result.registered = result.states.get("registered", 0) + result.states.get("refreshing", 0)
    gc.collect()
    result.rss_run = vm_rss() - rss0
    if trace_memory:
        current, peak = tracemalloc.get_traced_memory()
        result.traced_run = (current - traced0) / opts.uas
        result.traced_peak = (peak - traced0) / opts.uas
        if top:
            snapshot = tracemalloc.take_snapshot()
            for stat in snapshot.statistics("lineno")[:top]:
                frame = stat.traceback[0]
                where = os.path.relpath(frame.filename)
                result.top.append(f"{stat.size / opts.uas:8.0f} B/UA  {stat.count:9d} blocks  "
                                  f"{where}:{frame.lineno}")
        tracemalloc.stop()
    return result


# --------------------------------------------------------------------------------------------
# The baseline: a minimal hand-written refresh loop, no state machine
# --------------------------------------------------------------------------------------------


class HandUA:
    """One UA as plain code: a REGISTER from a template, Timer E/F-style retransmissions, and a
    refresh when the 200 arrives.  Shares the scheduler, network, message parser and registrar
    with the real run; has none of the transaction layer or the registration machine."""

    __slots__ = (
        "_branch",
        "_cseq",
        "_data",
        "_endpoint",
        "_interval",
        "_prefix",
        "_suffix",
        "_tail",
        "_timer_e",
        "_timer_f",
        "ctx",
        "registered",
        "transactions",
    )

    def __init__(self, ctx: HandContext, index: int, endpoint: Any, local: HostPort) -> None:
        self.ctx = ctx
        self._endpoint = endpoint
        user = f"u{index:06d}"
        call_id = ctx.rng.token(128)
        tag = ctx.rng.token(64)
        self._prefix = f"REGISTER sip:{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch="
        self._suffix = (
            f";rport\r\nMax-Forwards: 70\r\nTo: <sip:{user}@{DOMAIN}>\r\n"
            f"From: <sip:{user}@{DOMAIN}>;tag={tag}\r\nCall-ID: {call_id}\r\nCSeq: "
        )
        self._tail = (
            f" REGISTER\r\nContact: <sip:{user}@{local}>\r\nExpires: {ctx.expires}\r\n"
            "User-Agent: sipfsm\r\nContent-Length: 0\r\n\r\n"
        )
        self._cseq = 0
        self._data = b""
        self._branch = ""
        self._timer_e: Any = None
        self._timer_f: Any = None
        self._interval = 0.5
        self.registered = False
        self.transactions = 0

    def send(self) -> None:
        self._cseq += 1
        self._branch = "z9hG4bK" + self.ctx.rng.token(72)
        self._data = f"{self._prefix}{self._branch}{self._suffix}{self._cseq}{self._tail}".encode()
        self._interval = 0.5
        sched = self.ctx.scheduler
        self._timer_f = sched.start("F", 32.0, self._timeout)
        self._timer_e = sched.start("E", 0.5, self._retransmit)
        self._endpoint.send(self._data, REGISTRAR_TARGET)

    def _retransmit(self) -> None:
        self._interval = min(2 * self._interval, 4.0)
        self._timer_e = self.ctx.scheduler.start("E", self._interval, self._retransmit)
        self._endpoint.send(self._data, REGISTRAR_TARGET)

    def _timeout(self) -> None:
        self._timer_e.cancel()
        self._timer_e = self._timer_f = None
        self.transactions += 1
        self.ctx.timeouts += 1
        self.ctx.scheduler.start("retry", self.ctx.rng.uniform(15.0, 30.0), self.send)

    def response(self, message: Response) -> None:
        if self._timer_f is None or message.vias[0].branch != self._branch:
            return  # a retransmitted 200 after the transaction ended
        self._timer_e.cancel()
        self._timer_f.cancel()
        self._timer_e = self._timer_f = None
        self.transactions += 1
        self.ctx.successes += 1
        self.registered = True
        expiry = self.ctx.expires
        for contact in message.contacts:
            value = contact.params.get("expires")
            if value is not None:
                expiry = int(value)
        delay = self.ctx.refresh.delay(expiry, self.ctx.rng)
        self.ctx.scheduler.start("refresh", delay, self.send)


class HandContext:
    def __init__(self, scheduler: Scheduler, rng: SeededRandom, expires: int) -> None:
        self.scheduler = scheduler
        self.rng = rng
        self.expires = expires
        self.refresh = RefreshPolicy()
        self.successes = 0
        self.timeouts = 0


class HandEndpointReceiver:
    """The UAs behind one endpoint: responses are routed by user part (the To header)."""

    def __init__(self) -> None:
        self.uas: dict[str, HandUA] = {}

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        try:
            message = parse(data)
        except ParseError:
            return
        if isinstance(message, Response):
            ua = self.uas.get(message.call_id)
            if ua is not None:
                ua.response(message)

    def transport_error(self, target: Target, error: Exception) -> None:
        return


def hand_loop(name: str, opts: Options, deadline: float) -> Result:
    result = Result(name, opts.uas, opts.hours)
    gc.collect()
    rss0 = vm_rss()
    t0 = time.perf_counter()
    scheduler = Scheduler()
    net = Network(scheduler, seed=opts.seed, faults=LinkFaults(loss=opts.loss, delay=opts.delay))
    registrar = make_registrar(opts.registrar, scheduler, opts.expires, opts.seed,
                               verify=opts.verify_echo)
    net.endpoint(REGISTRAR, "UDP", registrar)
    rng = SeededRandom(opts.seed + 1)
    ctx = HandContext(scheduler, rng, opts.expires)
    uas: list[HandUA] = []
    per_endpoint = 1 if opts.layout == "per-ua" else max(1, opts.per_endpoint)
    receiver = HandEndpointReceiver()
    endpoint: Any = None
    local = REGISTRAR
    for i in range(opts.uas):
        if i % per_endpoint == 0:
            local = ua_address(i // per_endpoint)
            receiver = HandEndpointReceiver()
            endpoint = net.endpoint(local, "UDP", receiver)
        ua = HandUA(ctx, opts.first + i, endpoint, local)
        receiver.uas[ua._suffix.split("Call-ID: ")[1].split("\r\n")[0]] = ua
        uas.append(ua)
        scheduler.call_at(rng.uniform(0.0, opts.ramp), ua.send, "start")
    result.setup_wall = time.perf_counter() - t0
    result.rss_setup = vm_rss() - rss0
    gc.collect()
    if opts.gc_freeze:
        gc.freeze()
    t1, c1 = time.perf_counter(), time.process_time()
    with GcTimer() as gc_timer, gc_policy(opts):
        result.partial = not run_until(scheduler, opts.hours * 3600.0, deadline,
                                       freeze=opts.gc_freeze)
    result.wall = time.perf_counter() - t1
    result.cpu = time.process_time() - c1
    result.cyclic_garbage = unfrozen_garbage()
    result.gc_time, result.gc_runs = gc_timer.total, tuple(gc_timer.runs)  # type: ignore[assignment]
    result.virtual = scheduler.now
    result.events = scheduler.events_run
    result.transactions = sum(ua.transactions for ua in uas)
    result.successes = ctx.successes
    result.timeouts = ctx.timeouts
    result.responses_sent = registrar.sent
    result.registers_sent = net.stats["sent"] - registrar.sent
    result.lost = net.stats["lost"]
    result.registered = sum(1 for ua in uas if ua.registered)
    result.rss_run = vm_rss() - rss0
    return result


# --------------------------------------------------------------------------------------------
# Sharding: the UAs over several processes (as ``sipfsm load --processes`` does)
# --------------------------------------------------------------------------------------------


def _shard_main(name: str, opts: Options, deadline: float, conn: Any) -> None:
    try:
        conn.send(simulate(name, opts, deadline))
    finally:
        conn.close()


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the platform tells it, as
    ``sipfsm load --processes`` counts them), else the machine's."""
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def simulate_sharded(name: str, opts: Options, deadline: float, processes: int) -> Result:
    """The run of :func:`simulate` with the UAs split over ``processes`` forked processes, each
    its own scheduler, network, registrar and seed (``seed + 7919 * shard``: each shard is as
    deterministic as a single run, the whole is not the single run's trace); the results are
    summed (CPU, counts, RSS), ``wall`` is the slowest shard's run and ``elapsed`` the parent's
    wall time from the fork to the last result (setup included).  More processes than UAs are
    fewer processes: one UA each."""
    processes = min(processes, opts.uas)
    if processes <= 1:
        return simulate(name, opts, deadline)
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    sizes = [opts.uas // processes + (1 if k < opts.uas % processes else 0)
             for k in range(processes)]
    t0 = time.perf_counter()
    children, first = [], 0
    for k, size in enumerate(sizes):
        receiver, sender = ctx.Pipe(duplex=False)
        shard_opts = _with(opts, uas=size, seed=opts.seed + 7919 * k, first=first)
        process = ctx.Process(target=_shard_main,
                              args=(f"{name} #{k}", shard_opts, deadline, sender))
        process.start()
        sender.close()
        children.append((process, receiver))
        first += size
    parts: list[Result] = []
    for process, receiver in children:
        parts.append(receiver.recv())
        process.join()
    total = Result(name, opts.uas, opts.hours, shards=processes, parts=parts)
    total.elapsed = time.perf_counter() - t0
    total.wall = max(p.wall for p in parts)
    total.setup_wall = max(p.setup_wall for p in parts)
    total.virtual = min(p.virtual for p in parts)
    total.partial = any(p.partial for p in parts)
    total.gc_runs = tuple(sum(p.gc_runs[g] for p in parts) for g in range(3))  # type: ignore[assignment]
    for key in ("cpu", "gc_time", "cyclic_garbage", "transactions", "successes", "timeouts",
                "registers_sent", "responses_sent", "lost", "events", "registered", "rss_setup",
                "rss_run"):
        setattr(total, key, sum(getattr(p, key) for p in parts))
    for p in parts:
        for state, count in p.states.items():
            total.states[state] = total.states.get(state, 0) + count
    return total


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def kib(value: float) -> str:
    return f"{value / 1024:.2f} KiB"


def report(result: Result) -> None:
    status = " PARTIAL (wall-clock limit hit)" if result.partial else ""
    print(f"[{result.name}] {result.uas} UAs x {result.hours:g} h{status}")
    print(f"  virtual time reached     {result.virtual / 3600:.2f} h")
    print(f"  setup wall               {result.setup_wall:.2f} s")
    print(f"  run wall                 {result.wall:.2f} s  (CPU {result.cpu:.2f} s; garbage "
          f"collector {result.gc_time:.2f} s, {'/'.join(map(str, result.gc_runs))} runs of "
          f"gen 0/1/2; {result.cyclic_garbage} objects of cyclic garbage at the end)")
    if result.shards > 1:
        print(f"  processes                {result.shards} (run wall: the slowest; CPU summed); "
              f"{result.elapsed:.2f} s wall from the fork to the last result, setup included")
        for part in result.parts:
            print(f"    {part.name}: {part.uas} UAs, setup {part.setup_wall:.2f} s, run wall "
                  f"{part.wall:.2f} s, CPU {part.cpu:.2f} s, {part.transactions} transactions, "
                  f"{part.events} events")
    print(f"  transactions completed   {result.transactions}  ({result.successes} 2xx, "
          f"{result.timeouts} timeouts)")
    print(f"  transactions / s (wall)  {result.tx_per_s:,.0f}")
    print(f"  REGISTERs sent (+rtx)    {result.registers_sent}  "
          f"({result.registers_sent / max(result.transactions, 1):.3f} per transaction)")
    print(f"  responses sent           {result.responses_sent}; datagrams lost {result.lost}")
    print(f"  scheduler events         {result.events}")
    print(f"  UAs registered at end    {result.registered} / {result.uas}"
          + (f"   states {result.states}" if result.states else ""))
    print(f"  RSS delta                setup {kib(result.rss_setup / result.uas)}/UA, "
          f"after run {kib(result.rss_run / result.uas)}/UA "
          f"({result.rss_run / 2**20:.1f} MiB in all)")
    if result.traced_setup or result.traced_run:
        print(f"  tracemalloc live         after setup {kib(result.traced_setup)}/UA, "
              f"after run {kib(result.traced_run)}/UA, peak {kib(result.traced_peak)}/UA")
    for line in result.top:
        print(f"    {line}")


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uas", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--loss", type=float, default=0.10)
    parser.add_argument("--expires", type=int, default=3600)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-wall", type=float, default=600.0,
                        help="stop every phase when this many wall seconds have passed in all")
    parser.add_argument("--layout", choices=("per-ua", "shared"), default="per-ua")
    parser.add_argument("--per-endpoint", type=int, default=100,
                        help="UAs behind one endpoint with --layout shared")
    parser.add_argument("--registrar", choices=("echo", "core", "both"), default="echo")
    parser.add_argument("--ramp", type=float, default=60.0,
                        help="initial REGISTERs spread over this many virtual seconds")
    parser.add_argument("--delay", type=float, nargs=2, default=(0.01, 0.05),
                        metavar=("MIN", "MAX"), help="one-way network delay, seconds")
    parser.add_argument("--no-observer", action="store_true",
                        help="clients without an observer (no outcome events are built; the "
                        "2xx / timeout split is then not counted)")
    parser.add_argument("--keep-last-response", action="store_true",
                        help="RegistrationConfig(keep_last_response=True), the library default "
                        "(default here: False)")
    parser.add_argument("--gc-threshold", type=int, default=10_000, metavar="N",
                        help="gc.set_threshold(N) during the runs (default 10000, as sipfsm load "
                        "sets it; 0: Python's own, 700)")
    parser.add_argument("--gc-freeze", action=argparse.BooleanOptionalAction, default=True,
                        help="gc.freeze() the clients once built and after every simulated "
                        "minute (as sipfsm load and RegistrationPool's advice do); the cyclic "
                        "garbage left under the freeze is collected and counted at the end")
    parser.add_argument("--processes", type=int, default=usable_cores(), metavar="P",
                        help="split the main phase's UAs over P forked processes (each its own "
                        "scheduler, network, registrar and seed; default: every usable core, "
                        f"{usable_cores()} here; 1: in this process)")
    parser.add_argument("--phases", default="scaled,hand,main,memory",
                        help="comma-separated subset of scaled,hand,main,memory")
    parser.add_argument("--mem-uas", type=int, default=0, help="UAs of the memory phase "
                        "(default N/10)")
    parser.add_argument("--mem-top", type=int, default=0,
                        help="show the top allocation sites of the memory phase")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    deadline = start + args.max_wall
    small = max(1, args.uas // 10)
    registrars = ["echo", "core"] if args.registrar == "both" else [args.registrar]
    base = Options(uas=args.uas, hours=args.hours, loss=args.loss, expires=args.expires,
                   seed=args.seed, layout=args.layout, per_endpoint=args.per_endpoint,
                   registrar=registrars[0], ramp=args.ramp, delay=tuple(args.delay),
                   observer=not args.no_observer,
                   keep_last_response=args.keep_last_response, gc_freeze=args.gc_freeze,
                   gc_threshold=args.gc_threshold)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    print(f"python {sys.version.split()[0]}; {args.uas} UAs x {args.hours:g} h, loss "
          f"{args.loss:.0%} each way, expires {args.expires}, layout {args.layout}"
          + (f" ({args.per_endpoint}/endpoint)" if args.layout == "shared" else "")
          + f", registrar {args.registrar}, seed {args.seed}, max wall {args.max_wall:g} s"
          + f", main phase over {args.processes} process{'es' if args.processes > 1 else ''}"
          + (", no observer" if args.no_observer else "")
          + (", gc.freeze per simulated minute" if args.gc_freeze else ", no gc.freeze")
          + (", last_response kept" if args.keep_last_response else
             ", keep_last_response=False")
          + f", gc threshold {args.gc_threshold or gc.get_threshold()[0]}")
    print()

    def remaining() -> bool:
        return time.perf_counter() < deadline

    results: dict[str, Result] = {}
    runs: list[tuple[str, Callable[[], Result]]] = []
    if "scaled" in phases:
        runs.append(("scaled", lambda: simulate(f"scaled N/10, {registrars[0]}",
                                                _with(base, uas=small), deadline)))
    if "hand" in phases:
        runs.append(("hand", lambda: hand_loop(f"hand-written loop N/10, {registrars[0]}",
                                               _with(base, uas=small), deadline)))
    if "main" in phases:
        for kind in registrars:
            runs.append((f"main-{kind}", lambda kind=kind: simulate_sharded(  # type: ignore[misc]
                f"main, {kind}", _with(base, registrar=kind), deadline, args.processes)))
    if "memory" in phases:
        mem_uas = args.mem_uas or small
        runs.append(("memory", lambda: simulate(
            f"memory (tracemalloc) {mem_uas} UAs, {registrars[0]}", _with(base, uas=mem_uas),
            deadline, trace_memory=True, top=args.mem_top)))
    for key, run in runs:
        if not remaining():
            print(f"[{key}] skipped: wall-clock limit reached")
            continue
        results[key] = run()
        report(results[key])
        print()

    print("summary")
    main_key = next((k for k in results if k.startswith("main")), None)
    if main_key is not None:
        m = results[main_key]
        hit = "" if not m.partial else "  (PARTIAL)"
        print(f"  main wall {m.wall:.1f} s, CPU {m.cpu:.1f} s (target for 10,000 UAs x 24 h: "
              f"<= 20 s wall; the machine may be shared: compare CPU and the ratios){hit}; "
              f"{m.tx_per_s:,.0f} tx/s; RSS {kib(m.rss_run / m.uas)}/UA (target <= 4 KiB)")
        if "scaled" in results:
            s = results["scaled"]
            print(f"  main / scaled N/10:  wall x{ratio(m.wall, s.wall)}, "
                  f"CPU x{ratio(m.cpu, s.cpu)} for x{ratio(m.uas, s.uas)} UAs; "
                  f"tx/s ratio {ratio(m.tx_per_s, s.tx_per_s)}; "
                  f"RSS/UA ratio {ratio(m.rss_run / m.uas, s.rss_run / s.uas)}")
        for k in results:
            if k.startswith("main-") and k != main_key:
                o = results[k]
                print(f"  {k} / {main_key}: wall x{ratio(o.wall, m.wall)}, "
                      f"tx/s ratio {ratio(o.tx_per_s, m.tx_per_s)}")
    if "scaled" in results and "hand" in results:
        s, h = results["scaled"], results["hand"]
        print(f"  sipfsm / hand-written (N/10): tx/s ratio {ratio(s.tx_per_s, h.tx_per_s)} "
              f"(hand {h.tx_per_s:,.0f} tx/s); REGISTERs per tx "
              f"{s.registers_sent / max(s.transactions, 1):.3f} vs "
              f"{h.registers_sent / max(h.transactions, 1):.3f}")
    if "memory" in results:
        mem = results["memory"]
        print(f"  memory per registration: {kib(mem.traced_run)} live after the run, "
              f"{kib(mem.traced_setup)} after setup (target <= 8 KiB)")
    print(f"  total wall {time.perf_counter() - start:.1f} s")
    return 0


def _with(opts: Options, **changes: Any) -> Options:
    from dataclasses import replace

    return replace(opts, **changes)


if __name__ == "__main__":
    sys.exit(main())
