"""What each final response means for the client: the model's own reading, replayed.

When the registration core is present (``sipfsm.core.classify.classify_response``, the pure
function the client itself runs on every final response), the audit classifies each observed
final response with it -- the REGISTER it answers supplies the ``Asked`` -- so the sequence rules
judge another client by exactly the reading sipfsm's table acts on: a challenge, a 423 with its
Min-Expires, a retry-later with its Retry-After, a success with the expiry granted to each of the
client's own contacts (§19.1.4 equality).  Without the core (older installs) a local reading by
status code stands in, with the same results for the rules that use it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sipfsm.audit.exchange import Transaction
from sipfsm.errors import ParseError
from sipfsm.message import Contact, Request, Response, SipUri, Uri

__all__ = ["Outcome", "core_available", "outcome"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """``kind``: success | challenge | too-brief | redirect | retry-later | rejected |
    malformed.  ``granted``: (contact URI, seconds) for the client's contacts the 2xx lists;
    None when not known."""

    kind: str
    status: int
    min_expires: int | None = None
    retry_after: int | None = None
    granted: tuple[tuple[Uri, int], ...] | None = None
    by_core: bool = False


@lru_cache(maxsize=1)
def _core() -> tuple[Any, Any] | None:
    try:
        classify = importlib.import_module("sipfsm.core.classify")
        values = importlib.import_module("sipfsm.core.values")
        classify.classify_response  # noqa: B018 - the name must exist
        classify.Asked  # noqa: B018
        values.IntentKind  # noqa: B018
    except (ImportError, AttributeError):
        return None
    return classify, values


def core_available() -> bool:
    return _core() is not None


def _contacts(request: Request) -> list[Contact]:
    try:
        return request.contacts
    except ParseError:
        return []


def _by_core(core: tuple[Any, Any], request: Request, response: Response) -> Outcome | None:
    classify, values = core
    contacts = _contacts(request)
    try:
        expires = request.expires
        star = request.contact_star
    except ParseError:
        expires, star = None, False
    uris = tuple(c.uri for c in contacts if isinstance(c.uri, SipUri))
    zero = all((c.expires if "expires" in c.params else expires) == 0 for c in contacts)
    kind = values.IntentKind
    intent = (kind.QUERY if not contacts and not star
              else kind.UNREGISTER if star or zero else kind.REGISTER)
    try:
        result = classify.classify_response(
            response, classify.Asked(kind=intent, contacts=uris, expires=expires, mine=uris))
    except (ParseError, TypeError, ValueError):
        return None
    name = type(result).__name__
    status = response.status
    if name == "Success":
        granted = tuple(getattr(result, "granted", ()) or ())
        return Outcome("success", status, granted=granted, by_core=True)
    if name == "Challenge":
        return Outcome("challenge", status, by_core=True)
    if name == "IntervalTooBrief":
        return Outcome("too-brief", status, min_expires=result.min_expires, by_core=True)
    if name == "RetryLater":
        return Outcome("retry-later", status, retry_after=result.retry_after, by_core=True)
    if name == "Redirect":
        return Outcome("redirect", status, by_core=True)
    if name == "Malformed":
        return Outcome("malformed", status, by_core=True)
    return Outcome("rejected", status, by_core=True)


def _by_status(request: Request, response: Response) -> Outcome:
    status = response.status
    effective = status if status in (401, 407, 423, 408, 500, 503) else status // 100 * 100
    try:
        if 200 <= status < 300:
            granted: list[tuple[Uri, int]] = []
            listed = response.contacts
            for mine in _contacts(request):
                for contact in listed:
                    if _equal(contact.uri, mine.uri):
                        expiry = contact.expires if "expires" in contact.params else (
                            response.expires)
                        if expiry is not None:
                            granted.append((mine.uri, expiry))
                        break
            return Outcome("success", status, granted=tuple(granted))
        if effective in (401, 407):
            return Outcome("challenge", status)
        if effective == 423:
            return Outcome("too-brief", status, min_expires=response.min_expires)
        if 300 <= status < 400:
            return Outcome("redirect", status)
        if effective in (408, 500, 503):
            after = response.retry_after
            return Outcome("retry-later", status,
                           retry_after=None if after is None else after.seconds)
    except ParseError:
        return Outcome("malformed", status)
    return Outcome("rejected", status)


def _equal(a: Uri, b: Uri) -> bool:
    from sipfsm.message import uri_equal

    return uri_equal(a, b)


def outcome(t: Transaction) -> Outcome | None:
    """How the model reads ``t``'s final response (None: no final response seen)."""
    if "outcome" in t.cache:
        cached: Outcome | None = t.cache["outcome"]
        return cached
    final = t.final
    result: Outcome | None = None
    if final is not None:
        core = _core()
        if core is not None:
            result = _by_core(core, t.request, final[1])
        if result is None:
            result = _by_status(t.request, final[1])
    t.cache["outcome"] = result
    return result
