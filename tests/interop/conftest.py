"""Interop tests need real peers.  Without them they skip with the reason, unless
SIPFSM_REQUIRE_INTEROP=1 (set by .ci/run), which turns the skip into a failure."""

from __future__ import annotations

import os

import pytest

from tests.interop.kamailio_fixture import kamailio_available, sipp_available


def need(reason: str | None) -> None:
    if reason is None:
        return
    if os.environ.get("SIPFSM_REQUIRE_INTEROP") == "1":
        pytest.fail(f"interop peer required in CI but unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture
def kamailio_ok() -> None:
    need(kamailio_available())


@pytest.fixture
def sipp_ok() -> None:
    need(sipp_available())
