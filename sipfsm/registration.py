"""RFC 3261 §10 registration, client side: :class:`RegistrationClient`, a thin driver.

The machine and every decision live in :mod:`sipfsm.core.registration` (the table, and the pure
``step``).  This module wires it to the ports: it turns user commands, final responses
(through :func:`sipfsm.core.classify.classify_response`), timer firings and transport or
resolver outcomes into inputs, runs ``step`` on each -- one at a time, to completion -- and then
executes the outputs: it starts transactions, timers and resolutions and calls the observer.
An output that causes an input (a send failing at once, a resolver answering at once, an
observer giving a command) queues it; it is processed after the current one, never inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, Protocol

from sipfsm.auth import DigestClient
from sipfsm.core.classify import Asked, classify_response, public_address
from sipfsm.core.inputs import (
    BindingExpired,
    Challenge,
    ChallengeAnswered,
    ChallengeRefused,
    Input,
    Query,
    RefreshDue,
    Register,
    Resolved,
    ResolveFailed,
    RetryDue,
    SendFailed,
    Stop,
    Success,
    TargetUnreachable,
    Timeout,
    UnregisterAll,
    UnregisterOwn,
    UpdateContacts,
)
from sipfsm.core.registration import (
    IDLE,
    IN_FLIGHT,
    REGISTRATION_MACHINE,
    STATES,
    SUPPORTED_OPTION_TAGS,
    TRANSITIONS,
    Abandon,
    AnswerChallenge,
    CancelTimer,
    Intent,
    Notify,
    Output,
    RegisterPlan,
    RegisterTemplate,
    RegistrationModel,
    RegistrationState,
    Resolve,
    Send,
    StartTimer,
    assemble_register,
    contact_uri,
    merge_intents,
    register_template,
)
from sipfsm.core.values import (
    KNOWN_STATUS_CODES,
    MAX_CSEQ,
    MAX_FORWARDS,
    BackoffPolicy,
    Binding,
    BindingLapsed,
    BindingsReported,
    ContactMissing,
    ContactSpec,
    Failed,
    FailureReason,
    IntentKind,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    StateChanged,
    Stopped,
    Unregistered,
    read_expires,
    validate_contact,
)
from sipfsm.errors import AuthenticationFailed, DestinationUnreachable, LocalProtocolError
from sipfsm.message import Request, Response, SipUri
from sipfsm.ports import Clock, HostPort, Random, Resolver, Target, TimerHandle, Timers

if TYPE_CHECKING:
    from sipfsm.auth import CredentialStore
    from sipfsm.transaction import NonInviteClientTransaction, TransactionLayer

__all__ = [
    "IDLE",
    "IN_FLIGHT",
    "KNOWN_STATUS_CODES",
    "MAX_CSEQ",
    "MAX_FORWARDS",
    "REGISTRATION_MACHINE",
    "STATES",
    "SUPPORTED_OPTION_TAGS",
    "TRANSITIONS",
    "BackoffPolicy",
    "Binding",
    "BindingLapsed",
    "BindingsReported",
    "ContactMissing",
    "ContactSpec",
    "Failed",
    "FailureReason",
    "Intent",
    "IntentKind",
    "RefreshPolicy",
    "Refreshed",
    "Registered",
    "RegistrationClient",
    "RegistrationConfig",
    "RegistrationEvent",
    "RegistrationObserver",
    "RegistrationState",
    "Retrying",
    "StateChanged",
    "Stopped",
    "Unregistered",
    "merge_intents",
    "read_expires",
    "validate_contact",
]


class RegistrationObserver(Protocol):
    def __call__(self, client: RegistrationClient, event: RegistrationEvent) -> None: ...


# Inputs without fields: one instance each (they are immutable).
_REFRESH_DUE = RefreshDue()
_RETRY_DUE = RetryDue()
_BINDING_EXPIRED = BindingExpired()
_TIMEOUT = Timeout()
_ANSWERED = ChallengeAnswered()
_STOP = Stop()
_REGISTER = Register()  # register() with the current contacts and expiry


def _contact_transport(name: str) -> str | None:
    """The ``transport`` parameter :func:`contact_uri` gives a contact for transport ``name``."""
    lower = name.lower()
    return None if lower == "udp" else lower


# Addresses the registrars saw us at (RFC 3581): every client behind one socket has the same,
# so one value is shared instead of one kept per registration.
_ADDRESSES: dict[HostPort, HostPort] = {}


def _shared_address(address: HostPort) -> HostPort:
    found = _ADDRESSES.get(address)
    if found is None:
        if len(_ADDRESSES) >= 1024:
            _ADDRESSES.clear()
        found = _ADDRESSES[address] = address
    return found


class _Attempt:
    """The owner of one transaction (or one resolution): outcomes of an abandoned attempt are
    dropped, so exactly one outcome per REGISTER reaches the machine."""

    __slots__ = ("asked", "client")

    def __init__(self, client: RegistrationClient, asked: Asked | None) -> None:
        self.client = client
        self.asked = asked

    def on_provisional(self, tx: NonInviteClientTransaction, response: Response) -> None:
        # §8.1.3.2: any 1xx (an unknown one is a 183) changes nothing for a REGISTER.
        return

    def on_final(self, tx: NonInviteClientTransaction, response: Response) -> None:
        client = self.client
        asked = self.asked
        if client._attempt is self and asked is not None:
            client._attempt = None
            self.asked = None  # (the transaction keeps its owner through Timer K)
            client._on_final(response, asked)

    def on_timeout(self, tx: NonInviteClientTransaction) -> None:
        if self.client._attempt is self:
            self.client._attempt = None
            self.client._template = None
            self.client._feed(_TIMEOUT)

    def on_transport_error(self, tx: NonInviteClientTransaction, error: Exception) -> None:
        if self.client._attempt is self:
            self.client._attempt = None
            self.client._template = None
            if isinstance(error, DestinationUnreachable):
                self.client._feed(TargetUnreachable(str(error)))
            else:
                self.client._feed(SendFailed(str(error)))


class RegistrationClient:
    """One registration: an AOR's own contacts at one registrar (RFC 3261 §10.2)."""

    # Slots: a client is long-lived and there may be tens of thousands in one process.
    __slots__ = (
        "_attempt", "_auto_contact_cache", "_busy", "_clock", "_core", "_digest",
        "_expiry_timer", "_inputs", "_layer", "_observer", "_random", "_refresh_timer",
        "_resolver", "_retry_timer", "_template", "_timers", "clock_offset", "config",
        "last_response", "public_address",
    )

    machine = REGISTRATION_MACHINE

    def __init__(
        self,
        config: RegistrationConfig,
        *,
        layer: TransactionLayer,
        timers: Timers,
        clock: Clock,
        random: Random,
        resolver: Resolver | None = None,
        credentials: CredentialStore | None = None,
        digest: DigestClient | None = None,
        observer: Callable[[RegistrationClient, RegistrationEvent], None] | None = None,
    ) -> None:
        self.config = config
        self._layer = layer
        self._timers = timers
        self._clock = clock
        self._random = random
        self._resolver = resolver
        if digest is None and credentials is not None:
            digest = DigestClient(credentials, random)
        self._digest = digest
        self._observer = observer
        # The machine's model, kept across inputs (sipfsm.core.registration.step copies a
        # RegistrationState in and out of one; the driver keeps one and saves the copies).
        self._core = RegistrationModel.initial(config, random, has_resolver=resolver is not None,
                                               has_credentials=digest is not None)
        self._attempt: _Attempt | None = None
        self._busy = False
        self._inputs: list[Input] | None = None  # made when an input arrives mid-step
        self._refresh_timer: TimerHandle | None = None
        self._retry_timer: TimerHandle | None = None
        self._expiry_timer: TimerHandle | None = None
        self.clock_offset: float | None = None  # §10.2.5: registrar Date minus our wall clock
        self.last_response: Response | None = None
        # RFC 3581: our address as the registrar saw it (top Via received / rport).
        self.public_address: HostPort | None = None
        # The last automatic contact (reused while the transport and local address are the
        # same; the URI says both, so no tuple is kept beside it).
        self._auto_contact_cache: SipUri | None = None
        # The rows of the REGISTER in flight (but CSeq and credentials), for the resubmission
        # answering its challenge; dropped at any other final outcome (none kept while idle).
        self._template: RegisterTemplate | None = None

    # ---- public commands ---------------------------------------------------------------

    def register(self, contacts: Sequence[ContactSpec] | None = None,
                 expires: int | None = None) -> None:
        """Add or update our bindings (§10.2.1).  Updating to other contacts registers the new
        set, then removes the dropped ones with their own REGISTER (Expires: 0)."""
        self._check_alive()
        if expires is not None and not 0 < expires <= 2**32 - 1:
            raise LocalProtocolError(f"expires {expires} is outside 1..4294967295")
        new = tuple(contacts) if contacts is not None else None
        if new is not None:
            if not new:
                raise LocalProtocolError("register() needs at least one contact; use query()")
            for spec in new:
                validate_contact(spec, LocalProtocolError)
        self._feed(Register(new, expires) if new is not None or expires is not None
                   else _REGISTER)

    def update_contacts(self, contacts: Sequence[ContactSpec]) -> None:
        self._check_alive()
        new = tuple(contacts)
        if not new:
            raise LocalProtocolError("update_contacts() needs at least one contact")
        for spec in new:
            validate_contact(spec, LocalProtocolError)
        self._feed(UpdateContacts(new))

    def unregister(self) -> None:
        """Remove our own bindings: our contacts with Expires: 0 (§10.2.2)."""
        self._check_alive()
        self._feed(UnregisterOwn())

    def unregister_all(self) -> None:
        """Remove every binding of the AOR: ``Contact: *`` with Expires: 0 (§10.2.2)."""
        self._check_alive()
        self._feed(UnregisterAll())

    def query(self) -> None:
        """Fetch the AOR's bindings: a REGISTER without Contact (§10.2.3)."""
        self._check_alive()
        self._feed(Query())

    def stop(self) -> None:
        """Stop at once: cancel timers, abandon the transaction in flight.  Bindings at the
        registrar stay until they expire (call unregister() first to remove them)."""
        if self._core.state == "stopped":
            return
        self._feed(_STOP)

    def close(self) -> None:
        """Stop (the shared machine keeps no reference to the client)."""
        self.stop()

    # ---- public view --------------------------------------------------------------------

    @property
    def core_state(self) -> RegistrationState:
        """The machine's whole state, a plain value (see :func:`sipfsm.core.registration.step`)."""
        return self._core.freeze()

    @property
    def state(self) -> str:
        return self._core.state

    @property
    def in_flight(self) -> bool:
        return self._core.state in IN_FLIGHT

    @property
    def call_id(self) -> str | None:
        return self._core.call_id

    @property
    def cseq(self) -> int:
        return self._core.cseq

    @property
    def _cseq(self) -> int:
        return self._core.cseq

    @_cseq.setter
    def _cseq(self, value: int) -> None:
        # Tests start the CSeq space high (RFC3261-8.1.1.5-CSEQ-RANGE).
        self._core.cseq = value

    @property
    def requested_expires(self) -> int:
        return self._core.expires

    @property
    def failures(self) -> int:
        return self._core.failures

    @property
    def bound_contacts(self) -> dict[str, int]:
        return {key: granted for key, _, granted in self._core.bound}

    @property
    def pending(self) -> tuple[Intent, ...]:
        return self._core.queue

    @property
    def expires_at(self) -> float | None:
        """Monotonic instant our shortest binding ends (None: no binding of ours)."""
        return self._core.expires_at

    @property
    def service_route(self) -> tuple[str, ...]:
        return self._core.service_route

    @property
    def last_failure(self) -> Failed | None:
        return self._core.last_failure

    @property
    def last_target(self) -> Target | None:
        return self._core.last_target

    @property
    def registrar_uri(self) -> SipUri:
        return self._core.registrar_uri

    def build_request(self, target: Target) -> Request:
        """The REGISTER the current intent would send to ``target`` now (CSeq + 1)."""
        request, _ = self._materialise(self._core.plan(), target)
        return request

    # ---- the driver loop ----------------------------------------------------------------

    def _check_alive(self) -> None:
        if self._core.state == "stopped":
            raise LocalProtocolError("this RegistrationClient has been stopped")

    def _feed(self, input: Input) -> None:
        """Process ``input`` to completion, then its outputs; inputs raised meanwhile wait
        their turn (no re-entrancy: the stack does not grow with what the outputs cause)."""
        if self._busy:
            if self._inputs is None:
                self._inputs = []
            self._inputs.append(input)
            return
        self._busy = True
        try:
            self._run(input)
            queued = self._inputs
            while queued:
                self._run(queued.pop(0))
        finally:
            self._inputs = None  # (an empty list kept is 64 bytes a registration)
            self._busy = False

    def _run(self, input: Input) -> None:
        execute = _EXECUTE
        for output in self._core.advance(input, self._clock.monotonic()):
            execute[type(output)](self, output)

    def _execute(self, output: Output) -> None:
        _EXECUTE[type(output)](self, output)

    def _notify(self, output: Notify) -> None:
        if self._observer is not None:
            self._observer(self, output.event)

    def _abandon(self, output: Abandon) -> None:
        self._attempt = None
        self._template = None

    # ---- outputs --------------------------------------------------------------------------

    def _materialise(self, plan: RegisterPlan, target: Target) -> tuple[Request, Asked]:
        specs = plan.contacts
        uris: tuple[SipUri, ...]
        if len(specs) == 1:  # (the usual case, without a list made and copied)
            uri = specs[0].uri
            uris = (uri if uri is not None else self._auto_contact(target),)
        else:
            uris = tuple([spec.uri if spec.uri is not None else self._auto_contact(target)
                          for spec in specs])
        authorization: list[tuple[str, str]] = []
        if self._digest is not None:
            authorization = self._digest.authorization_headers("REGISTER",
                                                               str(plan.request_uri))
        template = self._template = register_template(plan, self.config, uris, self._template)
        request = assemble_register(plan, template, authorization)
        bound = self._core.bound
        asked = Asked(plan.kind, uris, plan.expires,
                      tuple([uri for _, uri, _ in bound]) if bound else (),
                      self._observer is not None, self.config.instance_id)
        return request, asked

    def _send(self, output: Send) -> None:
        try:
            request, asked = self._materialise(output.plan, output.target)
        except AuthenticationFailed as exc:
            self._feed(ChallengeRefused(None, str(exc)))
            return
        attempt = _Attempt(self, asked)
        self._attempt = attempt
        # RFC 3263 §4: the target is fixed for the transaction's lifetime (retransmissions).
        self._layer.send_request(request, output.target, attempt)

    def _resolve(self, output: Resolve) -> None:
        resolver = self._resolver
        assert resolver is not None  # the core resolves only with a resolver port
        attempt = _Attempt(self, None)
        self._attempt = attempt

        def done(targets: Sequence[Target]) -> None:
            if self._attempt is attempt:
                self._attempt = None
                self._feed(Resolved(tuple(targets)))

        def failed(error: Exception) -> None:
            if self._attempt is attempt:
                self._attempt = None
                self._feed(ResolveFailed(str(error)))

        resolver.resolve(output.host, port=output.port, transport=output.transport,
                         secure=output.secure, on_done=done, on_error=failed)

    def _answer(self, output: AnswerChallenge) -> None:
        assert self._digest is not None  # the core answers only with credentials
        try:
            self._digest.handle_challenge(output.status, list(output.challenges))
        except AuthenticationFailed as exc:
            self._feed(ChallengeRefused(output.status, str(exc)))
            return
        self._feed(_ANSWERED)

    def _on_final(self, response: Response, asked: Asked) -> None:
        if self.config.keep_last_response:
            self.last_response = response
        classified = classify_response(response, asked)
        if not isinstance(classified, Challenge):
            self._template = None  # (only a challenge's answer reuses it)
        public = classified.public if isinstance(classified, Success) else public_address(response)
        if public is not None:
            self.public_address = _shared_address(public)
        if isinstance(classified, Success):
            if self._digest is not None and classified.authentication_info:
                try:
                    self._digest.handle_authentication_info(classified.authentication_info)
                except AuthenticationFailed as exc:
                    # RFC 7616 §3.5: the server did not prove it knows the credentials.
                    self._feed(ChallengeRefused(response.status, str(exc)))
                    return
            if classified.date is not None:
                # §10.2.5: the registrar's idea of the time.
                self.clock_offset = (classified.date.astimezone(UTC).timestamp()
                                     - self._clock.wall())
        self._feed(classified)

    # ---- timers ---------------------------------------------------------------------------

    def _start(self, output: StartTimer) -> None:
        self._start_timer(output.name, output.delay)

    def _cancel(self, output: CancelTimer) -> None:
        self._cancel_timer(output.name)

    def _start_timer(self, name: str, delay: float) -> None:
        self._cancel_timer(name)
        if name == "refresh":
            self._refresh_timer = self._timers.start(name, delay, self._refresh_fired)
        elif name == "retry":
            self._retry_timer = self._timers.start(name, delay, self._retry_fired)
        else:
            self._expiry_timer = self._timers.start(name, delay, self._expiry_fired)

    def _cancel_timer(self, name: str) -> None:
        if name == "refresh":
            handle, self._refresh_timer = self._refresh_timer, None
        elif name == "retry":
            handle, self._retry_timer = self._retry_timer, None
        else:
            handle, self._expiry_timer = self._expiry_timer, None
        if handle is not None:
            handle.cancel()

    def _refresh_fired(self) -> None:
        self._refresh_timer = None
        self._feed(_REFRESH_DUE)

    def _retry_fired(self) -> None:
        self._retry_timer = None
        self._feed(_RETRY_DUE)

    def _expiry_fired(self) -> None:
        self._expiry_timer = None
        self._feed(_BINDING_EXPIRED)

    # ---- contacts -------------------------------------------------------------------------

    def _auto_contact(self, target: Target) -> SipUri:
        transport = self._layer.transport_named(target.transport)
        if transport is None:
            raise LocalProtocolError(f"no {target.transport} transport for {target}")
        # A transport bound to a wildcard address learns the address to advertise per target.
        for_target = getattr(transport, "local_address_for", None)
        local = for_target(target) if callable(for_target) else transport.local_address()
        # The same transport and local address give the same URI: reuse the last one rather
        # than format and parse it again for every REGISTER (a refresh always hits this).
        cached = self._auto_contact_cache
        if (cached is not None and cached.port == local.port and cached.host == local.host
                and cached.transport == _contact_transport(target.transport)):
            return cached
        uri = contact_uri(self.config.aor.user or "", local, target)
        self._auto_contact_cache = uri
        return uri


# What the driver does with each output (one dictionary lookup per output).
_EXECUTE: dict[type, Callable[[RegistrationClient, Any], None]] = {
    Notify: RegistrationClient._notify,
    Send: RegistrationClient._send,
    StartTimer: RegistrationClient._start,
    CancelTimer: RegistrationClient._cancel,
    Resolve: RegistrationClient._resolve,
    AnswerChallenge: RegistrationClient._answer,
    Abandon: RegistrationClient._abandon,
}
