"""``sipfsm conformance``: run the checks, print the checklist, exit 1 on a failing record."""

from __future__ import annotations

import argparse
import sys

from sipfsm.errors import ConfigError

__all__ = ["cmd_conformance", "register_subcommand"]

_LEVELS = ("MUST", "SHOULD", "MAY")


def cmd_conformance(args: argparse.Namespace) -> int:
    from sipfsm.conformance.runner import exit_code, render, run, select
    from sipfsm.spec import load_spec

    if args.examples < 1:
        raise ConfigError(f"--examples: {args.examples} is not a positive number")
    spec = load_spec()
    if args.section and not select(spec, sections=args.section):
        raise ConfigError(f"--section: no record under {', '.join(args.section)}")
    verdicts = run(spec, examples=args.examples, sections=args.section, level=args.level,
                   shrink=not args.no_shrink)
    sys.stdout.write(render(verdicts, args.format, failed_only=args.failed))
    if args.format == "json":
        sys.stdout.write("\n")
    return exit_code(verdicts, args.level)


def register_subcommand(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    p: argparse.ArgumentParser = sub.add_parser(
        "conformance", help="run every conformance check and print the checklist",
        description="Run the conformance checks. Exit 1 when an applicable record fails or has "
                    "no check (any level; --level narrows which levels count).")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--examples", type=int, default=25, metavar="N",
                   help="hypothesis examples per property check (default 25)")
    p.add_argument("--level", choices=_LEVELS, default=None,
                   help="only records of this level or stricter (MUST = MUST and MUST NOT)")
    p.add_argument("--section", action="append", default=[], metavar="SECTION",
                   help="only records of this section and its subsections, e.g. 10.2.4 or "
                        "'RFC 7616 §3.4' (repeatable)")
    p.add_argument("--failed", action="store_true",
                   help="list only failing records (and those with no check)")
    p.add_argument("--no-shrink", action="store_true",
                   help="report the first failing example without shrinking it (faster)")
    p.set_defaults(handler=cmd_conformance)
    return p
