"""From observations to registrations: who the client is, which messages belong together.

The client is whoever sends REGISTER requests.  A *registration* is one Call-ID towards one
registrar (the REGISTERs' destination); a *transaction* is one Via branch + CSeq within it (a
retransmission repeats both), with the responses that came back for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sipfsm.audit.model import Observation
from sipfsm.errors import ParseError
from sipfsm.message import Request, Response

__all__ = ["Exchange", "Registration", "Transaction", "group"]

_CSEQ = re.compile(r"^\s*([0-9]{1,20})\s+(\S+)\s*$")


@dataclass(slots=True)
class Transaction:
    request: Request
    sends: list[Observation]
    branch: str | None
    cseq: int
    cseq_method: str
    responses: list[tuple[Observation, Response]] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # values the rules parse once

    @property
    def first(self) -> Observation:
        return self.sends[0]

    @property
    def start(self) -> float | None:
        return self.sends[0].time

    @property
    def transport(self) -> str:
        return self.sends[0].transport

    @property
    def final(self) -> tuple[Observation, Response] | None:
        for observed, response in self.responses:
            if response.status >= 200:
                return observed, response
        return None

    @property
    def status(self) -> int | None:
        final = self.final
        return None if final is None else final[1].status


@dataclass(slots=True)
class Registration:
    client: str
    registrar: str
    call_id: str
    transactions: list[Transaction] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.call_id} -> {self.registrar}"


@dataclass(slots=True)
class Exchange:
    """Everything the rules look at."""

    observations: list[Observation]
    registrations: list[Registration]
    clients: list[str]
    unparseable: list[Observation]
    end: float | None  # time of the last observation (how far the recording reaches)
    branches_reused: list[tuple[Transaction, Transaction]] = field(default_factory=list)
    # (client, registrar) -> its registrations, in order of their first REGISTER
    siblings: dict[tuple[str, str], list[Registration]] = field(default_factory=dict)


_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.I)


def _top_branch(message: Request | Response) -> str | None:
    """The top Via's branch (read from the text: only the first Via value is looked at)."""
    top = message.headers.get("Via")
    if top is None:
        return None
    first = top.split(",", 1)[0]
    match = _BRANCH.search(first)
    return match.group(1) if match else None


def group(observations: list[Observation]) -> Exchange:
    clients: list[str] = []
    registrations: dict[tuple[str, str, str], Registration] = {}
    by_key: dict[tuple[str, str | None, int], Transaction] = {}
    by_branch: dict[tuple[str, str], Transaction] = {}
    reused: list[tuple[Transaction, Transaction]] = []
    unparseable: list[Observation] = []
    pending_responses: list[tuple[Observation, Response]] = []
    for observed in observations:
        message = observed.message
        if message is None:
            if observed.raw.lstrip().upper().startswith(b"REGISTER "):
                unparseable.append(observed)
            continue
        if isinstance(message, Request):
            if message.method != "REGISTER":
                continue
            if observed.source not in clients:
                clients.append(observed.source)
            try:
                call_id = message.call_id
            except ParseError:
                unparseable.append(observed)
                continue
            raw_cseq = _CSEQ.match(message.headers.get("CSeq") or "")
            if raw_cseq is None:  # the parser checked more; the number is all we need here
                unparseable.append(observed)
                continue
            cseq, cseq_method = int(raw_cseq.group(1)), raw_cseq.group(2)
            branch = _top_branch(message)
            rkey = (observed.source, observed.destination, call_id)
            registration = registrations.get(rkey)
            if registration is None:
                registration = registrations[rkey] = Registration(
                    observed.source, observed.destination, call_id
                )
            tkey = (call_id, branch, cseq)
            transaction = by_key.get(tkey)
            if transaction is not None:
                transaction.sends.append(observed)
                continue
            transaction = Transaction(message, [observed], branch, cseq, cseq_method)
            by_key[tkey] = transaction
            registration.transactions.append(transaction)
            if branch is not None:
                earlier = by_branch.get((observed.source, branch))
                if earlier is not None:
                    reused.append((earlier, transaction))
                else:
                    by_branch[(observed.source, branch)] = transaction
        else:
            pending_responses.append((observed, message))
    for observed, response in pending_responses:
        try:
            call_id = response.call_id
        except ParseError:
            continue
        raw_cseq = _CSEQ.match(response.headers.get("CSeq") or "")
        if raw_cseq is None:
            continue
        transaction = by_key.get((call_id, _top_branch(response), int(raw_cseq.group(1))))
        if transaction is not None and observed.destination == transaction.first.source:
            transaction.responses.append((observed, response))
    for registration in registrations.values():
        for transaction in registration.transactions:
            transaction.responses.sort(key=lambda pair: pair[0].number)
    times = [o.time for o in observations if o.time is not None]
    siblings: dict[tuple[str, str], list[Registration]] = {}
    for registration in registrations.values():
        siblings.setdefault((registration.client, registration.registrar), []).append(
            registration)
    return Exchange(
        observations,
        list(registrations.values()),
        clients,
        unparseable,
        max(times) if times else None,
        reused,
        siblings,
    )
