"""Run every conformance check and render the checklist (text, markdown or JSON)."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from sipfsm.conformance.registry import Check, all_checks
from sipfsm.spec import Spec, load_spec

__all__ = ["Verdict", "exit_code", "render", "run"]

PASS, FAIL, NOT_APPLICABLE, NO_CHECK = "pass", "fail", "not-applicable", "no-check"


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


def _hypothesis_profile(examples: int) -> None:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "sipfsm-conformance",
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    settings.load_profile("sipfsm-conformance")


def _run_check(chk: Check) -> str | None:
    """None on success, else a one-paragraph failure description."""
    try:
        chk.func()
    except Exception as exc:  # a check fails by raising anything at all
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return f"{chk.name}: {last}"
    return None


def run(spec: Spec | None = None, *, examples: int = 25,
        checks: Iterable[Check] | None = None) -> list[Verdict]:
    spec = spec or load_spec()
    _hypothesis_profile(examples)
    by_requirement: dict[str, list[Check]] = {}
    for chk in checks if checks is not None else all_checks():
        for rid in chk.requirements:
            by_requirement.setdefault(rid, []).append(chk)
    outcomes: dict[str, str | None] = {}
    verdicts: list[Verdict] = []
    for record in spec.values():
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
                    outcomes[chk.name] = _run_check(chk)
                if outcomes[chk.name] is not None:
                    failures.append(outcomes[chk.name] or "")
            v.verdict = FAIL if failures else PASS
            v.detail = "; ".join(failures) or None
        verdicts.append(v)
    return verdicts


def exit_code(verdicts: Iterable[Verdict]) -> int:
    """Non-zero when an applicable MUST / MUST NOT fails or has no check."""
    for v in verdicts:
        if v.applies and v.level in ("MUST", "MUST NOT") and v.verdict in (FAIL, NO_CHECK):
            return 1
    return 0


def render(verdicts: list[Verdict], fmt: str) -> str:
    if fmt == "json":
        keep = ("id", "level", "source", "applies", "verdict", "seed", "text", "reason",
                "checks", "detail")
        return json.dumps([{k: asdict(v)[k] for k in keep} for v in verdicts],
                          ensure_ascii=False, indent=1)
    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    if fmt == "markdown":
        lines = ["| id | level | section | verdict | seed |", "|---|---|---|---|---|"]
        for v in verdicts:
            seed = (v.seed or "").replace("|", "\\|")
            lines.append(f"| `{v.id}` | {v.level} | {v.source} | {v.verdict} | {seed} |")
        lines += ["", f"**{len(verdicts)} records:** {summary}"]
        return "\n".join(lines)
    width = max((len(v.id) for v in verdicts), default=10)
    lines = []
    for v in verdicts:
        line = f"{v.verdict:<14} {v.level:<11} {v.id:<{width}}  {v.source}"
        if v.seed:
            line += f"  seed: {v.seed[:60]}"
        lines.append(line)
        if v.detail:
            lines.append(f"{'':14} {v.detail}")
    lines.append(f"{len(verdicts)} records: {summary}")
    return "\n".join(lines)
