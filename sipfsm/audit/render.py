"""Reports as text, Markdown or JSON lines.  The summary line always comes first."""

from __future__ import annotations

import json

from sipfsm.audit.model import Finding, Report

__all__ = ["FORMATS", "render"]

FORMATS = ("text", "markdown", "json")


def _evidence(f: Finding) -> str:
    parts = []
    for number, time in zip(f.evidence.messages, f.evidence.times, strict=True):
        parts.append(f"#{number}" if time is None else f"#{number}@{time:.3f}")
    return " ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: Report, fmt: str = "text") -> str:
    if fmt == "json":
        summary = {
            "summary": report.summary(),
            "clean": report.clean,
            "messages": report.messages,
            "registrations": list(report.registrations),
            "clients": list(report.clients),
            "findings": len(report.findings),
        }
        lines = [json.dumps(summary, ensure_ascii=False)]
        lines += [json.dumps(f.to_dict(), ensure_ascii=False) for f in report.findings]
        return "\n".join(lines)
    if fmt == "markdown":
        lines = [f"**{report.summary()}**", ""]
        if report.findings:
            lines += [
                "| rule | level | section | verdict | evidence | explanation | registration |",
                "|---|---|---|---|---|---|---|",
            ]
            lines += [
                f"| {f.rule_id} | {f.level} | {_cell(f.section)} | {f.verdict} | "
                f"{_evidence(f)} | {_cell(f.explanation)} | {_cell(f.registration)} |"
                for f in report.findings
            ]
        return "\n".join(lines)
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}")
    lines = [report.summary()]
    for f in report.findings:
        lines.append(f"{f.level:<10} {f.rule_id}  [{_evidence(f)}]  {f.explanation}"
                     f"  ({f.section}; {f.registration})")
    return "\n".join(lines)
