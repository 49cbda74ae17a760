"""Run the conformance checks and render the checklist (text, markdown or JSON).

One record, one verdict: a check names the records it covers and states each rule with
:func:`~sipfsm.conformance.registry.expect`; when it fails on one record, that record fails and
the check runs again with the record masked, to judge the others on their own evidence.
"""

from __future__ import annotations

import json
import re
import tempfile
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

from sipfsm.conformance.registry import Check, RuleViolation, all_checks, masking
from sipfsm.spec import Requirement, Spec, load_spec

__all__ = ["LEVEL_GROUPS", "Verdict", "exit_code", "render", "run", "select"]

PASS, FAIL, NOT_APPLICABLE, NO_CHECK = "pass", "fail", "not-applicable", "no-check"

# ``--level X`` keeps the records of X's group and of every stricter group.
LEVEL_GROUPS: dict[str, int] = {
    "MUST": 0, "MUST NOT": 0,
    "SHOULD": 1, "SHOULD NOT": 1, "RECOMMENDED": 1, "NOT RECOMMENDED": 1,
    "MAY": 2,
}


@dataclass(slots=True)
class Verdict:
    id: str
    level: str
    source: str
    applies: bool
    verdict: str
    seed: str | None
    text: str
    reason: str | None = None
    checks: list[str] = field(default_factory=list)
    detail: str | None = None
    failed_checks: list[str] = field(default_factory=list)


