"""The ``sipfsm`` command line.  Each subcommand lives in its own function; errors become one
clear line on stderr and a distinct exit code, never a traceback."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import Any

from sipfsm import __version__
from sipfsm.errors import ConfigError, ParseError, SipfsmError

# Exit codes: distinct per failure family so scripts can act on them.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARSE = 3  # malformed input, or an input file that cannot be read
EXIT_INTERNAL = 70  # EX_SOFTWARE
EXIT_INTERRUPTED = 130
# 4: authentication failed, 5: registrar unreachable / timed out, 6: rejected by the registrar
# (see sipfsm.app).

Handler = Callable[[argparse.Namespace], int]

# The optional extra that brings hypothesis (what ``sipfsm conformance`` runs on).
CONFORMANCE_EXTRA = "conformance"


class UnreadableInput(SipfsmError):
    """An input file named on the command line cannot be read (exit 3)."""


def _read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror or exc}") from None


# -- argument types: a bad value is argparse's one-line error and exit 2 ----------------------

def _seconds(text: str, *, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        floor = ">= 0" if allow_zero else "> 0"
        raise argparse.ArgumentTypeError(f"{text!r}: give a finite number of seconds {floor}")
    return value


def positive_seconds(text: str) -> float:
    return _seconds(text, allow_zero=False)


def non_negative_seconds(text: str) -> float:
    return _seconds(text, allow_zero=True)


def _bounded_int(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{text!r}: give a whole number {low}..{high}")
    return value


def positive_count(text: str) -> int:
    return _bounded_int(text, 1, 2**31 - 1)


def expires_seconds(text: str) -> int:
    return _bounded_int(text, 1, 2**32 - 1)


def _cmd_parse(args: argparse.Namespace) -> int:
    from sipfsm.message import parse

    data = _read_input(args.file)
    if args.strict:
        from sipfsm.message.strict import validate

        validate(data)  # StrictError is a ParseError: exit 3, naming the rule broken
    message = parse(data)
    print(message.to_bytes().decode("utf-8", "replace"), end="")
    return EXIT_OK


def hypothesis_missing() -> bool:
    """True when hypothesis (the ``conformance`` extra) cannot be imported."""
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        return True
    return False


def _cmd_conformance(args: argparse.Namespace) -> int:
    if hypothesis_missing():
        print(f"sipfsm conformance needs hypothesis: pip install 'sipfsm[{CONFORMANCE_EXTRA}]'",
              file=sys.stderr)
        return EXIT_USAGE
    from sipfsm.conformance.cli import cmd_conformance

    return cmd_conformance(args)


def _read_password(args: argparse.Namespace) -> str | None:
    import getpass
    import os

    if args.password_env:
        value = os.environ.get(args.password_env)
        if value is None:
            raise ConfigError(f"--password-env: ${args.password_env} is not set")
        return value
    if args.no_auth:
        return None
    if sys.stdin.isatty():
        return getpass.getpass(f"password for {args.user or 'the AOR user'}: ")
    raise ConfigError("no password: use --password-env NAME, run interactively, or --no-auth")


def _client_options(args: argparse.Namespace) -> object:
    from pathlib import Path

    from sipfsm.app import ClientOptions, parse_registrar_address, parse_sip_uri

    aor = parse_sip_uri(args.aor, "--aor")
    if aor.scheme != "sip" or not aor.user:
        raise ConfigError("--aor: give a sip: address-of-record with a user, e.g. "
                          "sip:alice@example.com")
    proxy = None
    if args.outbound_proxy:
        proxy = parse_sip_uri(args.outbound_proxy, "--outbound-proxy")
        if "lr" not in proxy.params:
            proxy = proxy.with_param("lr")
    registrar = parse_registrar_address(args.registrar) if args.registrar else None
    return ClientOptions(
        aor=aor,
        registrar=registrar,
        registrar_uri=parse_sip_uri(args.registrar_uri, "--registrar-uri")
        if args.registrar_uri else None,
        outbound_proxy=proxy,
        username=args.user or aor.user or "",
        password=_read_password(args),
        expires=args.expires,
        contacts=tuple(parse_sip_uri(c, "--contact") for c in args.contact),
        duration=args.duration,
        trace=Path(args.trace) if args.trace else None,
        transport=registrar.transport if registrar else (args.transport or None),
        local_host=args.local_host,
        max_failures=args.max_failures,
        rewrite_contact=args.rewrite_contact,
        tls=_tls_settings(args, aor, proxy, registrar),
        instance_id=_instance_id(args),
        timeout=args.timeout,
        max_retry_after=args.max_retry_after,
    )


def _instance_id(args: argparse.Namespace) -> str | None:
    from sipfsm.outbound.registration import validate_instance

    return validate_instance(args.instance_id) if args.instance_id else None


def _tls_settings(args: argparse.Namespace, aor: Any, proxy: Any, registrar: Any) -> Any:
    from sipfsm.aio.client_options import tls_settings_from, uses_tls
    from sipfsm.app import parse_sip_uri

    transport = registrar.transport if registrar else args.transport
    if not (uses_tls(transport, proxy) or args.ca_file or args.cert):
        return None
    uri = parse_sip_uri(args.registrar_uri, "--registrar-uri") if args.registrar_uri else None
    return tls_settings_from(args, aor=aor, registrar_uri=uri, outbound_proxy=proxy)


def _cmd_client(args: argparse.Namespace) -> int:
    import asyncio

    from sipfsm.app import ClientOptions, run_client

    options = _client_options(args)
    assert isinstance(options, ClientOptions)
    action = args.command
    if action == "unregister" and args.all:
        action = "unregister-all"
    if action == "register" and args.outbound:
        from sipfsm.aio.client_options import outbound_options_from
        from sipfsm.aio.outbound import run_outbound

        outbound = outbound_options_from(args, aor=options.aor, registrar=options.registrar,
                                         outbound_proxy=options.outbound_proxy)
        return asyncio.run(run_outbound(options, outbound, sys.stdout, sys.stderr))
    return asyncio.run(run_client(options, action, sys.stdout, sys.stderr))


def _cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from sipfsm.demo import run_demo

    if getattr(args, "outbound", False):
        from sipfsm.aio.outbound_demo import run_outbound_demo

        return asyncio.run(run_outbound_demo(sys.stdout, timeout=args.timeout, tls=args.tls))
    return asyncio.run(run_demo(sys.stdout, timeout=args.timeout,
                                tls=getattr(args, "tls", False)))


def _cmd_ladder(args: argparse.Namespace) -> int:
    from sipfsm.ladder import mermaid, read_trace, svg, text_ladder

    try:
        records = read_trace(args.trace)
    except OSError as exc:
        raise UnreadableInput(f"cannot read {args.trace}: {exc.strerror or exc}") from None
    if args.format == "svg":
        text = svg(records)
    elif args.format == "text":
        text = text_ladder(records)
    else:
        text = mermaid(records)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        print(text, end="")
    return EXIT_OK


def _add_client_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aor", required=True, help="address-of-record, e.g. sip:alice@example.com")
    p.add_argument("--registrar", metavar="udp:HOST[:PORT]",
                   help="registrar address, udp:HOST[:PORT] or tcp:HOST[:PORT] (a host name is "
                        "looked up); default: RFC 3263 DNS for the AOR's domain")
    p.add_argument("--registrar-uri", metavar="URI",
                   help="Request-URI (default: sip:<AOR domain>)")
    p.add_argument("--outbound-proxy", metavar="URI", help="outbound proxy (a loose route)")
    p.add_argument("--transport", choices=("UDP", "TCP", "TLS", "udp", "tcp", "tls"), default=None,
                   help="transport to prefer when the registrar is found by DNS")
    p.add_argument("--user", help="Digest user name (default: the AOR's user)")
    p.add_argument("--password-env", metavar="NAME",
                   help="read the password from this environment variable")
    p.add_argument("--no-auth", action="store_true", help="send no credentials")
    p.add_argument("--expires", type=expires_seconds, default=3600,
                   help="requested expiry in seconds (1..4294967295, default 3600)")
    p.add_argument("--contact", action="append", default=[], metavar="URI",
                   help="contact to bind (repeatable; default: made from the local address)")
    p.add_argument("--local-host", default="0.0.0.0", help="local address to bind")
    p.add_argument("--trace", metavar="FILE.jsonl", help="write every message sent and received")
    p.add_argument("--rewrite-contact", action="store_true",
                   help="re-register with the address the registrar saw (Via received/rport)")
    p.add_argument("--max-failures", type=positive_count, default=3, metavar="N",
                   help="give up after N consecutive failures (default 3); the exit code is "
                        "the last failure's")
    p.add_argument("--max-retry-after", type=non_negative_seconds, default=None,
                   metavar="SECONDS",
                   help="wait at most SECONDS when the registrar says Retry-After (default "
                        "3600; never less than the backoff)")
    p.add_argument("--timeout", type=positive_seconds, default=None, metavar="SECONDS",
                   help="give up (exit 5) when the command's answer (the registration, the "
                        "unregister, the bindings) has not come after SECONDS")
    from sipfsm.aio.client_options import add_outbound_arguments, add_tls_arguments

    add_tls_arguments(p)
    add_outbound_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sipfsm", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sipfsm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("parse", help="parse a SIP message (file or - for stdin) and print it back")
    p.add_argument("file", help="path to a raw SIP message, or - for stdin")
    p.add_argument("--strict", action="store_true",
                   help="refuse what RFC 3261's grammar calls invalid, naming the rule (exit 3)")
    p.set_defaults(handler=_cmd_parse)
    from sipfsm.conformance.cli import register_subcommand as register_conformance

    register_conformance(sub).set_defaults(handler=_cmd_conformance)
    from sipfsm.registrar.cli import register_subcommand as _register_registrar

    _register_registrar(sub)
    p = sub.add_parser("demo", help="register, refresh, query and unregister against the "
                                    "embedded registrar on loopback")
    p.add_argument("--timeout", type=positive_seconds, default=30.0,
                   help="seconds to wait for each step (default 30)")
    p.add_argument("--tls", action="store_true",
                   help="over TLS, with a throwaway CA and certificate (needs sipfsm[tls])")
    p.add_argument("--outbound", action="store_true",
                   help="RFC 5626 outbound: two flows, keep-alives, a flow killed and recovered")
    p.set_defaults(handler=_cmd_demo)
    p = sub.add_parser("register", help="register, refresh until --duration or Ctrl-C, then "
                                        "unregister")
    _add_client_arguments(p)
    p.add_argument("--duration", type=non_negative_seconds, default=None, metavar="SECONDS",
                   help="end the command SECONDS after the first REGISTER, registered or "
                        "not, unregistering if registered (default: until Ctrl-C)")
    p.set_defaults(handler=_cmd_client)
    p = sub.add_parser("unregister", help="remove our bindings (--all: every binding)")
    _add_client_arguments(p)
    p.add_argument("--all", action="store_true", help="Contact: * (remove every binding)")
    p.set_defaults(handler=_cmd_client, duration=None)
    p = sub.add_parser("query", help="list the AOR's bindings")
    _add_client_arguments(p)
    p.set_defaults(handler=_cmd_client, duration=None)
    p = sub.add_parser("ladder", help="draw a trace (JSON lines) as a message ladder")
    p.add_argument("trace", help="trace file written by --trace")
    p.add_argument("--format", choices=("mermaid", "text", "svg"), default="mermaid")
    p.add_argument("--output", "-o", help="write here instead of stdout")
    p.set_defaults(handler=_cmd_ladder)
    from sipfsm.load.command import add_load_subcommand  # engineer E: sipfsm load

    add_load_subcommand(sub)
    from sipfsm.audit.cli import register_subcommand as _register_audit

    _register_audit(sub)
    from sipfsm.probe import register_subcommand as _register_probe

    _register_probe(sub)
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
    except UnreadableInput as exc:
        print(f"sipfsm: {exc}", file=sys.stderr)
        return EXIT_PARSE
    except ConfigError as exc:
        print(f"sipfsm: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SipfsmError as exc:
        print(f"sipfsm: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"sipfsm: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, never a traceback (SIPFSM_DEBUG=1 shows it)
        import os

        if os.environ.get("SIPFSM_DEBUG"):
            raise
        print(f"sipfsm: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
