"""RFC 5626 outbound on the client, sans-IO: the STUN codec (:mod:`sipfsm.outbound.stun`) and
the flow / keep-alive machine (:mod:`sipfsm.outbound.flow`).  The asyncio driver is
:mod:`sipfsm.aio.outbound`."""

from sipfsm.outbound.flow import (
    FLOW_TRANSITIONS,
    FlowInfo,
    FlowSet,
    FlowSettings,
    FlowState,
    FlowStateChanged,
    KeepAliveKind,
    Register,
    SendKeepAlive,
    backoff_wait,
    keepalive_interval,
)
from sipfsm.outbound.stun import StunMessage, binding_request, binding_success, decode_stun

__all__ = [
    "FLOW_TRANSITIONS",
    "FlowInfo",
    "FlowSet",
    "FlowSettings",
    "FlowState",
    "FlowStateChanged",
    "KeepAliveKind",
    "Register",
    "SendKeepAlive",
    "StunMessage",
    "backoff_wait",
    "binding_request",
    "binding_success",
    "decode_stun",
    "keepalive_interval",
]
