"""Generated registrars: hypothesis strategies for what a registrar's answers may look like,
each turned into a responder for :class:`~sipfsm.conformance.harness.World`.

They exist to reach every branch of the client's reading of a registrar: our contact anywhere
in a multi-contact 200 (or missing), other UAs' bindings with other expiries, the expiry in a
Contact parameter or in the Expires header, one Contact per line or all on one line, 423s that
never stop, 5xx with a Retry-After shorter or longer than the backoff, and responses with a
foreign branch, Call-ID or sent-by arriving while the transaction is alive.  Public, so that
users' own harnesses can reuse them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from sipfsm.conformance.harness import ScriptedRegistrar, ok_echo, reply
from sipfsm.message import Request, Response

__all__ = [
    "FOREIGN_KINDS",
    "Listing",
    "foreign_then_real",
    "interval_too_brief_forever",
    "listing_responder",
    "listings",
    "server_error_then_ok",
]

# Other UAs' contacts, several of them close to ours (sip:alice@192.0.2.10:5060) but different
# under RFC 3261 §19.1.4: another port, no port (5060 is not implied), another user, a
# transport parameter only one side has.
FOREIGN_URIS = (
    "sip:alice@192.0.2.10:5070",
    "sip:alice@192.0.2.10",
    "sip:bob@192.0.2.10:5060",
    "sip:alice@192.0.2.10:5060;transport=tcp",
    "sip:alice@198.51.100.7:5060",
    "sip:alice@198.51.100.8:5062",
)


@dataclass(frozen=True)
class Listing:
    """How a 200 to a REGISTER with contacts lists the AOR's bindings."""

    ours: int  # seconds granted to each of our contacts
    foreign: tuple[int, ...]  # other UAs' bindings, each with its own expiry
    position: int | None  # where ours stand among the others; None: the 200 omits ours
    in_header: bool  # our expiry given by the Expires header (no param on our Contact)
    one_line: bool  # every Contact value on one header line, comma-separated


@st.composite
def listings(draw: st.DrawFn, *, missing: bool = True) -> Listing:
    ours = draw(st.integers(300, 7200))
    # Other expiries both sides of ours: a client reading the wrong binding refreshes too late
    # (longer) or reports the wrong interval (shorter).
    foreign = tuple(draw(st.lists(
        st.one_of(st.integers(ours + 600, 4 * ours + 600), st.integers(60, max(60, ours // 3))),
        max_size=len(FOREIGN_URIS))))
    positions = st.integers(0, len(foreign))
    position = draw(st.one_of(st.none(), positions) if missing else positions)
    return Listing(ours=ours, foreign=foreign, position=position,
                   in_header=draw(st.booleans()), one_line=draw(st.booleans()))


def listing_responder(listing: Listing) -> Any:
    """A registrar answering every REGISTER with contacts as ``listing`` says (removals and
    queries get a plain echo)."""

    def responder(request: Request, registrar: ScriptedRegistrar) -> Response:
        if request.expires == 0 or request.contact_star or not request.contacts:
            return ok_echo(request)
        rows = [f"<{uri}>;expires={expiry}"
                for uri, expiry in zip(FOREIGN_URIS, listing.foreign, strict=False)]
        if listing.position is not None:
            param = "" if listing.in_header else f";expires={listing.ours}"
            rows[listing.position:listing.position] = [f"<{c.uri}>{param}"
                                                       for c in request.contacts]
        headers = [("Contact", ", ".join(rows))] if listing.one_line and rows else \
            [("Contact", row) for row in rows]
        if listing.in_header:
            headers.append(("Expires", str(listing.ours)))
        return reply(request, 200, headers=headers)

    return responder


def interval_too_brief_forever(step: int, *, limit: int | None = None) -> Any:
    """A registrar answering every REGISTER with an expiry with 423 and a Min-Expires ``step``
    seconds above what was asked: the client must stop on its own.  After ``limit`` 423s (when
    given) it answers nothing more, so that a client that never stops fails its check on the
    count, in bounded time, instead of looping without virtual time passing."""

    def responder(request: Request, registrar: ScriptedRegistrar) -> Response | None:
        if request.expires is None or request.expires == 0:
            return ok_echo(request)
        answered = registrar.state.get("423s", 0)
        if limit is not None and answered >= limit:
            return None
        registrar.state["423s"] = answered + 1
        return reply(request, 423, headers=[("Min-Expires", str(request.expires + step))])

    return responder


def server_error_then_ok(status: int, retry_after: int | None) -> Any:
    """``status`` (with ``Retry-After`` when given) to the first REGISTER transaction, a 200
    to every later one."""
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []

    def responder(request: Request, registrar: ScriptedRegistrar) -> Response:
        first = registrar.state.setdefault("first", request.vias[0].branch)
        if request.vias[0].branch == first:
            return reply(request, status, headers=headers)
        return ok_echo(request)

    return responder


# What a response that is not ours may look like (RFC 3261 §17.1.3, §18.1.2):
FOREIGN_KINDS = (
    "foreign-branch",  # same Call-ID and CSeq, another branch: another transaction's
    "foreign-branch-and-call-id",  # another transaction of another call
    "foreign-sent-by",  # our branch, but a top Via sent-by that is not ours
    "wrong-method",  # our branch, CSeq method not REGISTER
)


def _foreign(response: Response, kind: str) -> Response:
    via = response.vias[0]
    headers = response.headers
    if kind in ("foreign-branch", "foreign-branch-and-call-id"):
        headers = headers.with_replaced("Via", str(via.with_params(branch=f"{via.branch}x1")))
        if kind == "foreign-branch-and-call-id":
            headers = headers.with_replaced("Call-ID", f"other-{response.headers.get('Call-ID')}")
    elif kind == "foreign-sent-by":
        headers = headers.with_replaced("Via", str(dataclasses.replace(via, host="203.0.113.9")))
    elif kind == "wrong-method":
        headers = headers.with_replaced("CSeq", f"{response.cseq.number} OPTIONS")
    return response.with_headers(headers)


def foreign_then_real(kinds: Sequence[tuple[str, int]], real: Any = ok_echo) -> Any:
    """On a transaction's first arrival, answer only with responses that are not its own
    (``(kind, status)`` each); answer its retransmissions with ``real``.  Over UDP the foreign
    responses arrive in Trying, T1 before anything the client may accept."""

    def responder(request: Request, registrar: ScriptedRegistrar) -> Any:
        seen: set[str] = registrar.state.setdefault("seen", set())
        branch = request.vias[0].branch or ""
        if branch not in seen:
            seen.add(branch)
            out = []
            for kind, status in kinds:
                base = ok_echo(request) if status == 200 else reply(request, status)
                out.append(_foreign(base, kind))
            return out
        return real(request, registrar)

    return responder
