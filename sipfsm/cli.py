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
