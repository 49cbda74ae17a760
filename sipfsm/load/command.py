"""``sipfsm load``: many users registering with one registrar, over every core.

The users are sharded round-robin over ``--processes`` workers (default: every core), each with
its own event loop and one socket; each worker reports a snapshot a second, the parent adds them
up and prints one live line a second (stderr), then the summary (stdout, or JSON with
``--json``).  Exit status: 0, or 1 when more than ``--max-failures`` registrations failed (or
some users were never registered), 2 for bad arguments, 3 for a malformed users file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from sipfsm.errors import ConfigError
from sipfsm.load.stats import Snapshot, live_line, merge, summary_lines, to_json
from sipfsm.load.users import User, UsersFileError, pattern_users, read_users_csv, shard
from sipfsm.ports import Target

if TYPE_CHECKING:
    from sipfsm.load.shard import ShardSettings

__all__ = ["add_load_subcommand", "run_load"]

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
EXIT_BAD_INPUT = 3
EXIT_INTERRUPTED = 130


def add_load_subcommand(sub: Any) -> None:
    """Register ``sipfsm load`` on the CLI's subparsers."""
    p = sub.add_parser(
        "load",
        help="register many users at a registrar, over every core, and report like SIPp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--registrar", required=True, metavar="udp:HOST:PORT", help="the registrar (udp:… or tcp:…)"
    )
    p.add_argument(
        "--transport",
        choices=("udp", "tcp", "UDP", "TCP"),
        default=None,
        help="transport (default: the one --registrar names, else UDP)",
    )
    who = p.add_argument_group("users")
    who.add_argument(
        "--users",
        type=int,
        default=None,
        metavar="N",
        help="number of users (from the patterns; with --users-csv: the first N)",
    )
    who.add_argument(
        "--user-pattern",
        default="u{n}",
        metavar="PATTERN",
        help="user name of user number n (default u{n})",
    )
    who.add_argument(
        "--first", type=int, default=0, metavar="N", help="number of the first user (default 0)"
    )
    who.add_argument(
        "--password-pattern",
        default=None,
        metavar="PATTERN",
        help="password of each user, naming {user} or {n} (e.g. pw-{user})",
    )
    who.add_argument(
        "--password-env",
        default=None,
        metavar="NAME",
        help="one password for every user, from this environment variable",
    )
    who.add_argument(
        "--no-auth",
        action="store_true",
        help="the users have no password (a registrar without authentication)",
    )
    who.add_argument(
        "--users-csv",
        default=None,
        metavar="FILE",
        help="users from a CSV file: user,password[,aor] per line",
    )
    who.add_argument(
        "--domain",
        default=None,
        help="domain of the AORs sip:<user>@<domain> (default: the registrar host)",
    )
    p.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="initial registrations started per second, all processes (default 100)",
    )
    p.add_argument(
        "--expires",
        type=int,
        default=300,
        help="requested expiry in seconds; refreshes come before it (default 300)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=30.0,
        help="seconds from the first REGISTER to the end (default 30)",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=None,
        metavar="P",
        help="worker processes, one event loop and one socket each (default: every core)",
    )
    p.add_argument("--local-host", default="127.0.0.1", help="local address to bind")
    p.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="asyncio",
        help="event loop of each process (default asyncio): uvloop is the optional extra "
        "sipfsm[uvloop] (no CPU saved since sipfsm load sends and starts in batches: "
        "measured 1.00 x asyncio at 1000/s), and uvloop 0.23 crashes "
        "(SIGSEGV) when a burst of REGISTERs meets a closed UDP port; auto: uvloop when installed",
    )
    p.add_argument(
        "--unregister", action="store_true", help="unregister every user at the end (Expires: 0)"
    )
    p.add_argument(
        "--max-failures",
        type=int,
        default=0,
        metavar="N",
        help="exit 1 when more than N registrations failed (default 0)",
    )
    p.add_argument(
        "--max-consecutive-failures",
        type=int,
        default=3,
        metavar="N",
        help="a user gives up after N consecutive failures (default 3)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no live line")
    p.set_defaults(handler=_cmd_load)


