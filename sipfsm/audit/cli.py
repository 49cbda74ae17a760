"""``sipfsm audit FILE... [--format text|markdown|json] [--password-env NAME]``.

Exit codes: 0 no MUST / MUST NOT violated, 1 some are, 2 bad arguments, 3 unreadable input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

__all__ = ["register_subcommand", "run"]


def register_subcommand(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "audit",
        help="judge a client's registrations from a trace, capture or log (exit 1 on MUST "
             "violations)",
    )
    p.add_argument("files", nargs="+", metavar="FILE",
                   help="sipfsm JSON-lines trace, pcap/pcapng capture, SIPp -trace_msg log or "
                        "plain text (several: read in order)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--input-format", choices=("jsonl", "pcap", "pcapng", "sipp", "text"),
                   default=None, help="skip format detection")
    p.add_argument("--password-env", metavar="NAME",
                   help="environment variable holding the password: Digest responses are "
                        "recomputed and checked")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sipfsm.audit.engine import audit_paths
    from sipfsm.audit.model import AuditInputError
    from sipfsm.audit.render import render
    from sipfsm.errors import ConfigError

    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if password is None:
            raise ConfigError(f"--password-env: ${args.password_env} is not set")
    try:
        report = audit_paths(args.files, password=password, fmt=args.input_format)
    except AuditInputError as exc:
        print(f"sipfsm audit: {exc}", file=sys.stderr)
        return 3
    print(render(report, args.format))
    return report.exit_code
