"""Shared helpers for the registrar tests.  They live in the package (the conformance checks use
them too): sipfsm.conformance.registrar_support."""

from __future__ import annotations

from sipfsm.conformance.registrar_support import (
    AOR,
    AUTH,
    DOMAIN,
    SOURCE,
    DatagramQueue,
    ManualClock,
    RecordingTransport,
    authenticated,
    authorization,
    challenge_params,
    contact_expiries,
    endpoint,
    expected_rspauth,
    handle,
    listed,
    make_registrar,
    next_response,
    register,
    sent_responses,
    sip,
    udp_client,
)

__all__ = [
    "AOR",
    "AUTH",
    "DOMAIN",
    "SOURCE",
    "DatagramQueue",
    "ManualClock",
    "RecordingTransport",
    "authenticated",
    "authorization",
    "challenge_params",
    "contact_expiries",
    "endpoint",
    "expected_rspauth",
    "handle",
    "listed",
    "make_registrar",
    "next_response",
    "register",
    "sent_responses",
    "sip",
    "udp_client",
]
