"""Smoke test of the load set-up (benchmarks/load.py): one RegistrationPool -- one UDP socket, one
transaction layer -- keeping 50 digest-authenticated registrations at a real Kamailio, each
refreshed at least once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from sipfsm.app import RegistrationPool
from sipfsm.auth import StaticCredentials
from sipfsm.message import SipUri
from sipfsm.ports import Target
from sipfsm.registration import (
    Failed,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
)
from tests.interop.kamailio_fixture import DEFAULT_REALM, KamailioProcess

pytestmark = pytest.mark.interop

N = 50
RATE = 100.0  # registrations started per second
FAST_REFRESH = RefreshPolicy(margin=1.0, fraction=0.5, jitter=0.0, floor=0.5)  # at 1.5 s of 3


def test_pool_keeps_50_registrations(kamailio_ok: None, tmp_path: Path) -> None:
    with KamailioProcess(tmp_path, min_expires=2, max_expires=3, debug=1) as kam:
        target = Target("UDP", kam.host, kam.udp_port)
        registered: set[str] = set()
        refreshed: set[str] = set()
        problems: Counter[str] = Counter()

        def observe(client: RegistrationClient, event: RegistrationEvent) -> None:
            user = client.config.aor.user or ""
            if isinstance(event, Registered):
                registered.add(user)
            elif isinstance(event, Refreshed):
                refreshed.add(user)
            elif isinstance(event, Failed | Retrying):
                problems[f"{type(event).__name__} {event.reason.value} {event.status}"] += 1

        async def until(condition: Callable[[], object], timeout: float) -> None:
            deadline = time.monotonic() + timeout
            while not condition() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

        async def scenario() -> None:
            async with await RegistrationPool.open(
                observer=observe, local_host="127.0.0.1", resolver=False
            ) as pool:
                for i in range(N):
                    user = f"u{i}"
                    config = RegistrationConfig(
                        aor=SipUri(scheme="sip", user=user, host=DEFAULT_REALM),
                        registrar_target=target,
                        transport="UDP",
                        expires=3,
                        refresh=FAST_REFRESH,
                        keep_last_response=False,
                    )
                    pool.add(
                        config, credentials=StaticCredentials(user, kam.password_for(user))
                    ).register()
                    await asyncio.sleep(1 / RATE)
                assert len(pool) == N
                await until(lambda: len(registered) == N or problems, 10.0)
                assert not problems, problems
                assert len(registered) == N, sorted(set(f"u{i}" for i in range(N)) - registered)
                await until(lambda: len(refreshed) == N or problems, 5.0)
                assert not problems, problems
                assert len(refreshed) == N, f"{len(refreshed)}/{N} refreshed"
                assert all(c.state in ("registered", "refreshing") for c in pool.clients)
                assert not pool.layer.dropped, pool.layer.dropped

        asyncio.run(asyncio.wait_for(scenario(), 20))
