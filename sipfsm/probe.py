"""``sipfsm probe -- CMD ...``: run a client under test against every misbehaviour the embedded
registrar offers, record what crossed the wire, audit it, print one findings table.

For each scenario the registrar starts on loopback (a free port), the command runs with its
placeholders filled in -- ``{host}`` ``{port}`` ``{transport}`` (udp/tcp) ``{user}``
``{password}`` ``{aor}`` ``{domain}`` ``{registrar}`` (host:port) ``{scenario}`` -- and is stopped
(SIGTERM, then SIGKILL) when it has not ended within the bound.  The registrar's recording of the
exchange (its ``--trace`` format) is audited with :func:`sipfsm.audit.audit_records`, the password
the client was given being used to check its Digest responses.

Exit codes: 0 no MUST / MUST NOT violated in any scenario, 1 some were, 2 bad arguments (a
command that cannot be started included).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sipfsm.audit import Finding, Report, audit_records
from sipfsm.errors import ConfigError
from sipfsm.ports import HostPort

__all__ = [
    "SCENARIOS",
    "ProbeOptions",
    "ProbeScenario",
    "ScenarioResult",
    "register_subcommand",
    "render_results",
    "run_probe",
    "scenario_named",
]

_PLACEHOLDER = re.compile(r"\{(host|port|transport|user|password|aor|domain|registrar|scenario)\}")
TIMER_F_BOUND = 36.0  # seconds: long enough to see a client's Timer F (32 s) and what follows


@dataclass(frozen=True, slots=True)
class ProbeScenario:
    name: str
    description: str
    registrar_scenario: str = ""  # sipfsm.registrar scenario text
    authenticate: bool = True
    wrong_password: bool = False
    min_expires: int = 60
    max_expires: int = 3600
    min_bound: float = 0.0  # run the client at least this long (when it does not end itself)


SCENARIOS: tuple[ProbeScenario, ...] = (
    ProbeScenario("plain", "200 at once, no authentication", authenticate=False),
    ProbeScenario("auth", "401 with a Digest challenge, then 200"),
    ProbeScenario("stale-nonce", "correct credentials get one 401 stale=true first",
                  "stale-nonce:1"),
    ProbeScenario("423", "Min-Expires 3700: every usual interval gets a 423 first",
                  min_expires=3700, max_expires=7200),
    ProbeScenario("503-retry-after", "first REGISTER gets 503 with Retry-After: 5",
                  "retry-after:1:5", min_bound=8.0),
    ProbeScenario("omit-contact", "200s that list other bindings, not the client's own",
                  "omit-contact:0"),
    ProbeScenario("no-answer", "every request dropped (Timer F, then what?)", "drop-every:1",
                  min_bound=TIMER_F_BOUND),
    ProbeScenario("wrong-password", "the client is given a wrong password", wrong_password=True),
    ProbeScenario("dropped", "every second request dropped (retransmissions needed)",
                  "drop-every:2", min_bound=6.0),
)


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    transport: str = "udp"
    user: str = "alice"
    password: str = "probe-secret"
    domain: str = "sipfsm.test"
    host: str = "127.0.0.1"
    bound: float = 10.0
    save: Path | None = None


@dataclass(slots=True)
class ScenarioResult:
    scenario: ProbeScenario
    command: list[str]
    exit_code: int | None  # None: stopped by the probe
    report: Report
    records: list[dict[str, Any]] = field(default_factory=list)
    output: str = ""

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.report.findings


class _MemorySink:
    """A TraceSink keeping the README's trace records in memory."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def record(self, direction: Any, transport: str, local: HostPort, remote: HostPort,
               data: bytes) -> None:
        from sipfsm.aio.trace import trace_record

        self.records.append(trace_record(time.time(), direction, transport, local, remote, data))


def client_password_for(sc: ProbeScenario, password: str) -> str:
    """The password the client is given: the account's, or a wrong one."""
    return "wrong-" + password if sc.wrong_password else password


def registrar_config(sc: ProbeScenario, *, user: str, password: str, domain: str) -> Any:
    """The embedded registrar's configuration for a probe scenario."""
    from sipfsm.registrar import RegistrarConfig

    return RegistrarConfig(
        users={user: password} if sc.authenticate else None,
        realm=domain,
        min_expires=sc.min_expires,
        max_expires=sc.max_expires,
        default_expires=min(3600, sc.max_expires),
        scenario=sc.registrar_scenario,
    )


def scenario_named(name: str) -> ProbeScenario:
    for sc in SCENARIOS:
        if sc.name == name:
            return sc
    raise ConfigError(f"unknown scenario {name!r} (known: {', '.join(s.name for s in SCENARIOS)})")


def fill(command: Sequence[str], values: dict[str, str]) -> list[str]:
    return [_PLACEHOLDER.sub(lambda m: values[m.group(1)], arg) for arg in command]


