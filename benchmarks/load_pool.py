"""Benchmark (issue 6; memory per live registration -- the capacity and CPU comparison with SIPp
is benchmarks/load.py): N live, refreshing, digest-authenticated registrations in ONE process,
against a real Kamailio, compared with SIPp against the same Kamailio in the same run.

* sipfsm: one :class:`sipfsm.app.RegistrationPool` -- one UdpTransport, one TransactionLayer,
  one set of timers -- holding N RegistrationClients, one AOR each (``u0`` .. ``u<N-1>`` at
  ``--domain``, digest password ``pw-<user>``), started at ``--rate`` registrations/s, with
  ``--expires`` short enough that every client refreshes during the ``--duration`` of the run;
* SIPp (when installed): ``tests/interop/sipp/register_load.xml`` with a CSV of the same N users,
  ``-r`` the same rate, ``-m N``, against the same registrar, after the sipfsm phase.

Reported: initial registrations completed per second of wall time (first REGISTER sent to last
200 of an initial registration; each one a REGISTER -> 401 -> REGISTER + credentials -> 200),
registration latency, refreshes completed, failures and retries by reason, process CPU, and the
process RSS per live registration (``VmRSS`` from /proc/self/status before the first client is
created -- the same-run baseline -- and, after ``gc.collect()``, once every initial registration
has completed, once more ``--steady`` seconds later (the initial transactions have left
Completed: Timer K), and at the end; each delta divided by the registrations live then), against
the target of 4 KiB (issue 14); Kamailio's own memory per registration for comparison (the
proportional set size, Pss, of all its processes -- its shared memory holds usrloc -- before and
after, divided by the same N); then SIPp's achieved rate (its successful calls over its elapsed
time) and the ratio sipfsm / SIPp.

``--owners`` says, at the end (after the last RSS measurement, so not counted in it), how many
bytes each live registration holds by owner: each client's attributes (its registration model's
and its digest client's one level further), and what the shared transaction layer and timers
hold for the clients (objects reached from two clients are shared and counted apart; at most
10,000 clients are walked, the sums scaled to all).

``--census`` (slow; for N around 10,000; implies ``--owners``) says what each registration
holds: tracemalloc's top allocation sites and a count of the garbage-collected objects by type,
per live registration, taken at the steady point.

Kamailio: started here through ``tests/interop/kamailio_fixture.KamailioProcess`` in a temporary
directory (min_expires <= ``--expires``, shared memory and UDP workers from the options, INFO
logging off), unless ``--registrar udp:HOST:PORT`` names one that already runs (it must accept
user ``U`` with password ``pw-U``, realm-independent, like the test configuration).

Under load: ``--receive-buffer`` sets SO_RCVBUF of the pool's one socket (4 MiB by default; the
system default, ~208 KiB, overflows in bursts and during garbage-collection pauses, and every
lost response costs a retransmission); ``--max-inflight`` bounds the initial registrations in
progress (SIPp gets it as ``-l``); ``--gc-freeze`` takes the created clients out of the
collector's full passes.

Every loop is bounded in count and in wall time; the whole run stops after ``--max-wall``
seconds whatever happens.

Run: ``python benchmarks/load_pool.py [--registrations N] [--rate R] [--expires S] [--duration S]``.
Targets: sipfsm >= 0.5 x SIPp's rate; <= 4 KiB RSS per live registration at the steady point
(judged from N = 10000 on: run it at 10,000 and at 100,000, e.g. ``-n 100000 --rate 2000
--expires 300 --no-sipp --gc-freeze``, a few minutes; on a shared 2-core machine ``-n 100000
--rate 500 --expires 232 --duration 270 --max-wall 330 --no-sipp --gc-freeze --kamailio-shm
1024`` keeps Kamailio out of overload and has the first clients refresh, at the same 500/s, from
200 s on); every registration made.  Exit status 1 when a target is missed, 2 when the run could
not be set up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from array import array
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sipfsm.app import RegistrationPool, parse_registrar_address  # noqa: E402
from sipfsm.auth import StaticCredentials  # noqa: E402
from sipfsm.errors import ConfigError  # noqa: E402
from sipfsm.message import SipUri  # noqa: E402
from sipfsm.ports import Target  # noqa: E402
from sipfsm.registration import (  # noqa: E402
    Failed,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    StateChanged,
)
from tests.interop.kamailio_fixture import (  # noqa: E402
    DEFAULT_REALM,
    SIPP_DIR,
    KamailioError,
    KamailioProcess,
    kamailio_available,
    sipp_available,
    sipp_binary,
    write_sipp_users_csv,
)

RATIO_TARGET = 0.5
RSS_TARGET_KIB = 4.0
RSS_TARGET_AT = 10_000  # registrations: the RSS target is judged from this many on

# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------


def vmrss_kib() -> int | None:
    """This process's resident set size in KiB (Linux), or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def pss_kib(root: int | None) -> int | None:
    """Proportional set size, in KiB, of process ``root`` and every descendant (Linux): memory
    shared between them (Kamailio's shm) is counted once in all."""
    if root is None:
        return None
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo, found = 0, [root], False
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        found = True
                        break
        except OSError:
            continue
    return total if found else None


