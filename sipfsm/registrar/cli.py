"""``sipfsm registrar``: the embedded registrar on UDP and TCP until Ctrl-C (or SIGTERM).

Registered into the ``sipfsm`` command line by :func:`register_subcommand`; errors are
:class:`~sipfsm.errors.ConfigError` (exit 2), reported by :mod:`sipfsm.cli`.
"""

from __future__ import annotations

import argparse
import sys

from sipfsm.errors import ConfigError

__all__ = ["register_subcommand", "run_registrar"]


def _port(text: str, what: str) -> int | None:
    if text.lower() in ("off", "none", "no"):
        return None
    if not text.isdigit() or int(text) > 65535:
        raise ConfigError(f"{what}: {text!r} is not a port (0-65535, 0 = any free, off)")
    return int(text)


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise ConfigError(f"{what}: {text!r} is not a whole number")
    return int(text)


def _users(args: argparse.Namespace) -> dict[str, str]:
    users: dict[str, str] = {}
    for item in args.user:
        name, colon, password = item.partition(":")
        if not colon or not name:
            raise ConfigError(f"--user {item!r}: expected USER:PASSWORD")
        users[name] = password
    return users


def run_registrar(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal

    from sipfsm.registrar import LogEvent, RegistrarConfig, Scenario, parse_scenario
    from sipfsm.registrar.server import RegistrarServer

    users = _users(args)
    scenario = Scenario()
    for text in args.scenario:
        scenario = scenario + parse_scenario(text)
    config = RegistrarConfig(
        domains=frozenset(args.domain) if args.domain else None,
        users=users or None,
        realm=args.realm,
        algorithms=tuple(args.algorithm) if args.algorithm else ("MD5",),
        min_expires=_number(args.min_expires, "--min-expires"),
        max_expires=_number(args.max_expires, "--max-expires"),
        default_expires=_number(args.default_expires, "--default-expires"),
        reject_status=403 if args.reject_with_403 else 401,
        scenario=scenario,
    )
    udp_port = _port(args.udp_port, "--udp-port")
    tcp_port = _port(args.tcp_port, "--tcp-port")

    def show(event: LogEvent) -> None:
        print(event, flush=True)

    stopping: set[asyncio.Future[None]] = set()

    async def serve() -> None:
        trace = None
        if args.trace:
            from sipfsm.aio.trace import TraceWriter

            try:
                trace = TraceWriter(args.trace)
            except OSError as exc:
                raise ConfigError(f"--trace {args.trace}: {exc.strerror or exc}") from None
        try:
            server = await RegistrarServer.start(
                config, host=args.host, udp_port=udp_port, tcp_port=tcp_port, log=show,
                trace=trace,
            )
            async with server:
                where = ", ".join(
                    f"{kind}:{address}"
                    for kind, address in (("udp", server.udp_address),
                                          ("tcp", server.tcp_address))
                    if address is not None
                )
                domains = ", ".join(sorted(config.domains)) if config.domains else "any"
                who = ", ".join(sorted(users)) if users else "anyone, no authentication"
                print(f"sipfsm registrar on {where}  domains: {domains}  users: {who}  "
                      f"scenario: {scenario}  (Ctrl-C to stop)", flush=True)
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    # SIGTERM (what a test harness sends) stops as cleanly as Ctrl-C.
                    asyncio.get_running_loop().add_signal_handler(
                        signal.SIGTERM,
                        lambda: stopping.add(asyncio.ensure_future(server.aclose())),
                    )
                await server.serve_forever()
        finally:
            if trace is not None:
                trace.close()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print("sipfsm registrar stopped", file=sys.stderr)
    return 0


def register_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``registrar`` to the ``sipfsm`` subcommands."""
    p = sub.add_parser("registrar", help="run the embedded registrar (UDP and TCP) until Ctrl-C")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--udp-port", default="5060", metavar="PORT",
                   help="UDP port (default 5060; 0 = any free port; off = no UDP)")
    p.add_argument("--tcp-port", default="5060", metavar="PORT",
                   help="TCP port (default 5060; 0 = any free port; off = no TCP)")
    p.add_argument("--domain", action="append", default=[], metavar="DOMAIN",
                   help="a domain to keep bindings for (repeatable; default: any)")
    p.add_argument("--user", action="append", default=[], metavar="USER:PASSWORD",
                   help="a user and password; with users, REGISTER needs Digest (repeatable)")
    p.add_argument("--realm", default=None, help="Digest realm (default: the To URI's domain)")
    p.add_argument("--algorithm", action="append", default=[], metavar="MD5|SHA-256",
                   help="Digest algorithm to offer, in order of preference (repeatable; MD5, "
                        "SHA-256, SHA-512-256, or a -sess form; default MD5)")
    p.add_argument("--min-expires", default="60", metavar="SECONDS",
                   help="shorter requested intervals get 423 (default 60)")
    p.add_argument("--max-expires", default="3600", metavar="SECONDS",
                   help="longer requested intervals are cut to this (default 3600)")
    p.add_argument("--default-expires", default="3600", metavar="SECONDS",
                   help="interval when the REGISTER names none (default 3600)")
    p.add_argument("--reject-with-403", action="store_true",
                   help="answer wrong credentials with 403 instead of a new 401 challenge")
    p.add_argument("--scenario", action="append", default=[], metavar="SPEC",
                   help="misbehave on purpose, e.g. drop:0.3, drop-every:3, retry-after:2:5, "
                        "server-error:1:500, stale-nonce[:N], omit-contact[:N], 423-loop[:STEP], "
                        "redirect:[N:]URI (comma-separated or repeated)")
    p.add_argument("--trace", metavar="FILE.jsonl", default=None,
                   help="write every message received and sent as JSON lines (the README's "
                        "trace format, from the registrar's side)")
    p.set_defaults(handler=run_registrar)
