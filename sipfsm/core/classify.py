"""One final response (plus what the client asked) -> one input of the registration machine.

Pure: reads the response, never the client.  Every branch cites the rule it serves; the
machine's table then decides what the input means in each state.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass

from sipfsm.core.inputs import (
    Challenge,
    IntervalTooBrief,
    Malformed,
    Redirect,
    Rejected,
    RetryLater,
    Success,
)
from sipfsm.core.values import (
    KNOWN_STATUS_CODES,
    Binding,
    IntentKind,
    quick_init,
    read_expires,
)
from sipfsm.errors import ParseError
from sipfsm.message import Contact, Headers, Params, Response, SipUri, Uri
from sipfsm.message import uri_equal as _uri_equal
from sipfsm.outbound.registration import NO_EXTENSIONS, read_extensions
from sipfsm.ports import HostPort

__all__ = ["TRANSIENT_STATUS", "Asked", "Classified", "classify_response",
           "effective_status", "public_address"]

# §8.1.3 (and §21.4.9, §21.5.1, §21.5.4): outcomes after which the request may succeed
# elsewhere or later.
TRANSIENT_STATUS = frozenset({408, 500, 503})


@quick_init
@dataclass(frozen=True, slots=True)
class Asked:
    """What the REGISTER that this response answers asked for."""

    kind: IntentKind
    contacts: tuple[SipUri, ...] = ()  # the Contact URIs it carried
    expires: int | None = None  # its Expires header
    mine: tuple[SipUri, ...] = ()  # our other contacts (bindings we hold), for Binding.ours
    bindings: bool = True  # report every binding (skipped when nobody listens)
    instance: str | None = None  # our +sip.instance (RFC 5627 §4.1: finds our GRUUs)


Classified = Success | Challenge | IntervalTooBrief | Redirect | RetryLater | Rejected | Malformed


def uri_equal(a: Uri, b: Uri) -> bool:
    """§19.1.4 equality, the common case first: a registrar usually echoes our Contact as we
    wrote it, and URIs equal component by component are §19.1.4-equal (the rule is reflexive).
    Anything else takes the full rule."""
    return a == b or _uri_equal(a, b)


def effective_status(status: int) -> int:
    """§8.1.3.2: an unrecognised final response is treated as the x00 of its class."""
    return status if status in KNOWN_STATUS_CODES else (status // 100) * 100


def classify_response(response: Response, asked: Asked) -> Classified:
    """The input a final response is for the machine.  A response whose headers the rule needs
    cannot be read is :class:`Malformed` (§8.1.3: handled as a server failure)."""
    status = response.status
    effective = effective_status(status)
    try:
        if 200 <= effective < 300:
            return _usual_success(response, asked) or _success(response, asked)
        if effective in (401, 407):
            # §22.2 / §8.1.3.5: the challenge is in WWW-Authenticate (401) or
            # Proxy-Authenticate (407).
            values = (response.www_authenticate if effective == 401
                      else response.proxy_authenticate)
            return Challenge(status, tuple(values))
        if effective == 423:
            return IntervalTooBrief(status, _min_expires(response))
        if 300 <= effective < 400:
            return Redirect(status, response.reason, _redirect_targets(response))
        if effective in TRANSIENT_STATUS:
            return RetryLater(status, response.reason, _retry_after(response))
        return Rejected(status, response.reason)
    except ParseError as exc:
        return Malformed(status, f"malformed {status}: {exc}")


def _min_expires(response: Response) -> int | None:
    try:
        return response.min_expires
    except ParseError:
        return None


def _retry_after(response: Response) -> int | None:
    try:
        value = response.retry_after
    except ParseError:
        return None  # §20.33 unreadable: as if absent
    return value.seconds if value is not None else None


def _redirect_targets(response: Response) -> tuple[SipUri, ...]:
    """§8.1.3.4: each Contact in decreasing q (equal q: in order); a REGISTER's Request-URI
    carries no user part (§10.2), so such Contacts are unusable; the method parameter and
    headers are dropped."""
    ranked = sorted(enumerate(response.contacts),
                    key=lambda ic: (-(ic[1].q if ic[1].q is not None else 1.0), ic[0]))
    out: list[SipUri] = []
    for _, contact in ranked:
        uri = contact.uri
        if not isinstance(uri, SipUri) or uri.scheme != "sip" or uri.user or uri.password:
            continue
        target = SipUri(scheme="sip", host=uri.host, port=uri.port,
                        params=Params((k, v) for k, v in uri.params.items() if k != "method"))
        if not any(uri_equal(target, seen) for seen in out):
            out.append(target)
    return tuple(out)


# What _success looks for besides the Contact rows: when a 200 has none of these (nor several
# rows of a name), it is read the short way (see _usual_success).
_RARELY_IN_A_200 = frozenset({"Expires", "Date", "Service-Route", "Authentication-Info", "Path",
                              "Flow-Timer", "Require"})
_REGISTER_KIND = IntentKind.REGISTER


def _usual_success(response: Response, asked: Asked) -> Success | None:
    """The usual 200 to a REGISTER of one contact, read the short way: one row of each name,
    none of the names only some 200s carry, and a Contact row that is our contact exactly as we
    wrote it with its expires parameter (no GRUU there).  What :func:`_success` gives for it
    (tests/core/test_fast_paths.py checks the two agree); None for any other 2xx."""
    headers = response.headers
    first = headers._first
    if (first is None or headers._multi is not None or asked.kind is not _REGISTER_KIND
            or asked.instance is not None or not _RARELY_IN_A_200.isdisjoint(first)):
        return None
    row = first.get("Contact")
    if row is None:
        return None
    row = row.strip(" \t")
    expiry = _as_we_wrote_it([row], asked)
    if expiry is None or expiry <= 0 or "gruu" in row.lower():
        return None
    contacts = asked.contacts
    ours = contacts[0]
    return Success(
        response.status, contacts, ((ours, expiry),), (),
        (Binding(str(ours), expiry, None, True),) if asked.bindings else (),
        (), None, None, public_address(response), NO_EXTENSIONS)


def _present(headers: Headers) -> Container[str]:
    """What ``name in headers`` answers, for the known names in canonical spelling that
    :func:`_success` asks about: the parser's table of each name's first row when it made one
    (a known name is a key of it exactly when the message has a row of it), else the headers."""
    first = headers._first
    return first if first is not None else headers


def _contact_rows(headers: Headers) -> list[str]:
    """``headers.get_lines("Contact")``: from the parser's table when no name has several rows
    (then its row is the only one)."""
    first = headers._first
    if first is not None and headers._multi is None:
        row = first.get("Contact")
        return [] if row is None else [row.strip(" \t")]
    return headers.get_lines("Contact")


def _success(response: Response, asked: Asked) -> Success:
    headers = response.headers
    present = _present(headers)
    rows = _contact_rows(headers)
    # The headers most 200s leave out (Expires, Date, Service-Route, Authentication-Info, the
    # extensions') are looked up by name, without walking every row.
    quick = _as_we_wrote_it(rows, asked)
    if quick is None:
        contacts = response.contacts  # a malformed Contact makes the 2xx malformed
        header = read_expires(headers.get("Expires")) if "Expires" in present else None
        expiries = [_granted_expiry(contacts, ours, header, asked.expires)
                    for ours in asked.contacts]
        bindings = _bindings(contacts, header, asked) if asked.bindings else ()
    else:
        # The usual 200: our one contact, as we wrote it, with its expires parameter.
        expiries = [quick]
        bindings = ((Binding(str(asked.contacts[0]), quick, None, True),) if asked.bindings
                    else ())
    granted: list[tuple[SipUri, int]] = []
    missing: list[str] = []
    if asked.kind is _REGISTER_KIND:
        for ours, expiry in zip(asked.contacts, expiries, strict=True):
            if expiry is None or expiry <= 0:
                missing.append(str(ours))
            else:
                granted.append((ours, expiry))
    date = None
    if "Date" in present:
        try:
            date = response.date
        except ParseError:
            date = None  # §10.2.5 is informative: an unreadable Date is ignored
    return Success(
        response.status,
        asked.contacts,
        tuple(granted),
        tuple(missing),
        bindings,
        (tuple(str(r) for r in response.service_routes) if "Service-Route" in present
         else ()),
        date,
        response.authentication_info if "Authentication-Info" in present else None,
        public_address(response),
        (read_extensions(response, asked.contacts, asked.instance)
         if _may_have_extensions(present, rows, asked.instance) else NO_EXTENSIONS),
    )


def _as_we_wrote_it(rows: list[str], asked: Asked) -> int | None:
    """The expiry of our one contact when the 200's only Contact row (``rows``) is that contact
    exactly as the REGISTER wrote it with an expires parameter (``<URI>;expires=N``, what
    registrars usually answer): what the general reading gives, without parsing the row -- the
    URI is ours by being ours character for character (§19.1.4 is reflexive), and N is read as
    :func:`read_expires` reads it.  None for any other shape: the general reading decides."""
    if len(asked.contacts) != 1 or len(rows) != 1:
        return None
    row = rows[0]
    ours = str(asked.contacts[0])
    end = len(ours) + 1
    if not (row.startswith("<") and row.startswith(ours, 1)
            and row.startswith(">;expires=", end)):
        return None
    digits = row[end + 10:]
    if not digits.isdigit() or not digits.isascii():
        return None
    return read_expires(digits)


def _may_have_extensions(present: Container[str], contact_rows: list[str],
                         instance: str | None) -> bool:
    """False when read_extensions would find nothing: none of its headers (Path, Flow-Timer,
    Require), and no Contact that could carry a GRUU (RFC 5627: a parameter whose name contains
    "gruu"; found by our +sip.instance only when we sent one)."""
    if instance is not None or "Path" in present or "Flow-Timer" in present or (
            "Require" in present):
        return True
    return any("gruu" in line.lower() for line in contact_rows)


def public_address(response: Response) -> HostPort | None:
    """RFC 3581 §4 / §18.2.1: our address as the registrar saw it, from the top Via's
    received / rport (None when it says neither, or cannot be read)."""
    try:
        vias = response.vias
    except ParseError:
        return None
    if not vias:
        return None
    top = vias[0]
    received, rport = top.received, top.rport
    if received is None and rport is None:
        return None
    return HostPort(received or top.sent_by.host, rport or top.sent_by.port or 5060)


def _granted_expiry(contacts: Sequence[Contact], ours: SipUri, header: int | None,
                    asked: int | None) -> int | None:
    """§10.2.1.1 / §10.2.4: our contact's expires parameter in the 200 (found by §19.1.4
    equality wherever it is in the list), else the Expires header, else what we asked for.
    None when the 200 does not list our contact."""
    for contact in contacts:
        if isinstance(contact.uri, SipUri) and uri_equal(contact.uri, ours):
            param = read_expires(contact.params.get("expires"))
            if param is not None:
                return param
            return header if header is not None else asked
    return None


def _bindings(contacts: Sequence[Contact], header: int | None,
              asked: Asked) -> tuple[Binding, ...]:
    mine = (*asked.contacts, *asked.mine)
    out = []
    for contact in contacts:
        uri = contact.uri
        ours = False
        if isinstance(uri, SipUri):
            for m in mine:
                if uri_equal(uri, m):
                    ours = True
                    break
        param = read_expires(contact.params.get("expires"))
        expires = param if param is not None else header
        try:
            q = contact.q
        except (ParseError, ValueError):
            q = None
        out.append(Binding(str(uri), expires, q, ours))
    return tuple(out)