class Census:
    """What the registrations hold (``--census``): tracemalloc from before the first client, and
    the garbage-collected objects by type."""

    def __init__(self) -> None:
        import tracemalloc

        self.tracemalloc = tracemalloc
        gc.collect()
        self.types = self._types()
        tracemalloc.start(1)
        self.snapshot = tracemalloc.take_snapshot()

    @staticmethod
    def _types() -> Counter[str]:
        return Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.get_objects())

    def report(self, live: int, top: int = 25) -> list[str]:
        gc.collect()
        snapshot = self.tracemalloc.take_snapshot()
        self.tracemalloc.stop()
        per = max(1, live)
        stats = snapshot.compare_to(self.snapshot, "lineno")
        total = sum(s.size_diff for s in stats)
        lines = [f"census per live registration ({live}): {total / per:.0f} B traced by "
                 "tracemalloc; top allocation sites:"]
        for stat in stats[:top]:
            frame = stat.traceback[0]
            where = frame.filename.split("/sipfsm/")[-1].split("/benchmarks/")[-1]
            lines.append(f"  {stat.size_diff / per:7.0f} B {stat.count_diff / per:5.2f} objects"
                         f"  {where}:{frame.lineno}")
        gc.unfreeze()  # frozen objects (--gc-freeze) are not listed by gc.get_objects()
        types = self._types()
        types.subtract(self.types)
        lines.append("  garbage-collected objects by type (count per registration):")
        for name, count in types.most_common(15):
            if count / per >= 0.05:
                lines.append(f"  {count / per:7.2f}  {name}")
        return lines


def _block(size: int) -> int:
    # What the allocator hands out: pymalloc rounds requests up to 16 bytes (up to 512 B);
    # larger ones come from malloc with its own header.
    return (size + 15) & ~15 if size <= 512 else size + 16


def _slot_names(obj: object) -> list[str]:
    names: list[str] = []
    for cls in type(obj).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names += [slots] if isinstance(slots, str) else list(slots)
    return [n for n in names if n not in ("__weakref__", "__dict__")]