def _cmd_load(args: argparse.Namespace) -> int:
    try:
        users, settings, processes = _prepare(args)
    except UsersFileError as exc:
        print(f"sipfsm: malformed users file: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return run_load(
        users, settings, processes=processes, max_failures=args.max_failures,
        as_json=args.json, live=None if args.quiet else sys.stderr, out=sys.stdout,
    )  # fmt: skip


def _prepare(args: argparse.Namespace) -> tuple[list[User], ShardSettings, int]:
    from sipfsm.app import parse_registrar_address
    from sipfsm.load.shard import ShardSettings

    target = parse_registrar_address(args.registrar)
    if args.transport:
        target = Target(args.transport.upper(), target.host, target.port)
    if not args.rate > 0:
        raise ConfigError(f"--rate {args.rate}: must be above 0")
    if not 0 < args.expires < 2**32:
        raise ConfigError(f"--expires {args.expires}: must be 1..4294967295")
    if not args.duration > 0:
        raise ConfigError(f"--duration {args.duration}: must be above 0")
    if args.max_failures < 0:
        raise ConfigError("--max-failures must not be negative")
    if args.users is not None and args.users < 1:
        raise ConfigError(f"--users {args.users}: give at least one user")
    domain = args.domain or target.host
    if args.users_csv is not None:
        if args.password_pattern or args.password_env:
            raise ConfigError("--users-csv gives the passwords: drop --password-pattern/-env")
        users = read_users_csv(args.users_csv, domain=domain, limit=args.users)
    else:
        if args.users is None:
            raise ConfigError(
                "give --users N (with --password-pattern or --password-env) or --users-csv FILE"
            )
        if not (args.password_pattern or args.password_env or args.no_auth):
            raise ConfigError(
                "--users N needs --password-pattern PATTERN, --password-env NAME or --no-auth"
            )
        users = pattern_users(
            args.users, domain=domain, user_pattern=args.user_pattern,
            password_pattern=args.password_pattern, password_env=args.password_env,
            first=args.first,
        )  # fmt: skip
    processes = args.processes if args.processes is not None else _cores()
    if processes < 1:
        raise ConfigError(f"--processes {processes}: give at least 1")
    processes = min(processes, len(users))
    settings = ShardSettings(
        registrar=target,
        rate=args.rate / processes,
        expires=args.expires,
        duration=args.duration,
        local_host=args.local_host,
        unregister=args.unregister,
        max_consecutive_failures=args.max_consecutive_failures or None,
        event_loop=_event_loop(args.loop),
    )
    return users, settings, processes


