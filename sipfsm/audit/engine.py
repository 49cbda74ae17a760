"""The audit: group the observations, run every rule the spec marks auditable, report.

Which rules run is data: a spec record whose ``audit`` key is ``message: ...`` or
``sequence: ...`` names a rule in :data:`sipfsm.audit.rules.RULES` (a record without a rule, or a
rule without such a record, is a :class:`~sipfsm.spec.SpecError` at the first audit); the
finding takes the record's level and section.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from sipfsm.audit.digest_ref import auth_params
from sipfsm.audit.exchange import Exchange, group
from sipfsm.audit.model import Evidence, Finding, Observation, Report, evidence
from sipfsm.audit.readers import observations_from_records, read_observations
from sipfsm.audit.rules import RULES, Context, Rule, Tolerance, _challenges
from sipfsm.errors import ParseError
from sipfsm.spec import Requirement, SpecError, load_spec

__all__ = ["GRAMMAR_RULE", "active_rules", "audit_observations", "audit_paths", "audit_records"]

GRAMMAR_RULE = "RFC3261-25-REQUEST-GRAMMAR"


@lru_cache(maxsize=1)
def active_rules() -> tuple[tuple[Rule, Requirement], ...]:
    """(rule, spec record) for every record marked auditable, in spec order."""
    spec = load_spec()
    active: list[tuple[Rule, Requirement]] = []
    declared = set()
    for record in spec.values():
        kind = record.audit_kind
        if kind == "no":
            continue
        declared.add(record.id)
        if record.id == GRAMMAR_RULE:
            continue  # judged while grouping
        rule = RULES.get(record.id)
        if rule is None:
            raise SpecError(f"{record.file} {record.id}: audit = {kind!r} but no audit rule")
        if rule.kind != kind:
            raise SpecError(
                f"{record.file} {record.id}: audit kind {kind!r}, rule is {rule.kind!r}"
            )
        active.append((rule, record))
    undeclared = sorted(set(RULES) - declared)
    if undeclared:
        raise SpecError(f"audit rules without an 'audit' spec record: {', '.join(undeclared)}")
    if GRAMMAR_RULE not in spec or spec[GRAMMAR_RULE].audit_kind == "no":
        raise SpecError(f"{GRAMMAR_RULE} must be marked auditable")
    return tuple(active)


def _challenges_by_nonce(exchange: Exchange) -> dict[
    tuple[str, str, str], tuple[Observation, str, dict[str, tuple[str, bool]]]
]:
    found: dict[tuple[str, str, str], tuple[Observation, str, dict[str, tuple[str, bool]]]] = {}
    for reg in exchange.registrations:
        for t in reg.transactions:
            for observed, response in t.responses:
                try:
                    pairs = _challenges(response) if response.status in (401, 407) else []
                    info = response.headers.get("Authentication-Info")
                except ParseError:
                    continue
                for answer, params in pairs:
                    nonce = params.get("nonce")
                    if nonce is not None:
                        found.setdefault((reg.client, reg.registrar, nonce[0]),
                                         (observed, answer, params))
                if info and 200 <= response.status < 300:
                    next_nonce = auth_params(info).get("nextnonce")
                    if next_nonce is not None:
                        found.setdefault((reg.client, reg.registrar, next_nonce[0]),
                                         (observed, "Authorization", {}))
    return found


def audit_observations(
    observations: list[Observation],
    *,
    password: str | None = None,
    tolerance: Tolerance | None = None,
    ignored: int = 0,
    sources: tuple[str, ...] = (),
    end: float | None = None,
) -> Report:
    """``end``: when the recording stopped (default: the last message's time); rules that ask
    whether something happened in time only judge what the recording covers."""
    exchange = group(observations)
    if end is not None:
        exchange.end = max(end, exchange.end or end)
    rules = active_rules()
    spec = load_spec()
    ctx = Context(exchange, password, tolerance or Tolerance(), _challenges_by_nonce(exchange))
    findings: list[Finding] = []
    grammar = spec[GRAMMAR_RULE]
    for observed in exchange.unparseable:
        findings.append(Finding(GRAMMAR_RULE, grammar.level, grammar.source, "unparseable",
                                evidence([observed]),
                                f"REGISTER does not parse: {observed.error or 'bad header'}",
                                f"? -> {observed.destination}"))
    for reg in exchange.registrations:
        for i in range(len(reg.transactions)):
            for rule, record in rules:
                try:
                    hits = list(rule.check(ctx, reg, i))
                except ParseError as exc:
                    t = reg.transactions[i]
                    findings.append(Finding(GRAMMAR_RULE, grammar.level, grammar.source,
                                            "unparseable", evidence([t.first]),
                                            f"REGISTER header does not parse: {exc}", reg.key))
                    continue
                for hit in hits:
                    findings.append(Finding(rule.id, record.level, record.source, "violated",
                                            evidence(hit.messages), hit.explanation,
                                            hit.registration))
    findings = _dedupe(findings)
    findings.sort(key=lambda f: (f.evidence.messages[:1] or (0,), f.rule_id))
    return Report(
        tuple(findings),
        len(observations),
        tuple(r.key for r in exchange.registrations),
        tuple(exchange.clients),
        (*tuple(rule.id for rule, _ in rules), GRAMMAR_RULE),
        ignored,
        sources,
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, Evidence, str]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.evidence, f.explanation)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def audit_paths(
    paths: Iterable[str | Path],
    *,
    password: str | None = None,
    fmt: str | None = None,
    tolerance: Tolerance | None = None,
) -> Report:
    """Audit recordings (JSON-lines traces, pcap / pcapng, SIPp -trace_msg logs, plain text)."""
    paths = [Path(p) for p in paths]
    observations, ignored = read_observations(paths, fmt=fmt)
    return audit_observations(observations, password=password, tolerance=tolerance,
                              ignored=ignored, sources=tuple(str(p) for p in paths))


def audit_records(
    records: Iterable[object],
    *,
    password: str | None = None,
    tolerance: Tolerance | None = None,
    end: float | None = None,
) -> Report:
    """Audit trace records already in memory (dicts in the JSON-lines trace format)."""
    return audit_observations(observations_from_records(records), password=password,
                              tolerance=tolerance, end=end)