def owner_census(pool: RegistrationPool, live: int) -> list[str]:
    """Bytes per live registration by owner, from the objects themselves (no tracemalloc, so
    it can follow the RSS measurement): each client's attributes (the model's and the digest
    client's one level further) and what the shared layer and timers hold for the clients.
    An object reached from two or more clients is shared (counted once, apart); interned and
    cached small values are shared by construction."""
    import types as pytypes

    every = pool.clients
    # At most 10,000 clients walked (evenly spread); their sums scaled to all of them.
    clients = every[:: max(1, -(-len(every) // 10_000))]
    scale = len(every) / max(1, len(clients))
    stop_types = (type, pytypes.ModuleType, pytypes.FunctionType, pytypes.BuiltinFunctionType,
                  pytypes.MethodDescriptorType, pytypes.WrapperDescriptorType)
    stop = {id(o) for o in (pool, pool.layer, pool.timers, pool.clock, pool.random,
                            pool.transport, pool.resolver, pool.observer, None, True, False)}
    observer = getattr(pool.observer, "__self__", None)
    if observer is not None:
        stop.add(id(observer))
    # The timers' own groups (AioTimers' deadline slots) are shared: what each timer costs is
    # counted below, from the entries.
    slots = list(getattr(pool.timers, "_slots", {}).values())
    stop.update(id(slot) for slot in slots)
    client_ids = {id(c) for c in every}

    def roots(client: RegistrationClient) -> list[tuple[str, object]]:
        out: list[tuple[str, object]] = []
        for name in _slot_names(client):
            value = getattr(client, name, None)
            label = name.lstrip("_")
            if name in ("_core", "_digest") and value is not None:
                for sub in _slot_names(value):  # before the object itself: it claims the rest
                    out.append((f"{label}.{sub.lstrip('_')}", getattr(value, sub, None)))
                out.append((label, value))
            else:
                out.append((label, value))
        return out

    def walk(start: object, seen: set[int], own: int) -> list[object]:
        found: list[object] = []
        todo = [start]
        while todo:
            obj = todo.pop()
            key = id(obj)
            if key in seen or key in stop or isinstance(obj, stop_types):
                continue
            if key in client_ids and key != own:
                continue
            seen.add(key)
            found.append(obj)
            todo.extend(gc.get_referents(obj))
        return found

    reached: Counter[int] = Counter()
    per_client: list[list[tuple[str, list[object]]]] = []
    for client in clients:
        seen: set[int] = {id(client)}
        groups = [("client", [client])]
        for label, value in roots(client):
            groups.append((label, walk(value, seen, id(client))))
        per_client.append(groups)
        reached.update(seen)
    sizes: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    kinds: dict[str, Counter[str]] = {}
    shared_ids: dict[int, object] = {}

    def add(label: str, obj: object) -> None:
        size = _block(sys.getsizeof(obj))
        sizes[label] += size
        counts[label] += 1
        kinds.setdefault(label, Counter())[type(obj).__name__] += size

    for groups in per_client:
        for label, objs in groups:
            for obj in objs:
                if reached[id(obj)] > 1:
                    shared_ids[id(obj)] = obj
                    continue
                add(label, obj)
    for label in list(sizes):
        sizes[label] = round(sizes[label] * scale)
        counts[label] = round(counts[label] * scale)
        kinds[label] = Counter({k: round(v * scale) for k, v in kinds[label].items()})
    # What the shared machinery holds for the clients (transactions, timer entries).
    layer_seen: set[int] = set(client_ids) | set(reached)  # (counted with a client)
    for tx in pool.layer.transactions:
        parts = [(f"layer: tx.{n.lstrip('_')}", getattr(tx, n, None)) for n in _slot_names(tx)]
        add("layer: tx", tx)
        layer_seen.add(id(tx))
        for label, value in parts:
            for obj in walk(value, layer_seen, -1):
                add(label, obj)
    entries = list(getattr(pool.timers, "_heap", ()))
    for slot in slots:
        add("timers: slots", slot)
        add("timers: slots", slot.entries)
        entries += slot.entries
    for entry in entries:
        if id(getattr(entry, "_self", None)) in client_ids:
            continue  # a client's own timer: counted (and scaled) with the client
        for obj in walk(entry, layer_seen, -1):
            add("timers: entries", obj)
    per = max(1, live)
    total = sum(sizes.values())
    lines = [f"owners per live registration ({live} live, {len(every)} clients, "
             f"{len(clients)} of them walked, {len(pool.layer)} transactions): "
             f"{total / per:.0f} B in objects"]
    for label, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        if size / per >= 1:
            detail = ", ".join(f"{kind} {b / per:.0f}" for kind, b in kinds[label].most_common(4))
            lines.append(f"  {size / per:7.0f} B {counts[label] / per:5.2f} objects  {label}"
                         f"  ({detail})")
    shared = sum(_block(sys.getsizeof(o)) for o in shared_ids.values())
    lines.append(f"  shared by two or more clients: {len(shared_ids)} objects, {shared} B in all")
    return lines


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


class Tally:
    """The pool's observer: counts outcomes.  Per-registration arrays are allocated up front
    (before the RSS baseline), so they are not counted as the clients' memory."""

    PENDING, REGISTERED, FAILED = 0, 1, 2

    def __init__(self, n: int, prefix: str) -> None:
        self.n = n
        self.prefix_len = len(prefix)
        self.state = bytearray(n)
        self.started = array("d", bytes(8 * n))
        self.latency = array("d", bytes(8 * n))
        self.created = 0
        self.initial_ok = 0
        self.initial_failed = 0
        self.last_initial = 0.0
        self.refreshed = 0
        self.reregistered = 0  # Registered again after a failure (not a Refreshed)
        self.failures: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.all_done = asyncio.Event()

    def index_of(self, client: RegistrationClient) -> int:
        user = client.config.aor.user or ""
        return int(user[self.prefix_len :])

    def observe(self, client: RegistrationClient, event: RegistrationEvent) -> None:
        if isinstance(event, StateChanged):
            return
        if isinstance(event, Refreshed):
            self.refreshed += 1
        elif isinstance(event, Registered):
            i = self.index_of(client)
            if self.state[i] == self.PENDING:
                now = time.monotonic()
                self.state[i] = self.REGISTERED
                self.latency[i] = now - self.started[i]
                self.initial_ok += 1
                self.last_initial = now
                self._check_done()
            else:
                self.reregistered += 1
        elif isinstance(event, Retrying):
            status = f" {event.status}" if event.status else ""
            self.retries[f"{event.reason.value}{status}"] += 1
        elif isinstance(event, Failed):
            status = f" {event.status}" if event.status else ""
            self.failures[f"{event.reason.value}{status}"] += 1
            i = self.index_of(client)
            if self.state[i] == self.PENDING:
                self.state[i] = self.FAILED
                self.initial_failed += 1
                self.last_initial = time.monotonic()
                self._check_done()

    def _check_done(self) -> None:
        if self.initial_ok + self.initial_failed >= self.n:
            self.all_done.set()

    def latencies(self) -> list[float]:
        return sorted(self.latency[i] for i in range(self.n) if self.state[i] == self.REGISTERED)


@dataclass
class PoolResult:
    registrations: int
    created: int = 0
    registered: int = 0
    initial_failed: int = 0
    ramp_seconds: float = 0.0  # first REGISTER to last initial outcome
    rate: float = 0.0  # initial registrations completed per second of wall time
    offered_rate: float = 0.0
    latency_p50_ms: float = float("nan")
    latency_p99_ms: float = float("nan")
    latency_max_ms: float = float("nan")
    refreshes: int = 0
    reregistrations: int = 0
    live_at_end: int = 0
    run_seconds: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    cpu_ramp_seconds: float = 0.0
    cpu_total_seconds: float = 0.0
    rss_before_kib: int | None = None
    rss_registered_kib: int | None = None
    rss_end_kib: int | None = None
    rss_per_registration_kib: float | None = None
    rss_per_live_at_end_kib: float | None = None
    rss_steady_kib: int | None = None
    rss_per_live_steady_kib: float | None = None
    live_at_steady: int = 0
    transactions_at_steady: int = 0
    kamailio_before_kib: int | None = None
    kamailio_steady_kib: int | None = None
    census: list[str] = field(default_factory=list)
    transactions_at_measure: int = 0
    timed_out: bool = False
    receive_buffer: int | None = None
    gc_freeze: bool = False


@dataclass
class SippResult:
    ran: bool
    note: str = ""
    returncode: int | None = None
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    elapsed_seconds: float = 0.0
    rate: float = 0.0
    command: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# The sipfsm phase
# --------------------------------------------------------------------------------------------


def make_config(
    user: str, args: argparse.Namespace, target: Target, refresh: RefreshPolicy
) -> RegistrationConfig:
    return RegistrationConfig(
        aor=SipUri(scheme="sip", user=user, host=args.domain),
        registrar_target=target,
        transport="UDP",
        expires=args.expires,
        refresh=refresh,
        keep_last_response=False,  # 2-3 KiB a client otherwise
    )


async def run_pool(
    args: argparse.Namespace, target: Target, hard_end: float, registrar_pid: int | None = None
) -> PoolResult:
    """``hard_end``: time.monotonic() instant by which this phase must be over."""
    n = args.registrations
    result = PoolResult(registrations=n, gc_freeze=args.gc_freeze)
    tally = Tally(n, args.user_prefix)
    # RefreshPolicy's default margin (32 s) exceeds short expiries, and the policy then refreshes
    # every second (its floor); keep the refresh at half the expiry or later instead.
    margin = args.refresh_margin if args.refresh_margin is not None else min(32.0, args.expires / 2)
    refresh = RefreshPolicy(margin=margin)
    users = [f"{args.user_prefix}{i}" for i in range(n)]  # before the baseline: not counted
    pool = await RegistrationPool.open(
        observer=tally.observe,
        local_host=args.local_host,
        resolver=False,
        receive_buffer=args.receive_buffer or None,
    )
    result.receive_buffer = pool.receive_buffer
    try:
        census = Census() if args.census else None
        gc.collect()
        result.rss_before_kib = vmrss_kib()
        result.kamailio_before_kib = pss_kib(registrar_pid)
        cpu0 = time.process_time()
        t0 = time.monotonic()
        ramp_end = min(hard_end, t0 + max(args.duration, n / args.rate) + args.settle)

        def start(i: int) -> None:
            user = users[i]
            client = pool.add(
                make_config(user, args, target, refresh),
                credentials=StaticCredentials(user, "pw-" + user),
            )
            tally.started[i] = time.monotonic()
            tally.created += 1
            client.register()

        # Ramp: start clients on schedule (t0 + i / rate), bounded by count and by time.
        i = 0
        while i < n:
            now = time.monotonic()
            if now >= ramp_end:
                break
            due = min(n, int((now - t0) * args.rate) + 1)
            if args.max_inflight:
                due = min(due, tally.initial_ok + tally.initial_failed + args.max_inflight)
            while i < due:
                start(i)
                i += 1
                if args.gc_freeze and i % 1000 == 0:
                    # Long-lived clients out of the collector's way: no full collection
                    # rescans them (each one grows with the heap: ~0.4 s at 10k clients).
                    gc.freeze()
            wait = t0 + i / args.rate - time.monotonic()
            await asyncio.sleep(min(max(wait, 0.001), 0.05))
        result.created = tally.created
        if tally.created < n:
            tally.n = tally.created  # what can still complete
            tally._check_done()
        # Wait for the last initial outcome.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.all_done.wait(), max(0.0, ramp_end - time.monotonic()))
        result.timed_out = not tally.all_done.is_set()
        result.cpu_ramp_seconds = time.process_time() - cpu0
        result.transactions_at_measure = len(pool.layer)
        gc.collect()
        result.rss_registered_kib = vmrss_kib()
        result.registered = tally.initial_ok
        result.initial_failed = tally.initial_failed
        if tally.initial_ok:
            result.ramp_seconds = tally.last_initial - t0
            result.rate = tally.initial_ok / result.ramp_seconds if result.ramp_seconds else 0.0
        result.offered_rate = args.rate
        lat = tally.latencies()
        result.latency_p50_ms = percentile(lat, 0.5) * 1e3
        result.latency_p99_ms = percentile(lat, 0.99) * 1e3
        result.latency_max_ms = (lat[-1] * 1e3) if lat else float("nan")
        if result.rss_before_kib is not None and result.rss_registered_kib is not None:
            result.rss_per_registration_kib = (
                result.rss_registered_kib - result.rss_before_kib
            ) / max(1, tally.initial_ok)

        # Steady point: the initial transactions have left Completed (Timer K, 5 s on UDP);
        # what is left is what a live, refreshing registration holds.
        await asyncio.sleep(max(0.0, min(args.steady, hard_end - time.monotonic() - 1.0)))
        live = sum(1 for c in pool.clients if c.state in ("registered", "refreshing"))
        result.live_at_steady = live
        result.transactions_at_steady = len(pool.layer)
        if census is not None:
            result.census = census.report(live)
        gc.collect()
        result.rss_steady_kib = vmrss_kib()
        result.kamailio_steady_kib = pss_kib(registrar_pid)
        if result.rss_before_kib is not None and result.rss_steady_kib is not None and live:
            result.rss_per_live_steady_kib = (result.rss_steady_kib - result.rss_before_kib) / live

        # Hold: keep them registered (and refreshing) until the run's duration is over.
        await asyncio.sleep(max(0.0, min(t0 + args.duration, hard_end) - time.monotonic()))
        result.run_seconds = time.monotonic() - t0
        result.cpu_total_seconds = time.process_time() - cpu0
        live = sum(1 for c in pool.clients if c.state in ("registered", "refreshing"))
        result.live_at_end = live
        gc.collect()
        result.rss_end_kib = vmrss_kib()
        if result.rss_before_kib is not None and result.rss_end_kib is not None and live:
            result.rss_per_live_at_end_kib = (result.rss_end_kib - result.rss_before_kib) / live
        if args.census or args.owners:
            # After the last RSS measurement: the census's own memory is not counted.
            result.census += owner_census(pool, live)
        result.refreshes = tally.refreshed
        result.reregistrations = tally.reregistered
        result.failures = dict(tally.failures)
        result.retries = dict(tally.retries)
        result.dropped = dict(pool.layer.dropped)
    finally:
        await pool.aclose()
    return result


# --------------------------------------------------------------------------------------------
# The SIPp phase
# --------------------------------------------------------------------------------------------


def _epoch(field_text: str) -> float:
    # "2026-11-24\t18:03:00.562980\t1795543380.562980": the last part is the Unix time.
    return float(field_text.split("\t")[-1])


def run_sipp(
    args: argparse.Namespace, target: Target, workdir: Path, time_left: float
) -> SippResult:
    binary = sipp_binary()
    if binary is None:
        return SippResult(ran=False, note=sipp_available() or "sipp not found")
    n = args.registrations
    budget = int(time_left) - 5
    if budget < 10:
        return SippResult(ran=False, note=f"only {time_left:.0f}s of --max-wall left")
    csv = write_sipp_users_csv(workdir / "users.csv", n, prefix=args.user_prefix)
    stat = workdir / "sipp-stat.csv"
    screen = workdir / "sipp-screen.log"
    cmd = [
        binary, f"{target.host}:{target.port}",
        "-sf", str(SIPP_DIR / "register_load.xml"), "-inf", str(csv),
        "-m", str(n), "-r", str(args.rate), "-l", str(args.max_inflight or n),
        "-i", args.local_host if args.local_host not in ("0.0.0.0", "::") else target.host,
        "-set", "domain", args.domain, "-set", "expires", str(args.expires),
        "-nostdin", "-default_behaviors", "all,-bye", "-max_retrans", "3",
        "-timeout", f"{budget}s", "-timeout_error",
        "-trace_stat", "-stf", str(stat), "-fd", "1",
        "-trace_screen", "-screen_file", str(screen),
    ]  # fmt: skip
    result = SippResult(ran=True, command=cmd)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=budget + 5,
            check=False,
        )
        result.returncode = proc.returncode
    except subprocess.TimeoutExpired:
        result.note = "sipp did not exit in time (killed)"
    wall = time.monotonic() - started
    try:
        lines = [ln for ln in stat.read_text().splitlines() if ln.strip()]
        header = lines[0].rstrip(";").split(";")
        last = lines[-1].rstrip(";").split(";")
        row = dict(zip(header, last, strict=False))
        result.successful = int(row["SuccessfulCall(C)"])
        result.failed = int(row["FailedCall(C)"])
        result.retransmissions = int(row["Retransmissions(C)"])
        result.elapsed_seconds = _epoch(row["CurrentTime"]) - _epoch(row["StartTime"])
    except (OSError, IndexError, KeyError, ValueError) as exc:
        result.note = (result.note + "; " if result.note else "") + f"no SIPp statistics: {exc}"
        result.elapsed_seconds = wall
    if result.elapsed_seconds > 0:
        result.rate = result.successful / result.elapsed_seconds
    return result


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _kib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} KiB"


def report(
    args: argparse.Namespace,
    pool: PoolResult,
    sipp: SippResult | None,
    registrar: str,
    out: Any = sys.stdout,
) -> list[str]:
    """Print the results; return the targets missed."""
    missed: list[str] = []
    p = pool
    print(f"registrar: {registrar}", file=out)
    buffer = "system default" if p.receive_buffer is None else f"{p.receive_buffer} bytes"
    print(
        f"sipfsm: {p.registrations} registrations, offered {args.rate}/s, expires "
        f"{args.expires}s, run {p.run_seconds:.1f}s (one process, one UDP socket, "
        f"one transaction layer; SO_RCVBUF {buffer}"
        f"{'; gc.freeze' if p.gc_freeze else ''})",
        file=out,
    )
    print(
        f"  initial registrations: {p.registered}/{p.registrations} in {p.ramp_seconds:.2f}s "
        f"= {p.rate:.1f}/s authenticated  (failed {p.initial_failed}, created {p.created}"
        f"{', TIMED OUT' if p.timed_out else ''})",
        file=out,
    )
    print(
        f"  latency register()->Registered: p50 {p.latency_p50_ms:.1f} ms, p99 "
        f"{p.latency_p99_ms:.1f} ms, max {p.latency_max_ms:.1f} ms",
        file=out,
    )
    cpu_per = p.cpu_ramp_seconds / p.registered * 1e6 if p.registered else float("nan")
    print(
        f"  CPU: {p.cpu_ramp_seconds:.2f}s during the ramp ({cpu_per:.0f} us per "
        f"registration, {p.cpu_ramp_seconds / max(p.ramp_seconds, 1e-9):.0%} of one core), "
        f"{p.cpu_total_seconds:.2f}s in all",
        file=out,
    )
    print(
        f"  refreshes completed: {p.refreshes}; re-registrations after a failure: "
        f"{p.reregistrations}; live at the end: {p.live_at_end}",
        file=out,
    )
    print(
        f"  failures: {p.failures or 'none'}; retries: {p.retries or 'none'}; "
        f"dropped by the layer: {p.dropped or 'none'}",
        file=out,
    )
    print(
        f"  RSS: {p.rss_before_kib} KiB before, {p.rss_registered_kib} KiB when all "
        f"registered ({p.transactions_at_measure} transactions still in Completed), "
        f"{p.rss_end_kib} KiB at the end",
        file=out,
    )
    print(
        f"  RSS at the steady point (+{args.steady:g}s): {p.rss_steady_kib} KiB, "
        f"{p.live_at_steady} live, {p.transactions_at_steady} transactions in the layer",
        file=out,
    )
    print(
        f"  RSS per live registration: {_kib(p.rss_per_registration_kib)} when registered, "
        f"{_kib(p.rss_per_live_steady_kib)} at the steady point, "
        f"{_kib(p.rss_per_live_at_end_kib)} at the end  (target <= {RSS_TARGET_KIB:g} KiB)",
        file=out,
    )
    steady = p.rss_per_live_steady_kib
    if steady is not None and p.rss_before_kib:
        print(
            f"  same-run baselines: the process before any client {p.rss_before_kib} KiB "
            f"(= {p.rss_before_kib / RSS_TARGET_KIB:,.0f} registrations' worth of the target); "
            f"steady per live registration / target = {steady / RSS_TARGET_KIB:.2f}",
            file=out,
        )
    if p.kamailio_before_kib is not None and p.kamailio_steady_kib is not None:
        kam_per = (p.kamailio_steady_kib - p.kamailio_before_kib) / max(1, p.live_at_steady)
        ratio = f"; sipfsm / Kamailio = {steady / kam_per:.2f}" if steady and kam_per > 0 else ""
        print(
            f"  Kamailio (Pss of all its processes): {p.kamailio_before_kib} KiB before, "
            f"{p.kamailio_steady_kib} KiB at the steady point = {kam_per:.2f} KiB per "
            f"registration{ratio}",
            file=out,
        )
    for line in p.census:
        print("  " + line, file=out)
    if p.registered < p.registrations:
        missed.append(f"only {p.registered}/{p.registrations} registered")
    if p.registrations < RSS_TARGET_AT:
        print(
            f"  (the RSS target is for {RSS_TARGET_AT} registrations: below that, fixed costs and"
            " the transactions still in Completed, Timer K = 5 s, weigh on each one)",
            file=out,
        )
    elif p.rss_per_live_steady_kib is None:
        missed.append("RSS not measurable here")
    elif args.census:
        print("  (--census: tracemalloc's own memory is in the RSS; the target is not judged)",
              file=out)
    elif p.rss_per_live_steady_kib > RSS_TARGET_KIB:
        missed.append(f"RSS {p.rss_per_live_steady_kib:.2f} KiB > {RSS_TARGET_KIB:g} KiB")
    if sipp is None:
        print("SIPp: not run (--no-sipp)", file=out)
    elif not sipp.ran:
        print(f"SIPp: not run ({sipp.note})", file=out)
    else:
        print(
            f"SIPp: {sipp.successful}/{p.registrations} successful, {sipp.failed} failed, "
            f"{sipp.retransmissions} retransmissions, in {sipp.elapsed_seconds:.2f}s = "
            f"{sipp.rate:.1f}/s authenticated (rc {sipp.returncode}"
            f"{'; ' + sipp.note if sipp.note else ''})",
            file=out,
        )
        if sipp.rate > 0:
            ratio = p.rate / sipp.rate
            verdict = "ok" if ratio >= RATIO_TARGET else "MISSED"
            print(
                f"ratio sipfsm/SIPp: {ratio:.3f}  (target >= {RATIO_TARGET}: {verdict})", file=out
            )
            if ratio < RATIO_TARGET:
                missed.append(f"ratio {ratio:.3f} < {RATIO_TARGET}")
        else:
            missed.append("SIPp made no registration: no ratio")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)), file=out)
    return missed


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-n",
        "--registrations",
        type=int,
        default=10_000,
        help="registrations (AORs u0..uN-1) kept by the one process [10000]",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=500.0,
        help="target rate of initial registrations per second [500]",
    )
    parser.add_argument(
        "--expires",
        type=int,
        default=60,
        help="requested expiry; short, so that clients refresh [60]",
    )
    parser.add_argument(
        "--refresh-margin",
        type=float,
        default=None,
        help="RefreshPolicy margin: refresh at min(expiry - margin, 0.9 expiry)"
        " [min(32, expires / 2)]",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds from the first REGISTER to the end of the sipfsm phase"
        " (at least the ramp) [60]",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=40.0,
        help="extra seconds allowed for the last initial registrations [40]",
    )
    parser.add_argument(
        "--max-inflight",
        type=int,
        default=0,
        help="limit on initial registrations in progress (SIPp -l); 0 = none",
    )
    parser.add_argument(
        "--max-wall",
        type=float,
        default=300.0,
        help="hard limit on the whole run, in seconds [300]",
    )
    parser.add_argument(
        "--registrar",
        default=None,
        help="udp:HOST:PORT of a running registrar (default: start Kamailio)",
    )
    parser.add_argument("--domain", default=DEFAULT_REALM, help="AOR domain [sipfsm.test]")
    parser.add_argument("--user-prefix", default="u", help="AOR user prefix [u]")
    parser.add_argument("--local-host", default="127.0.0.1", help="bind address [127.0.0.1]")
    parser.add_argument(
        "--kamailio-children", type=int, default=2, help="Kamailio UDP worker processes [2]"
    )
    parser.add_argument(
        "--kamailio-shm", type=int, default=256, help="Kamailio shared memory, MiB [256]"
    )
    parser.add_argument(
        "--kamailio-debug",
        type=int,
        default=1,
        help="Kamailio log level (2 logs every request) [1]",
    )
    parser.add_argument(
        "--receive-buffer",
        type=int,
        default=4 * 1024 * 1024,
        help="SO_RCVBUF asked for the pool's socket, bytes; 0 = system default [4 MiB]",
    )
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() every 1000 clients created (shorter GC pauses)",
    )
    parser.add_argument(
        "--steady",
        type=float,
        default=6.0,
        help="seconds after the last initial registration to the steady measurement (the"
        " initial transactions leave Completed after Timer K = 5 s) [6]",
    )
    parser.add_argument(
        "--census",
        action="store_true",
        help="tracemalloc top sites and objects by type per registration (slow)",
    )
    parser.add_argument(
        "--owners",
        action="store_true",
        help="bytes per registration by owner, from the objects (at the end, after the last"
        " RSS measurement)",
    )
    parser.add_argument("--no-sipp", action="store_true", help="skip the SIPp phase")
    parser.add_argument(
        "--profile",
        metavar="PSTATS",
        nargs="?",
        const="-",
        default=None,
        help="cProfile the sipfsm phase; print the top functions (and write"
        " the stats to PSTATS when given)",
    )
    parser.add_argument("--json", metavar="PATH", default=None, help="also write results as JSON")
    args = parser.parse_args(argv)
    if args.registrations < 1 or args.rate <= 0 or args.expires < 1 or args.max_wall <= 0:
        parser.error("--registrations, --rate, --expires and --max-wall must be positive")
    if args.max_inflight < 0:
        parser.error("--max-inflight must not be negative")
    return args


