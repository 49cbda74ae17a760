"""The ``sipfsm`` command line.  Each subcommand lives in its own function; errors become one
clear line on stderr and a distinct exit code, never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from sipfsm import __version__
from sipfsm.errors import ConfigError, ParseError, SipfsmError

# Exit codes: distinct per failure family so scripts can act on them.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARSE = 3

Handler = Callable[[argparse.Namespace], int]


def _cmd_parse(args: argparse.Namespace) -> int:
    from sipfsm.message import parse

    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as handle:
            data = handle.read()
    message = parse(data)
    print(message.to_bytes().decode("utf-8", "replace"), end="")
    return EXIT_OK


def _cmd_conformance(args: argparse.Namespace) -> int:
    from sipfsm.conformance.runner import exit_code, render, run

    verdicts = run(examples=args.examples)
    print(render(verdicts, args.format))
    return exit_code(verdicts)


def _cmd_registrar(args: argparse.Namespace) -> int:
    import asyncio

    from sipfsm.registrar import LogEvent, RegistrarConfig, Scenario, parse_scenario
    from sipfsm.registrar.server import RegistrarServer

    def port(text: str, what: str) -> int | None:
        if text.lower() in ("off", "none", "no"):
            return None
        if not text.isdigit() or int(text) > 65535:
            raise ConfigError(f"{what}: {text!r} is not a port (0-65535, 0 = any free, off)")
        return int(text)

    def number(text: str, what: str) -> int:
        if not text.isdigit():
            raise ConfigError(f"{what}: {text!r} is not a whole number of seconds")
        return int(text)

    users: dict[str, str] = {}
    for item in args.user:
        name, colon, password = item.partition(":")
        if not colon or not name:
            raise ConfigError(f"--user {item!r}: expected USER:PASSWORD")
        users[name] = password
    scenario = Scenario()
    for text in args.scenario:
        scenario = scenario + parse_scenario(text)
    config = RegistrarConfig(
        domains=frozenset(args.domain) if args.domain else None,
        users=users or None,
        realm=args.realm,
        algorithms=tuple(args.algorithm) if args.algorithm else ("MD5",),
        min_expires=number(args.min_expires, "--min-expires"),
        max_expires=number(args.max_expires, "--max-expires"),
        default_expires=number(args.default_expires, "--default-expires"),
        reject_status=403 if args.reject_with_403 else 401,
        scenario=scenario,
    )
    udp_port = port(args.udp_port, "--udp-port")
    tcp_port = port(args.tcp_port, "--tcp-port")

    def show(event: LogEvent) -> None:
        print(event, flush=True)

    async def serve() -> None:
        server = await RegistrarServer.start(
            config, host=args.host, udp_port=udp_port, tcp_port=tcp_port, log=show
        )
        async with server:
            where = ", ".join(
                f"{kind}:{address}"
                for kind, address in (("udp", server.udp_address), ("tcp", server.tcp_address))
                if address is not None
            )
            domains = ", ".join(sorted(config.domains)) if config.domains else "any"
            who = ", ".join(sorted(users)) if users else "anyone, no authentication"
            print(f"sipfsm registrar on {where}  domains: {domains}  users: {who}  "
                  f"scenario: {scenario}  (Ctrl-C to stop)", flush=True)
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        print("sipfsm registrar stopped", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sipfsm", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sipfsm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("parse", help="parse a SIP message (file or - for stdin) and print it back")
    p.add_argument("file", help="path to a raw SIP message, or - for stdin")
    p.set_defaults(handler=_cmd_parse)
    p = sub.add_parser("conformance", help="run every conformance check and print the checklist")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--examples", type=int, default=25, metavar="N",
                   help="hypothesis examples per property check (default 25)")
    p.set_defaults(handler=_cmd_conformance)
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
                   help="Digest algorithm to offer, in order of preference (repeatable; "
                        "default MD5)")
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
    p.set_defaults(handler=_cmd_registrar)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handler(args)
    except ParseError as exc:
        print(f"sipfsm: malformed message: {exc}", file=sys.stderr)
        return EXIT_PARSE
    except ConfigError as exc:
        print(f"sipfsm: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SipfsmError as exc:
        print(f"sipfsm: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"sipfsm: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
