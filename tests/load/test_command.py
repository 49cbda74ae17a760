"""``sipfsm load`` end to end against the embedded registrar (a few seconds each)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sipfsm.cli import main
from tests.load.conftest import EmbeddedRegistrar

RUN = ["--rate", "40", "--expires", "2", "--duration", "3", "--domain", "sipfsm.test"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main(["load", *argv, "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_two_processes_over_udp_register_and_refresh(
    registrar: EmbeddedRegistrar, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data, live = _run(
        ["--registrar", registrar.udp(), "--users", "30", "--password-pattern", "pw-{user}",
         "--processes", "2", *RUN, "--duration", "5"],
        capsys,
    )  # fmt: skip
    assert code == 0, (data, live)
    assert data["processes"] == 2
    assert data["users"] == 30
    assert data["registered"] == 30  # every initial REGISTER -> 401 -> REGISTER -> 200
    assert data["failed"] == 0 and data["failures"] == {}
    # expires 2 s in a 5 s run: every user refreshes (about every second) before the end
    assert data["refreshes"] >= 30
    assert data["live_at_end"] == 30
    # one challenge round per initial registration at least: 2 transactions each
    assert data["transactions"] >= 2 * 30 + data["refreshes"]
    assert data["requests_sent"] >= data["transactions"]
    assert data["latency_ms"]["p50"] is not None
    assert data["cpu_seconds"] > 0
    # the live line: one a second, SIPp-like
    lines = [line for line in live.splitlines() if line.startswith("[")]
    assert lines, live
    assert "reg/s" in lines[-1] and "in flight" in lines[-1] and "p99" in lines[-1]


def test_tcp_with_a_csv_and_unregistration(
    registrar: EmbeddedRegistrar, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    users = tmp_path / "users.csv"
    users.write_text("".join(f"u{i},pw-u{i}\n" for i in range(10)))
    code, data, _ = _run(
        ["--registrar", registrar.tcp(), "--users-csv", str(users), "--processes", "1",
         "--unregister", *RUN],
        capsys,
    )  # fmt: skip
    assert code == 0, data
    assert data["registered"] == 10
    assert data["unregistered"] == 10
    assert data["live_at_end"] == 0
    assert data["retransmissions"] == 0  # TCP: the transaction layer never retransmits


def test_failures_over_the_threshold_exit_1(
    registrar: EmbeddedRegistrar, capsys: pytest.CaptureFixture[str]
) -> None:
    # the registrar knows u0..u39 with pw-<user>: "bad-<user>" is refused
    argv = ["--registrar", registrar.udp(), "--users", "4", "--password-pattern", "bad-{user}",
            "--processes", "1", "--max-consecutive-failures", "1", *RUN]  # fmt: skip
    code, data, _ = _run(argv, capsys)
    assert code == 1
    assert data["registered"] == 0
    assert data["failed"] == 4
    assert set(data["failures"]) == {"auth"} or all("auth" in k for k in data["failures"])
    code, data, _ = _run([*argv, "--max-failures", "4"], capsys)
    assert code == 0, data


@pytest.mark.parametrize("event_loop", ["asyncio", "uvloop"])
def test_the_same_run_on_either_event_loop(
    registrar: EmbeddedRegistrar, capsys: pytest.CaptureFixture[str], event_loop: str
) -> None:
    if event_loop == "uvloop":
        pytest.importorskip("uvloop", reason="the optional extra sipfsm[uvloop]")
    code, data, _ = _run(
        ["--registrar", registrar.udp(), "--users", "10", "--password-pattern", "pw-{user}",
         "--processes", "1", "--loop", event_loop, *RUN],
        capsys,
    )  # fmt: skip
    assert code == 0, data
    assert data["event_loop"] == event_loop
    assert data["registered"] == 10 and data["failed"] == 0
    assert data["refreshes"] >= 10  # expires 2 s in a 3 s run: the timers fired


def test_uvloop_asked_for_and_missing_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    code = main(["load", "--registrar", "udp:127.0.0.1:5060", "--users", "1", "--no-auth",
                 "--loop", "uvloop", "--duration", "1"])  # fmt: skip
    assert code == 2
    assert "uvloop is not installed" in capsys.readouterr().err
    # auto falls back to asyncio (checked without running: the choice alone)
    from sipfsm.load.command import _event_loop

    assert _event_loop("auto") == "asyncio"


def test_the_default_loop_is_asyncio_even_with_uvloop_installed(
    registrar: EmbeddedRegistrar, capsys: pytest.CaptureFixture[str]
) -> None:
    # uvloop 0.23 crashes the process when a burst of REGISTERs meets a closed UDP port: it is
    # used only when asked for.
    code, data, _ = _run(
        ["--registrar", registrar.udp(), "--users", "2", "--password-pattern", "pw-{user}",
         "--processes", "1", *RUN],
        capsys,
    )  # fmt: skip
    assert code == 0, data
    assert data["event_loop"] == "asyncio"


def test_registering_and_refreshing_leave_no_reference_cycle(
    registrar: EmbeddedRegistrar, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sipfsm load freezes every batch of new clients out of the collector: garbage in a cycle
    # made during the run would stay until its end.  Counted with the collector off and the
    # freezing off, while the run still holds every client (the final report).
    import asyncio
    import gc

    from sipfsm.load import shard
    from sipfsm.load.stats import Snapshot
    from sipfsm.load.users import pattern_users
    from sipfsm.ports import Target

    monkeypatch.setattr(shard.gc, "freeze", lambda: None)
    users = pattern_users(10, domain="sipfsm.test", user_pattern="u{n}",
                          password_pattern="pw-{user}", password_env=None)  # fmt: skip
    settings = shard.ShardSettings(
        registrar=Target("UDP", "127.0.0.1", registrar.udp_port), rate=40.0, expires=2,
        duration=3.0,
    )  # fmt: skip
    garbage: list[int] = []

    def report(snapshot: Snapshot) -> None:
        if snapshot.done:
            garbage.append(gc.collect())

    gc.collect()
    gc.disable()
    try:
        final = asyncio.run(shard.run_shard(settings, users, report))
    finally:
        gc.enable()
    assert final.registered == 10 and final.refreshes >= 10  # the timers fired too
    assert garbage == [0]


def test_the_users_in_flight_are_counted_as_the_clients_say(
    registrar: EmbeddedRegistrar, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The count of users with a REGISTER in flight is kept from the clients' StateChanged
    # events; at every snapshot it must equal what the clients themselves report.
    import asyncio

    from sipfsm.load import shard
    from sipfsm.load.stats import Snapshot
    from sipfsm.load.users import pattern_users
    from sipfsm.ports import Target
    from sipfsm.registration import RegistrationClient

    clients: list[RegistrationClient] = []
    real_register = RegistrationClient.register

    def register(self: RegistrationClient) -> None:
        clients.append(self)
        real_register(self)

    monkeypatch.setattr(RegistrationClient, "register", register)
    users = pattern_users(40, domain="sipfsm.test", password_pattern="pw-{user}")
    settings = shard.ShardSettings(
        registrar=Target("UDP", "127.0.0.1", registrar.udp_port), rate=200.0, expires=2,
        duration=2.5, interval=0.01, unregister=True,
    )  # fmt: skip
    seen: list[tuple[int, int]] = []

    def report(snapshot: Snapshot) -> None:
        seen.append((snapshot.in_flight, sum(1 for c in clients if c.in_flight)))

    final = asyncio.run(shard.run_shard(settings, users, report))
    assert final.registered == 40 and final.refreshes >= 40 and final.unregistered == 40
    assert len(seen) > 50
    assert [counted for counted, _ in seen] == [asked for _, asked in seen]
    assert any(counted > 0 for counted, _ in seen)  # some snapshots caught REGISTERs in flight
