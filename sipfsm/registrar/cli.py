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


def read_users_file(path: str) -> dict[str, str]:
    """``USER:PASSWORD`` per line; blank lines and ``#`` comments ignored.  ConfigError (exit
    2) naming the file and line for anything else; the password never appears in a message."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"--users-file {path}: {why}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        name, colon, password = text.partition(":")
        if not colon or not name.strip() or not password:
            raise ConfigError(f"--users-file {path} line {number}: expected USER:PASSWORD")
        users[name.strip()] = password
    return users


def _users(args: argparse.Namespace) -> dict[str, str]:
    import os

    users: dict[str, str] = {}
    if args.users_file:
        users.update(read_users_file(args.users_file))
    env_password: str | None = None
    if args.password_env:
        env_password = os.environ.get(args.password_env)
        if env_password is None:
            raise ConfigError(f"--password-env: ${args.password_env} is not set")
    on_argv = False
    for item in args.user:
        name, colon, password = item.partition(":")
        if not name:
            raise ConfigError(f"--user {item!r}: expected USER (with --password-env) or "
                              "USER:PASSWORD")
        if colon:
            on_argv = True
            users[name] = password
        elif env_password is not None:
            users[name] = env_password
        else:
            raise ConfigError(f"--user {name}: no password -- use --password-env NAME, "
                              "--users-file FILE or USER:PASSWORD")
    args.password_on_argv = on_argv
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
        max_contacts=_number(args.max_contacts, "--max-contacts"),
        max_bindings=_number(args.max_bindings, "--max-bindings"),
        max_response_size=_number(args.max_response_size, "--max-response-size"),
        allow_rfc2069=args.allow_rfc2069,
        check_digest_uri=not args.no_digest_uri_check,
    )
    from sipfsm.registrar.guard import TcpLimits

    tcp_limits = TcpLimits(
        idle_timeout=_number(args.tcp_idle_timeout, "--tcp-idle-timeout"),
        message_timeout=_number(args.tcp_message_timeout, "--tcp-message-timeout"),
        max_header_size=_number(args.max_header_size, "--max-header-size"),
        max_connections_per_source=_number(args.max_connections_per_source,
                                           "--max-connections-per-source"),
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
                trace=trace, tcp_limits=tcp_limits,
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
                if args.password_on_argv:
                    # Kept for quick demos (after the banner, which scripts read first); anyone
                    # on the machine can read argv (ps, /proc/PID/cmdline).
                    print("sipfsm registrar: warning: a password on the command line is visible "
                          "to other users (ps); prefer --users-file or --password-env",
                          file=sys.stderr, flush=True)
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
    p.add_argument("--users-file", metavar="FILE",
                   help="users and passwords, one USER:PASSWORD a line (# comments); with "
                        "users, REGISTER needs Digest")
    p.add_argument("--password-env", metavar="NAME",
                   help="the password of each --user given without one, from this environment "
                        "variable")
    p.add_argument("--user", action="append", default=[], metavar="USER[:PASSWORD]",
                   help="a user (repeatable); its password from --password-env, or after a "
                        "colon -- visible to other users in ps, so a warning is printed")
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
                        "server-error:1:500, stale-nonce[:N], omit-contact[:N], "
                        "423-loop[:STEP[:COUNT]], "
                        "redirect:[N:]URI (comma-separated or repeated)")
    p.add_argument("--max-contacts", default="20", metavar="N",
                   help="bindings per AOR; more get 503 (default 20; 0 = no limit)")
    p.add_argument("--max-bindings", default="100000", metavar="N",
                   help="bindings of all AORs; more get 503 (default 100000; 0 = no limit)")
    p.add_argument("--max-response-size", default="16384", metavar="BYTES",
                   help="a 200 larger than this is answered 513 instead (default 16384)")
    p.add_argument("--tcp-idle-timeout", default="120", metavar="SECONDS",
                   help="close a TCP connection silent this long (default 120; 0 = never)")
    p.add_argument("--tcp-message-timeout", default="30", metavar="SECONDS",
                   help="close a TCP connection whose message stays incomplete this long "
                        "(default 30; 0 = never)")
    p.add_argument("--max-header-size", default="16384", metavar="BYTES",
                   help="close a TCP connection sending a larger header section (default 16384)")
    p.add_argument("--max-connections-per-source", default="32", metavar="N",
                   help="TCP connections one IP address may hold (default 32; 0 = no limit)")
    p.add_argument("--allow-rfc2069", action="store_true",
                   help="accept Digest answers without qop (RFC 2069; replayable, off by default)")
    p.add_argument("--no-digest-uri-check", action="store_true",
                   help="accept a digest uri other than the Request-URI (SIPp 3.6 sends the "
                        "registrar's address; RFC 7616 §3.4.6 wants 400)")
    p.add_argument("--trace", metavar="FILE.jsonl", default=None,
                   help="write every message received and sent as JSON lines (the README's "
                        "trace format, from the registrar's side)")
    p.set_defaults(handler=run_registrar)