def _profiled(coro_factory: Any, dest: str) -> Any:
    # Wall-clock timer (a CPU-time timer costs a system call per event and overloads the run).
    # On a loaded machine a send() is charged with the time the registrar's workers run on this
    # core; profile at a rate well below saturation.
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return asyncio.run(coro_factory())
    finally:
        profiler.disable()
        buffer = io.StringIO()
        stats = pstats.Stats(profiler, stream=buffer)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(40)
        print(buffer.getvalue(), file=sys.stderr)
        if dest != "-":
            stats.dump_stats(dest)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    hard_end = began + args.max_wall
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sipfsm-load-")))
        if args.registrar is not None:
            try:
                target = parse_registrar_address(args.registrar)
            except ConfigError as exc:
                print(f"load.py: {exc}", file=sys.stderr)
                return 2
            if target.transport != "UDP":
                print("load.py: only udp:HOST:PORT registrars are supported", file=sys.stderr)
                return 2
            registrar = f"{args.registrar} (given)"
        else:
            reason = kamailio_available()
            if reason is not None:
                print(f"load.py: {reason} (or pass --registrar udp:HOST:PORT)", file=sys.stderr)
                return 2
            kam = KamailioProcess(
                workdir / "kamailio",
                min_expires=min(args.expires, 60),
                max_expires=max(args.expires, 3600),
                default_expires=args.expires,
                children=args.kamailio_children,
                shm_mb=args.kamailio_shm,
                debug=args.kamailio_debug,
            )
            try:
                stack.enter_context(kam)
            except KamailioError as exc:
                print(f"load.py: Kamailio did not start: {exc}", file=sys.stderr)
                return 2
            target = Target("UDP", kam.host, kam.udp_port)
            registrar = (
                f"Kamailio (test config) udp:{kam.host}:{kam.udp_port}, "
                f"{args.kamailio_children} UDP workers, {args.kamailio_shm} MiB shm"
            )

        # Leave the SIPp phase the time it needs (N / rate, plus start-up and a margin).
        reserve = 0.0 if args.no_sipp else args.registrations / args.rate + 20.0
        pool_end = max(hard_end - reserve, time.monotonic() + 5.0)

        registrar_pid = kam.pid if args.registrar is None else None

        def phase() -> Any:
            return run_pool(args, target, min(pool_end, hard_end - 5.0), registrar_pid)

        profiled = args.profile is not None
        pool = _profiled(phase, args.profile) if profiled else asyncio.run(phase())
        sipp = (
            None if args.no_sipp else run_sipp(args, target, workdir, hard_end - time.monotonic())
        )
        missed = report(args, pool, sipp, registrar)
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "args": vars(args),
                        "sipfsm": asdict(pool),
                        "sipp": asdict(sipp) if sipp is not None else None,
                        "missed": missed,
                    },
                    indent=2,
                    default=str,
                )
            )
        if args.registrar is None and os.environ.get("SIPFSM_LOAD_KEEP_LOG"):
            print(kam.log_text()[-4000:], file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
