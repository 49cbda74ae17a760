"""The checklist as data: load and validate the ``spec/`` records.

Each record is one normative statement of an RFC (a MUST, SHOULD, MAY ...), with the user's seed
line where the seed has one and how sipfsm meets it.  Records live in ``spec/*.toml`` (in a source
checkout) and ship inside the wheel as ``sipfsm/_spec``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sipfsm.errors import ConfigError

__all__ = [
    "AUDIT_KINDS",
    "LEVELS",
    "ROLES",
    "Requirement",
    "Spec",
    "SpecError",
    "load_spec",
    "spec_dir",
]

LEVELS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY", "RECOMMENDED", "NOT RECOMMENDED")
ROLES = ("uac", "registrar", "both")
ID_PATTERN = re.compile(r"^RFC\d+-[0-9A-Z]+(\.[0-9A-Z]+)*-[A-Z0-9]+(-[A-Z0-9]+)*$")
_REQUIRED = ("id", "source", "level", "role", "applies", "text", "decision")
_OPTIONAL = ("reason", "seed", "quote", "audit")
# `audit`: whether `sipfsm audit` can judge the rule from a recorded trace, and how --
# "message: <how>" (one message, with the challenge it answers), "sequence: <how>" (the exchange)
# or "no: <why>".  Absent means not judged from a trace.
AUDIT_KINDS = ("message", "sequence", "no")
_AUDIT_PATTERN = re.compile(r"^(message|sequence|no)(: \S.*)?$")


class SpecError(ConfigError):
    """A spec record is malformed (names the file and the record)."""


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    source: str
    level: str
    role: str
    applies: bool
    text: str
    decision: str
    reason: str | None = None
    seed: str | None = None
    quote: str | None = None
    file: str = ""
    audit: str | None = None

    @property
    def audit_kind(self) -> str:
        """``message``, ``sequence`` or ``no`` (also when the record has no ``audit`` key)."""
        if self.audit is None:
            return "no"
        return self.audit.partition(":")[0]

    @property
    def audit_how(self) -> str:
        """The short "how" (or "why not") of the ``audit`` key; empty when there is none."""
        if self.audit is None:
            return ""
        return self.audit.partition(":")[2].strip()

    @property
    def normative(self) -> bool:
        """MUST / MUST NOT / SHOULD / SHOULD NOT: the levels that need a check when applicable."""
        return self.level in ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT")


class Spec(Mapping[str, Requirement]):
    def __init__(self, records: Iterable[Requirement]) -> None:
        self._by_id: dict[str, Requirement] = {}
        for record in records:
            if record.id in self._by_id:
                raise SpecError(
                    f"duplicate requirement id {record.id!r} "
                    f"({self._by_id[record.id].file} and {record.file})"
                )
            self._by_id[record.id] = record

    def __getitem__(self, key: str) -> Requirement:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def applicable(self) -> list[Requirement]:
        return [r for r in self._by_id.values() if r.applies]


def spec_dir() -> Path:
    """``spec/`` of a source checkout when present, else the copy inside the installed wheel."""
    checkout = Path(__file__).resolve().parent.parent / "spec"
    if checkout.is_dir() and any(checkout.glob("*.toml")):
        return checkout
    packaged = resources.files("sipfsm") / "_spec"
    return Path(str(packaged))


def _record(raw: Mapping[str, Any], file: str, index: int) -> Requirement:
    where = f"{file} record {index + 1}"
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: not a table")
    rid = raw.get("id")
    if isinstance(rid, str):
        where = f"{file} {rid}"
    unknown = set(raw) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise SpecError(f"{where}: unknown keys {sorted(unknown)}")
    for key in _REQUIRED:
        if key not in raw:
            raise SpecError(f"{where}: missing {key!r}")
    for key in (*_REQUIRED, *_OPTIONAL):
        if key == "applies" or key not in raw:
            continue
        if not isinstance(raw[key], str):
            raise SpecError(f"{where}: {key!r} must be a string")
    if not ID_PATTERN.match(raw["id"]):
        raise SpecError(f"{where}: id does not match {ID_PATTERN.pattern}")
    if raw["level"] not in LEVELS:
        raise SpecError(f"{where}: level {raw['level']!r} not one of {LEVELS}")
    if raw["role"] not in ROLES:
        raise SpecError(f"{where}: role {raw['role']!r} not one of {ROLES}")
    if not isinstance(raw["applies"], bool):
        raise SpecError(f"{where}: 'applies' must be true or false")
    reason = raw.get("reason") or None
    if not raw["applies"] and not reason:
        raise SpecError(f"{where}: a record that does not apply needs a 'reason'")
    if not raw["text"].strip():
        raise SpecError(f"{where}: empty 'text'")
    audit = raw.get("audit")
    if audit is not None and not _AUDIT_PATTERN.match(audit):
        raise SpecError(
            f"{where}: 'audit' must be 'message: HOW', 'sequence: HOW' or 'no: WHY', not {audit!r}"
        )
    return Requirement(
        id=raw["id"],
        source=raw["source"],
        level=raw["level"],
        role=raw["role"],
        applies=raw["applies"],
        text=raw["text"],
        decision=raw["decision"],
        reason=reason,
        seed=raw.get("seed") or None,
        quote=raw.get("quote") or None,
        file=file,
        audit=audit,
    )


def load_spec(directory: Path | None = None) -> Spec:
    """Load and validate every ``*.toml`` under ``directory`` (default: :func:`spec_dir`)."""
    directory = directory or spec_dir()
    records: list[Requirement] = []
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise SpecError(f"no spec records found under {directory}")
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SpecError(f"{path.name}: {exc}") from None
        raw_records = data.get("requirement", [])
        if not isinstance(raw_records, list):
            raise SpecError(f"{path.name}: 'requirement' must be an array of tables")
        records.extend(_record(raw, path.name, i) for i, raw in enumerate(raw_records))
    return Spec(records)
