"""What the audit reads and what it reports: observed messages in, findings out.

An :class:`Observation` is one SIP message seen on the wire (from any reader); a
:class:`Finding` is one rule a client broke, with the spec record's id, level and section, the
evidence (message numbers and times) and one line of explanation; a :class:`Report` holds them.
Message numbers are 1-based positions in the audited input (several files: in the order read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sipfsm.errors import ParseError
from sipfsm.message import Request, Response

__all__ = [
    "MUST_LEVELS",
    "AuditInputError",
    "Evidence",
    "Finding",
    "Observation",
    "Report",
]

# The levels whose violation makes `sipfsm audit` exit 1.
MUST_LEVELS = ("MUST", "MUST NOT")


class AuditInputError(ParseError):
    """The audit's input cannot be read: not a trace, capture or log it knows, or malformed
    (the CLI exits 3)."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One SIP message as recorded.  ``source``/``destination`` are ``host:port`` when the
    recording knows them, else labels (``local``/``remote`` for SIPp logs, ``client``/``server``
    for plain text).  ``message`` is None when the bytes do not parse (``error`` says why)."""

    number: int
    time: float | None
    transport: str
    source: str
    destination: str
    raw: bytes
    message: Request | Response | None
    error: str | None = None
    where: str = ""
    view: str = ""  # whose recording: the local address of a trace line ("" for captures)


@dataclass(frozen=True, slots=True)
class Evidence:
    messages: tuple[int, ...]
    times: tuple[float | None, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"messages": list(self.messages), "times": list(self.times)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule.  ``verdict`` is ``violated`` (the trace shows the rule broken) or
    ``unparseable`` (a message the client sent could not be read)."""

    rule_id: str
    level: str
    section: str
    verdict: str
    evidence: Evidence
    explanation: str
    registration: str

    @property
    def is_must(self) -> bool:
        return self.level in MUST_LEVELS

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON object (keys in this order)."""
        return {
            "rule_id": self.rule_id,
            "level": self.level,
            "section": self.section,
            "verdict": self.verdict,
            "evidence": self.evidence.to_dict(),
            "explanation": self.explanation,
            "registration": self.registration,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The audit's result.  ``clean``: no finding at all; :attr:`exit_code`: 1 when any MUST or
    MUST NOT is violated, else 0."""

    findings: tuple[Finding, ...]
    messages: int
    registrations: tuple[str, ...]
    clients: tuple[str, ...]
    rules: tuple[str, ...] = ()
    ignored: int = 0
    sources: tuple[str, ...] = field(default=())

    @property
    def clean(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 1 if any(f.is_must for f in self.findings) else 0

    def violations(self, rule_id: str | None = None, level: str | None = None) -> list[Finding]:
        """Findings, optionally only those of one rule and/or one level."""
        return [
            f
            for f in self.findings
            if (rule_id is None or f.rule_id == rule_id) and (level is None or f.level == level)
        ]

    def rule_ids(self) -> set[str]:
        return {f.rule_id for f in self.findings}

    def summary(self) -> str:
        must = sum(1 for f in self.findings if f.is_must)
        verdict = "CLEAN" if self.clean else ("FAIL" if must else "WARN")
        shown = ", ".join(self.clients[:3]) or "none"
        more = len(self.clients) - 3
        clients = shown + (f" and {more} more" if more > 0 else "")
        return (
            f"audit {verdict}: {len(self.findings)} finding(s), {must} MUST-level; "
            f"{self.messages} message(s), {len(self.registrations)} registration(s), "
            f"client(s): {clients}"
        )

    def to_json_lines(self) -> str:
        return "\n".join(json.dumps(f.to_dict(), ensure_ascii=False) for f in self.findings)

    def __str__(self) -> str:
        return self.summary()


def evidence(observations: Iterable[Observation]) -> Evidence:
    seen = sorted({o.number: o for o in observations}.values(), key=lambda o: o.number)
    return Evidence(tuple(o.number for o in seen), tuple(o.time for o in seen))