def _hypothesis_profile(examples: int, *, shrink: bool = True) -> None:
    from hypothesis import HealthCheck, Phase, settings

    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    if shrink:
        phases.append(Phase.shrink)
    settings.register_profile(
        "sipfsm-conformance",
        max_examples=examples,
        deadline=None,
        database=None,  # nothing left in the working directory (no .hypothesis/)
        derandomize=True,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("sipfsm-conformance")


def _violations(exc: BaseException) -> list[RuleViolation] | None:
    """The RuleViolations ``exc`` carries (hypothesis may group several), or None when some
    part of it is another failure."""
    if isinstance(exc, RuleViolation):
        return [exc]
    if isinstance(exc, BaseExceptionGroup):
        out: list[RuleViolation] = []
        for inner in exc.exceptions:
            found = _violations(inner)
            if found is None:
                return None
            out.extend(found)
        return out
    return None


def _one_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def run_check(chk: Check) -> dict[str, str | None]:
    """Each of ``chk``'s records -> None (pass) or why it failed."""
    outcome: dict[str, str | None] = {}
    masked: set[str] = set()
    for _ in range(len(chk.requirements) + 1):
        try:
            with masking(masked):
                chk.func()
        except Exception as exc:  # a check fails by raising anything at all
            found = _violations(exc)
            mine = [v for v in found or [] if v.requirement in chk.requirements
                    and v.requirement not in masked]
            if found is None or not mine:
                # Not tied to a record: evidence against every record still judged here.
                for rid in chk.requirements:
                    if rid not in masked:
                        outcome[rid] = f"{chk.name}: {_one_line(exc)}"
                break
            for violation in mine:
                outcome[violation.requirement] = f"{chk.name}: {_one_line(violation)}"
                masked.add(violation.requirement)
            continue
        break
    for rid in chk.requirements:
        outcome.setdefault(rid, None)
    return outcome


def _section_number(source: str) -> str:
    """The first section number of a record's source: ``RFC 3261 §10.2.4, §10.2.1.2`` and
    ``RFC 3261 §22 (and §22.4)`` give ``10.2.4`` and ``22`` (trailing text ignored)."""
    if "§" not in source:
        return source
    m = re.match(r"\s*([\d.]+)", source.split("§", 1)[1])
    return m.group(1).rstrip(".") if m else source.split("§", 1)[1].strip()


def _matches_section(record: Requirement, section: str) -> bool:
    """``10.2.4`` matches §10.2.4 and its subsections of any document; ``RFC 7616 §3.4`` (or
    ``RFC7616-3.4``) one document's."""
    wanted = section.strip()
    if wanted == record.source:
        return True
    m = re.fullmatch(r"RFC\s*(\d+)\s*(?:§|-)\s*([\d.]+)", wanted, re.IGNORECASE)
    number = _section_number(record.source)
    if m:
        doc = f"RFC {m.group(1)}"
        if not record.source.upper().startswith(doc):
            return False
        wanted = m.group(2)
    wanted = wanted.lstrip("§").rstrip(".")
    return number == wanted or number.startswith(wanted + ".")


def select(spec: Spec, *, sections: Sequence[str] = (), level: str | None = None
           ) -> list[Requirement]:
    """The records ``--section`` / ``--level`` keep, in spec order."""
    limit = LEVEL_GROUPS[level] if level else None
    out = []
    for record in spec.values():
        if sections and not any(_matches_section(record, s) for s in sections):
            continue
        if limit is not None and LEVEL_GROUPS.get(record.level, 2) > limit:
            continue
        out.append(record)
    return out


def run(spec: Spec | None = None, *, examples: int = 25,
        checks: Iterable[Check] | None = None, sections: Sequence[str] = (),
        level: str | None = None, shrink: bool = True) -> list[Verdict]:
    """The verdict of every record ``sections`` / ``level`` keep.  Hypothesis keeps its
    example database in memory and its caches in a temporary directory, so nothing is left in
    the working directory."""
    from hypothesis.configuration import set_hypothesis_home_dir

    with tempfile.TemporaryDirectory(prefix="sipfsm-conformance-") as home:
        set_hypothesis_home_dir(home)
        try:
            return _run(spec or load_spec(), examples=examples, checks=checks,
                        sections=sections, level=level, shrink=shrink)
        finally:
            set_hypothesis_home_dir(None)


def _run(spec: Spec, *, examples: int, checks: Iterable[Check] | None,
         sections: Sequence[str], level: str | None, shrink: bool) -> list[Verdict]:
    _hypothesis_profile(examples, shrink=shrink)
    by_requirement: dict[str, list[Check]] = {}
    for chk in checks if checks is not None else all_checks():
        for rid in chk.requirements:
            by_requirement.setdefault(rid, []).append(chk)
    outcomes: dict[str, dict[str, str | None]] = {}
    verdicts: list[Verdict] = []
    for record in select(spec, sections=sections, level=level):
        v = Verdict(id=record.id, level=record.level, source=record.source,
                    applies=record.applies, verdict=NO_CHECK, seed=record.seed,
                    text=record.text, reason=record.reason)
        mine = by_requirement.get(record.id, [])
        v.checks = [c.name for c in mine]
        if not record.applies:
            v.verdict = NOT_APPLICABLE
        elif mine:
            failures = []
            for chk in mine:
                if chk.name not in outcomes:
                    outcomes[chk.name] = run_check(chk)
                why = outcomes[chk.name].get(record.id)
                if why is not None:
                    failures.append(why)
                    v.failed_checks.append(chk.name)
            v.verdict = FAIL if failures else PASS
            v.detail = "; ".join(failures) or None
        verdicts.append(v)
    return verdicts


def exit_code(verdicts: Iterable[Verdict], level: str | None = None) -> int:
    """1 when an applicable record (of ``level`` or stricter; default any level) fails or has
    no check, else 0."""
    limit = LEVEL_GROUPS[level] if level else None
    for v in verdicts:
        if limit is not None and LEVEL_GROUPS.get(v.level, 2) > limit:
            continue
        if v.applies and v.verdict in (FAIL, NO_CHECK):
            return 1
    return 0


def _summary(verdicts: Sequence[Verdict]) -> list[str]:
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    order = (FAIL, NO_CHECK, PASS, NOT_APPLICABLE)
    parts = ", ".join(f"{counts[k]} {k}" for k in order if k in counts)
    lines = [f"{len(verdicts)} records: {parts or 'none'}"]
    bad = [v for v in verdicts if v.applies and v.verdict in (FAIL, NO_CHECK)]
    if bad:
        by_level: dict[str, int] = {}
        for v in bad:
            by_level[v.level] = by_level.get(v.level, 0) + 1
        lines.append("failing by level: " + ", ".join(
            f"{n} {lvl}" for lvl, n in sorted(by_level.items(),
                                              key=lambda kv: LEVEL_GROUPS.get(kv[0], 2))))
        lines.append("failing: " + ", ".join(f"{v.id} ({v.level})" for v in bad))
    else:
        lines.append("every applicable record passes")
    return lines


def _sections(verdicts: Sequence[Verdict]) -> list[tuple[str, list[Verdict]]]:
    groups: dict[str, list[Verdict]] = {}
    for v in verdicts:
        groups.setdefault(v.source, []).append(v)

    def key(source: str) -> tuple[str, tuple[int, ...]]:
        doc = source.split("§", 1)[0].strip()
        nums = tuple(int(n) for n in re.findall(r"\d+", _section_number(source)))
        return doc, nums

    return sorted(groups.items(), key=lambda kv: key(kv[0]))


def render(verdicts: list[Verdict], fmt: str, *, failed_only: bool = False) -> str:
    shown = [v for v in verdicts if v.verdict in (FAIL, NO_CHECK) and v.applies] \
        if failed_only else verdicts
    if fmt == "json":
        keep = ("id", "level", "source", "applies", "verdict", "seed", "text", "reason",
                "checks", "failed_checks", "detail")
        return json.dumps([{k: asdict(v)[k] for k in keep} for v in shown],
                          ensure_ascii=False, indent=1)
    summary = _summary(verdicts)
    if fmt == "markdown":
        lines = ["## Summary", "", *(f"* {s}" for s in summary), ""]
        for source, group in _sections(shown):
            lines += [f"### {source}", "", "| id | level | verdict | rule |", "|---|---|---|---|"]
            for v in group:
                rule = v.text.replace("|", "\\|")
                if v.verdict == NOT_APPLICABLE and v.reason:
                    rule += f" — *not applicable: {v.reason.replace('|', '/')}*"
                if v.detail:
                    rule += f" — **{v.detail.replace('|', '/')}**"
                lines.append(f"| `{v.id}` | {v.level} | {v.verdict} | {rule} |")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"
    lines = [*summary, ""]
    for source, group in _sections(shown):
        lines.append(source)
        for v in group:
            lines.append(f"  {v.verdict:<14} {v.level:<15} {v.id}")
            lines.append(f"  {'':14} {v.text}")
            if v.verdict == NOT_APPLICABLE and v.reason:
                lines.append(f"  {'':14} not applicable: {v.reason}")
            if v.detail:
                lines.append(f"  {'':14} {v.detail}")
    return "\n".join(lines).rstrip() + "\n"