def _cores() -> int:
    with contextlib.suppress(AttributeError, OSError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def run_load(
    users: Sequence[User],
    settings: ShardSettings,
    *,
    processes: int = 1,
    max_failures: int = 0,
    as_json: bool = False,
    live: TextIO | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run the load; print the live lines to ``live`` and the summary to ``out``; return the
    exit code."""
    display = _Display(live)
    interrupted = False
    if processes <= 1:
        final, interrupted = _run_here(users, settings, display)
    else:
        final, interrupted = _run_workers(users, settings, processes, display)
    unfinished = final.users - final.registered - _initial_failures(final)
    if as_json:
        data = to_json(
            final,
            registrar=f"{settings.registrar.transport.lower()}:{settings.registrar.host}:"
            f"{settings.registrar.port}",
            rate=settings.rate * final.processes,
            expires=settings.expires,
            duration=settings.duration,
            never_registered=max(0, unfinished),
            interrupted=interrupted,
            event_loop=settings.event_loop,
        )
        print(json.dumps(data, indent=2), file=out)
    else:
        for line in summary_lines(final):
            print(line, file=out)
    if interrupted:
        return EXIT_INTERRUPTED
    if final.failed > max_failures or unfinished > 0:
        return EXIT_FAILURES
    return EXIT_OK


def _initial_failures(s: Snapshot) -> int:
    # users whose first registration failed are not "unfinished": they count as failures
    return min(s.failed, s.users - s.registered)


class _Display:
    """Prints the merged live line at most once a second."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self.previous: Snapshot | None = None
        self.previous_at = time.monotonic()

    def show(self, merged: Snapshot) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        print(
            live_line(merged, self.previous, now - self.previous_at), file=self.stream, flush=True
        )
        self.previous, self.previous_at = merged, now


def _run_here(
    users: Sequence[User], settings: ShardSettings, display: _Display
) -> tuple[Snapshot, bool]:
    from sipfsm.load.shard import loop_factory, run_shard

    async def main() -> tuple[Snapshot, bool]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        final = await run_shard(settings, users, lambda s: display.show(s), stop=stop)
        return final, stop.is_set()

    with asyncio.Runner(loop_factory=loop_factory(settings.event_loop)) as runner:
        return runner.run(main())


def _event_loop(choice: str) -> str:
    """``--loop``: the loop to use; uvloop asked for and not installed is a ConfigError."""
    if choice == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if choice == "uvloop":
            raise ConfigError("--loop uvloop: uvloop is not installed "
                              "(pip install 'sipfsm[uvloop]')") from None
        return "asyncio"
    return "uvloop"


def _worker(
    index: int,
    users: Sequence[User],
    settings: ShardSettings,
    results: Any,
) -> None:
    # Ctrl-C goes to the whole process group: the parent tells the workers to stop (SIGTERM).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from sipfsm.load.shard import loop_factory, run_shard

    async def main() -> None:
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await run_shard(settings, users, lambda s: results.put((index, s)), stop=stop)

    try:
        with asyncio.Runner(loop_factory=loop_factory(settings.event_loop)) as runner:
            runner.run(main())
    except Exception as exc:  # reported to the parent as this worker's failure
        results.put((index, f"{type(exc).__name__}: {exc}"))


def _run_workers(
    users: Sequence[User], settings: ShardSettings, processes: int, display: _Display
) -> tuple[Snapshot, bool]:
    methods = multiprocessing.get_all_start_methods()
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    results = context.Queue()
    workers = [
        context.Process(
            target=_worker,
            args=(k, shard(users, k, processes), settings, results),
            name=f"sipfsm-load-{k}",
            daemon=True,
        )
        for k in range(processes)
    ]
    for worker in workers:
        worker.start()
    latest: dict[int, Snapshot] = {}
    errors: dict[int, str] = {}
    interrupted = False
    deadline = time.monotonic() + settings.duration + settings.unregister_grace + 30.0
    next_show = time.monotonic() + 1.0
    previous_handler: Callable[..., Any] | int | None = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: Any) -> None:
        nonlocal interrupted
        interrupted = True
        for worker in workers:
            if worker.pid is not None and worker.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, on_interrupt)
    try:
        while True:
            finished = {k for k, s in latest.items() if s.done} | set(errors)
            if len(finished) >= processes:
                break
            if time.monotonic() > deadline:
                for k, worker in enumerate(workers):
                    if k not in finished and worker.pid is not None and worker.is_alive():
                        errors[k] = "did not finish in time (stopped)"
                        with contextlib.suppress(OSError):
                            os.kill(worker.pid, signal.SIGKILL)
                break
            try:
                index, item = results.get(timeout=0.2)
            except queue.Empty:
                if all(not w.is_alive() for w in workers) and results.empty():
                    for k in range(processes):
                        if k not in finished:
                            errors.setdefault(k, "exited without a result")
                    break
            else:
                if isinstance(item, Snapshot):
                    latest[index] = item
                else:
                    errors[index] = str(item)
            if time.monotonic() >= next_show and latest:
                display.show(merge(latest.values()))
                next_show += 1.0
    finally:
        signal.signal(signal.SIGINT, previous_handler or signal.SIG_DFL)
        for worker in workers:
            worker.join(timeout=5.0)
    final = merge(latest.values()) if latest else Snapshot(processes=0)
    final.processes = processes
    if errors:
        failures = dict(final.failures)
        for k, reason in sorted(errors.items()):
            key = f"worker {k}: {reason}"
            failures[key] = failures.get(key, 0) + 1
        final.failures = failures
    final.users = len(users)
    return final, interrupted
