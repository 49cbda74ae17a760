"""The package's public face: ``sipfsm`` exports the sans-IO client, its configuration, its
events and its ports (as h11 exports Connection and its events), each under ``__all__``."""

from __future__ import annotations

import typing

import sipfsm
from sipfsm import ports, registration, transaction


def test_every_name_in_all_is_there_and_sorted() -> None:
    assert sipfsm.__all__ == sorted(sipfsm.__all__)
    for name in sipfsm.__all__:
        assert hasattr(sipfsm, name), name


def test_the_client_its_config_and_its_layer_are_exported() -> None:
    for name in ("RegistrationClient", "RegistrationConfig", "ContactSpec", "RefreshPolicy",
                 "BackoffPolicy", "FailureReason", "Binding"):
        assert getattr(sipfsm, name) is getattr(registration, name)
        assert name in sipfsm.__all__
    for name in ("TransactionLayer", "TimerValues"):
        assert getattr(sipfsm, name) is getattr(transaction, name)
        assert name in sipfsm.__all__


def test_every_registration_event_is_exported() -> None:
    """Every member of the RegistrationEvent union (a new event class included, the day it is
    added) is importable from ``sipfsm``."""
    events = typing.get_args(registration.RegistrationEvent)
    assert len(events) >= 9
    for event in events:
        assert getattr(sipfsm, event.__name__) is event, event.__name__
        assert event.__name__ in sipfsm.__all__


def test_every_port_is_exported() -> None:
    for name in ports.__all__:
        assert getattr(sipfsm, name) is getattr(ports, name), name
        assert name in sipfsm.__all__


def test_the_errors_are_exported() -> None:
    assert issubclass(sipfsm.DestinationUnreachable, sipfsm.TransportError)
    assert "DestinationUnreachable" in sipfsm.__all__
