"""What RFC 5626 (outbound), RFC 5627 (GRUU) and RFC 3327 (Path) add to a REGISTER and read from
its 200 -- pure functions the registration core calls (no I/O, no clock, no randomness).

* :func:`instance_urn` -- a stable ``urn:uuid:`` instance id (RFC 5626 §4.1, RFC 4122 name-based
  UUID from a seed the caller keeps stable, e.g. the AOR and the machine id).
* :func:`contact_parameters` -- ``;+sip.instance="<urn>";reg-id=N`` for our Contact (§4.2).
* :func:`read_extensions` -- pub-gruu / temp-gruu of our contact (RFC 5627 §4.1 via the 200's
  Contact), the Path values (RFC 3327 §5), Flow-Timer and whether the registrar required
  outbound (RFC 5626 §4.2 / §4.4).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sipfsm.errors import ConfigError, ParseError
from sipfsm.message import Contact, Response, SipUri, uri_equal

__all__ = [
    "EXTENSION_OPTION_TAGS",
    "NO_EXTENSIONS",
    "RegistrationExtensions",
    "contact_parameters",
    "instance_urn",
    "read_extensions",
    "validate_instance",
]

# RFC 3261 §8.1.1.9: option tags of the extensions sipfsm implements (tag -> defining RFC).
EXTENSION_OPTION_TAGS: dict[str, str] = {
    "outbound": "RFC 5626",
    "gruu": "RFC 5627",
    "path": "RFC 3327",
}

# A fixed namespace for sipfsm's name-based instance ids (RFC 4122 §4.3): uuid5 of the URL
# namespace and this project's name; only its stability matters.
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sipfsm.invalid/instance-id")
_URN = re.compile(r"^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$", re.IGNORECASE)


def instance_urn(seed: str) -> str:
    """A ``urn:uuid:`` (RFC 4122 version 5) derived from ``seed``: the same seed, the same id
    across restarts (RFC 5626 §4.1: the instance id persists)."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, seed)}"


def validate_instance(value: str) -> str:
    """A user-given instance id: a URN (RFC 2141 shape), or a bare UUID made into one."""
    text = value.strip()
    try:
        return f"urn:uuid:{uuid.UUID(text)}"
    except ValueError:
        pass
    if not _URN.match(text) or any(c in text for c in '<>"'):
        raise ConfigError(f"instance id {value!r} is not a URN (e.g. urn:uuid:<uuid>)")
    return text


def contact_parameters(instance: str | None, reg_id: int | None) -> str:
    """The Contact header parameters for our binding: ``+sip.instance`` (RFC 5626 §4.2 /
    RFC 5627 §4.1, the URN in angle brackets inside a quoted string) and ``reg-id`` (only with an
    instance: RFC 5626 §4.2)."""
    if instance is None:
        if reg_id is not None:
            raise ConfigError("reg-id needs an instance id (+sip.instance)")
        return ""
    text = f';+sip.instance="<{instance}>"'
    if reg_id is not None:
        if not 0 < reg_id < 2**31:
            raise ConfigError(f"reg-id {reg_id} must be a positive integer")
        text += f";reg-id={reg_id}"
    return text


@dataclass(frozen=True, slots=True)
class RegistrationExtensions:
    """What the 200 said about the extensions (``None`` / empty when it said nothing)."""

    pub_gruu: str | None = None
    temp_gruu: str | None = None
    path: tuple[str, ...] = ()
    flow_timer: int | None = None
    outbound: bool = False  # Require: outbound (the registrar/edge support outbound)


NO_EXTENSIONS = RegistrationExtensions()  # a 200 that says nothing about them


def _unquote(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text or None


def _instance_of(contact: Contact) -> str | None:
    raw = _unquote(contact.params.get("+sip.instance"))
    if raw is None:
        return None
    return raw[1:-1] if raw.startswith("<") and raw.endswith(">") else raw


def read_extensions(response: Response, ours: Sequence[SipUri],
                    instance: str | None) -> RegistrationExtensions:
    """Read the 200 to a REGISTER: the GRUUs the registrar gave the binding that is ours (its
    URI among ``ours``, or its ``+sip.instance`` our ``instance``), the Path values in order,
    the Flow-Timer, and whether ``Require`` lists ``outbound``.  A malformed value is ignored
    (the registration itself stands)."""
    pub = temp = None
    contacts: Sequence[Contact] = ()
    headers = response.headers
    # A GRUU is a Contact parameter whose name contains "gruu": without one (and without an
    # instance of ours to look for) the Contacts need not be read here.
    if instance is not None or any("gruu" in line.lower()
                                   for line in headers.get_lines("Contact")):
        try:
            contacts = response.contacts
        except ParseError:
            contacts = ()
    for contact in contacts:
        mine = isinstance(contact.uri, SipUri) and any(uri_equal(contact.uri, u) for u in ours)
        if not mine and (instance is None or _instance_of(contact) != instance):
            continue
        pub = pub or _unquote(contact.params.get("pub-gruu"))
        temp = temp or _unquote(contact.params.get("temp-gruu"))
    path: tuple[str, ...] = ()
    if "Path" in headers:
        try:
            path = tuple(str(p.uri) for p in response.paths)
        except ParseError:
            path = ()
    flow_timer: int | None = None
    raw = headers.get("Flow-Timer")
    if raw is not None and raw.strip().isdigit() and raw.strip().isascii():
        flow_timer = int(raw.strip())
    required: set[str] = set()
    if "Require" in headers:
        try:
            required = {tag.lower() for tag in response.require}
        except ParseError:
            required = set()
    return RegistrationExtensions(pub, temp, path, flow_timer, "outbound" in required)
