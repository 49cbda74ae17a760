"""The embedded registrar: a real RFC 3261 §10.3 UAS for ``sipfsm registrar``, ``sipfsm demo``,
the tests and the simulator -- with scenarios that misbehave on purpose.

* :class:`Registrar` / :class:`RegistrarConfig` -- the sans-IO core (``handle(request)``).
* :class:`Scenario`, :func:`parse_scenario` and the fault classes -- deliberate misbehaviour.
* :class:`RegistrarEndpoint` -- the core as a ``ports.Receiver`` over any ``ports.Transport``.
* :class:`~sipfsm.registrar.server.RegistrarServer` -- asyncio UDP + TCP servers (imported on
  first use, so that importing this package pulls in no socket code).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sipfsm.registrar.core import BindingInfo, Registrar, RegistrarConfig, canonical_aor
from sipfsm.registrar.endpoint import LogEvent, RegistrarEndpoint, RegistrarLog
from sipfsm.registrar.scenario import (
    DropEvery,
    DropRandom,
    Fault,
    IntervalTooBriefLoop,
    OmitContact,
    Redirect,
    Scenario,
    ServerError,
    ServiceUnavailable,
    StaleNonce,
    parse_scenario,
)

if TYPE_CHECKING:
    from sipfsm.registrar.server import RegistrarServer

__all__ = [
    "BindingInfo",
    "DropEvery",
    "DropRandom",
    "Fault",
    "IntervalTooBriefLoop",
    "LogEvent",
    "OmitContact",
    "Redirect",
    "Registrar",
    "RegistrarConfig",
    "RegistrarEndpoint",
    "RegistrarLog",
    "RegistrarServer",
    "Scenario",
    "ServerError",
    "ServiceUnavailable",
    "StaleNonce",
    "canonical_aor",
    "parse_scenario",
]


def __getattr__(name: str) -> Any:
    if name == "RegistrarServer":
        from sipfsm.registrar.server import RegistrarServer

        return RegistrarServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
