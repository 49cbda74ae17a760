"""The embedded registrar's extensions (registrar side, for ``sipfsm demo`` and the tests):

* RFC 5627 GRUU: a REGISTER with ``Supported: gruu`` and a Contact with ``+sip.instance`` gets
  ``pub-gruu`` and ``temp-gruu`` on that Contact in the 200 (§5.4 of the RFC's registrar
  procedures, simplified: the temporary GRUU is derived from the Call-ID and a secret, so a
  retransmitted 200 repeats it).
* RFC 3327 Path: the Path values of a REGISTER that says ``Supported: path`` are returned, in
  order, in the 200 (§5.3); Path without that option tag gets 420 with ``Unsupported: path``.
* RFC 5626 §6 outbound: a REGISTER whose Contacts carry ``reg-id`` and ``+sip.instance`` and that
  says ``Supported: outbound`` gets ``Require: outbound`` in its 200 when the registrar is the
  first hop (one Via) or the first Path URI has ``;ob``; otherwise 439 (First Hop Lacks Outbound
  Support).  ``flow_timer``: a Flow-Timer header in those 200s.

A subclass of :class:`~sipfsm.registrar.Registrar` that post-processes what the core answers;
pass an instance to :meth:`RegistrarServer.start <sipfsm.registrar.server.RegistrarServer.start>`.
"""

from __future__ import annotations

import base64
import hashlib

from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, SipUri
from sipfsm.message.responses import build_response
from sipfsm.message.values import Contact
from sipfsm.ports import Clock, HostPort, Random
from sipfsm.registrar.core import Registrar, RegistrarConfig

__all__ = ["ExtendedRegistrar"]


def _unquote(value: str | None) -> str:
    text = (value or "").strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    return text


class ExtendedRegistrar(Registrar):
    """A :class:`Registrar` that also speaks GRUU, Path and outbound (see the module doc)."""

    def __init__(
        self,
        config: RegistrarConfig,
        clock: Clock,
        random: Random,
        *,
        gruu: bool = True,
        path: bool = True,
        outbound: bool = True,
        flow_timer: int | None = None,
    ) -> None:
        super().__init__(config, clock, random)
        self.gruu = gruu
        self.path = path
        self.outbound = outbound
        self.flow_timer = flow_timer
        self._secret = random.token(128)

    def handle(
        self,
        request: Request,
        source: HostPort,
        transport_name: str,
        local: HostPort | None = None,
    ) -> list[Response]:
        refusal = self._refusal(request, source) if request.method == "REGISTER" else None
        if refusal is not None:
            return [refusal]
        responses = super().handle(request, source, transport_name, local)
        if request.method != "REGISTER":
            return responses
        return [self._extend(request, r) if r.status == 200 else r for r in responses]

    # -- internals ------------------------------------------------------------------------------

    def _refusal(self, request: Request, source: HostPort) -> Response | None:
        try:
            supported = {tag.lower() for tag in request.supported}
            paths = request.paths
            contacts = [] if request.contact_star else request.contacts
            vias = request.vias
        except ParseError:
            return None  # the core answers 400
        if paths and self.path and "path" not in supported:
            # RFC 3327 §5.3: the UA did not say it supports Path.
            return self._plain(request, source, 420, [("Unsupported", "path")])
        wants_outbound = any("reg-id" in c.params and "+sip.instance" in c.params
                             for c in contacts)
        if self.outbound and wants_outbound and "outbound" in supported:
            first_hop_ok = len(vias) == 1 or (
                bool(paths) and isinstance(paths[0].uri, SipUri)
                and "ob" in paths[0].uri.params)
            if not first_hop_ok:
                return self._plain(request, source, 439, [],
                                   reason="First Hop Lacks Outbound Support")
        return None

    def _plain(self, request: Request, source: HostPort, status: int,
               extra: list[tuple[str, str]], *, reason: str | None = None) -> Response:
        return build_response(request, status, reason, to_tag=self._random.token(48),
                              headers=extra, received=source)

    def _extend(self, request: Request, response: Response) -> Response:
        try:
            supported = {tag.lower() for tag in request.supported}
            contacts = response.contacts
            paths = request.headers.get_all("Path") if "Path" in request.headers else []
            sent = [] if request.contact_star else request.contacts
            to_uri = request.to.uri
        except ParseError:
            return response
        headers = response.headers
        if self.gruu and "gruu" in supported and isinstance(to_uri, SipUri):
            aor = SipUri(scheme="sip", user=to_uri.user, host=to_uri.host, port=to_uri.port)
            extended = [self._with_gruu(c, aor, request.call_id) for c in contacts]
            if extended != contacts:
                headers = headers.without("Contact")
                for contact in extended:
                    headers = headers.with_added("Contact", str(contact))
        if self.path and paths and "path" in supported:
            for value in paths:  # §5.3: in the order received
                headers = headers.with_added("Path", value)
        outbound = any("reg-id" in c.params and "+sip.instance" in c.params for c in sent)
        if self.outbound and outbound and "outbound" in supported:
            headers = headers.with_added("Require", "outbound")
            if self.flow_timer is not None:
                headers = headers.with_added("Flow-Timer", str(self.flow_timer))
        return response.with_headers(headers) if headers is not response.headers else response

    def _with_gruu(self, contact: Contact, aor: SipUri, call_id: str) -> Contact:
        instance = _unquote(contact.params.get("+sip.instance"))
        if not instance.startswith("<") or not instance.endswith(">"):
            return contact
        urn = instance[1:-1]
        public = f"{aor};gr={urn}"
        digest = hashlib.sha256(f"{self._secret}|{aor}|{urn}|{call_id}".encode()).digest()
        token = base64.b32encode(digest[:15]).decode("ascii").lower()
        host = f"[{aor.host}]" if ":" in aor.host else aor.host
        temporary = f"sip:tgruu.{token}@{host};gr"
        return contact.with_params(
            **{"pub-gruu": f'"{public}"', "temp-gruu": f'"{temporary}"'})