async def _run_one(command: Sequence[str], sc: ProbeScenario, opts: ProbeOptions) -> ScenarioResult:
    from sipfsm.registrar.server import RegistrarServer

    client_password = client_password_for(sc, opts.password)
    config = registrar_config(sc, user=opts.user, password=opts.password, domain=opts.domain)
    sink = _MemorySink()
    udp = opts.transport == "udp"
    server = await RegistrarServer.start(config, host=opts.host, udp_port=0 if udp else None,
                                         tcp_port=None if udp else 0, trace=sink)
    try:
        address = server.udp_address if udp else server.tcp_address
        assert address is not None
        values = {
            "host": address.host, "port": str(address.port), "transport": opts.transport,
            "user": opts.user, "password": client_password, "domain": opts.domain,
            "aor": f"sip:{opts.user}@{opts.domain}", "registrar": str(address),
            "scenario": sc.name,
        }
        argv = fill(command, values)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            raise ConfigError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
        output = asyncio.ensure_future(proc.stdout.read()) if proc.stdout else None
        bound = max(opts.bound, sc.min_bound)
        exit_code: int | None
        try:
            exit_code = await asyncio.wait_for(proc.wait(), bound)
        except TimeoutError:
            exit_code = None
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 3.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        ended = time.time()
        await asyncio.sleep(0.2)  # the last responses on their way
        text = (await output).decode("utf-8", "replace") if output is not None else ""
    finally:
        await server.aclose()
    report = audit_records(sink.records, password=client_password, end=ended)
    result = ScenarioResult(sc, argv, exit_code, report, sink.records, text)
    if opts.save is not None:
        opts.save.mkdir(parents=True, exist_ok=True)
        with (opts.save / f"{sc.name}.jsonl").open("w", encoding="utf-8") as handle:
            for record in sink.records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        (opts.save / f"{sc.name}.log").write_text(text, encoding="utf-8")
    return result


def run_probe(
    command: Sequence[str],
    *,
    scenarios: Sequence[str] | None = None,
    options: ProbeOptions | None = None,
) -> list[ScenarioResult]:
    """Probe ``command`` under the named scenarios (default: all), one after the other."""
    opts = options or ProbeOptions()
    if not command:
        raise ConfigError("probe: give the client's command after --")
    if opts.transport not in ("udp", "tcp"):
        raise ConfigError(f"probe: transport {opts.transport!r} is not udp or tcp")
    by_name = {s.name: s for s in SCENARIOS}
    chosen = list(scenarios or by_name)
    unknown = [n for n in chosen if n not in by_name]
    if unknown:
        raise ConfigError(f"probe: unknown scenario(s) {', '.join(unknown)} "
                          f"(known: {', '.join(by_name)})")

    async def run_all() -> list[ScenarioResult]:
        return [await _run_one(command, by_name[name], opts) for name in chosen]

    return asyncio.run(run_all())


def _evidence(f: Finding) -> str:
    start = None
    parts = []
    for n, t in zip(f.evidence.messages, f.evidence.times, strict=True):
        if t is not None and start is None:
            start = t
        parts.append(f"#{n}")
    return " ".join(parts)


def render_results(results: Sequence[ScenarioResult], fmt: str = "text",
                   client: str | None = None) -> str:
    must = sum(1 for r in results for f in r.findings if f.is_must)
    total = sum(len(r.findings) for r in results)
    verdict = "CLEAN" if total == 0 else ("FAIL" if must else "WARN")
    summary = (f"probe {verdict}: {len(results)} scenario(s), {total} finding(s), {must} "
               "MUST-level")
    if fmt == "json":
        lines = [json.dumps({"summary": summary, "findings": total, "must": must})]
        for r in results:
            for f in r.findings:
                lines.append(json.dumps({"scenario": r.scenario.name, **f.to_dict()},
                                        ensure_ascii=False))
        return "\n".join(lines)
    rows: list[tuple[str, ...]] = []
    for r in results:
        ended = "stopped" if r.exit_code is None else f"exit {r.exit_code}"
        head = (r.scenario.name, f"{r.report.messages} msgs, {ended}")
        if not r.report.registrations:
            last = (r.output.strip().splitlines() or ["no output"])[-1][:120]
            rows.append((*head, "-", "-", "no REGISTER", "-", f"client said: {last}"))
        elif not r.findings:
            rows.append((*head, "-", "-", "clean", "-", "-"))
        for f in r.findings:
            rows.append((*head, f.rule_id, f.level, f.verdict, _evidence(f), f.explanation))
    header = ("scenario", "run", "rule", "level", "verdict", "evidence", "explanation")
    if fmt == "markdown":
        out = [f"**{summary}**" + (f" — client: `{client}`" if client else ""), "",
               "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(out)
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header[:-1])]
    out = [summary]
    for row in (header, *rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                   + "  " + row[-1])
    return "\n".join(out)


def register_subcommand(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "probe",
        help="run a client under each registrar misbehaviour and audit what it did",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help="scenario to run (repeatable; default all: "
                        + ", ".join(s.name for s in SCENARIOS) + ")")
    p.add_argument("--transport", choices=("udp", "tcp"), default="udp")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="probe-secret",
                   help="the test account's password (a throwaway; the registrar is local)")
    p.add_argument("--domain", default="sipfsm.test")
    p.add_argument("--bound", type=float, default=10.0, metavar="SECONDS",
                   help="stop the client after this long (no-answer runs at least 36 s)")
    p.add_argument("--save", metavar="DIR", help="keep each scenario's trace and client output")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="-- then the client's command line, with placeholders")
    p.set_defaults(handler=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if args.bound <= 0:
        raise ConfigError("--bound must be positive")
    options = ProbeOptions(transport=args.transport, user=args.user, password=args.password,
                           domain=args.domain, bound=args.bound,
                           save=Path(args.save) if args.save else None)
    results = run_probe(command, scenarios=args.scenario or None, options=options)
    print(render_results(results, args.format, client=" ".join(command)))
    sys.stdout.flush()
    return 1 if any(f.is_must for r in results for f in r.findings) else 0
