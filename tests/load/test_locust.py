"""The Locust user: a headless master with two local workers against the embedded registrar,
for a bounded time; the statistics Locust writes (``--csv``) hold the REGISTER transactions."""

from __future__ import annotations

import csv
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.kamailio_fixture import find_free_port
from tests.load.conftest import REPO, start_registrar, stop

# Not imported here: importing locust monkey-patches the whole process with gevent (sockets,
# threads, time), which would change every test that pytest runs after it.
if importlib.util.find_spec("locust") is None or importlib.util.find_spec("gevent") is None:
    pytest.skip("the locust extra is not installed", allow_module_level=True)

LOCUSTFILE = REPO / "examples" / "locustfile.py"


def _locust() -> list[str]:
    found = shutil.which("locust", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "locust"]


def test_master_and_two_workers_report_register_transactions(tmp_path: Path) -> None:
    registrar_proc, registrar = start_registrar(tmp_path, 20)
    port = find_free_port(udp=False, tcp=True)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        SIPFSM_DOMAIN="sipfsm.test",
        SIPFSM_EXPIRES="2",  # refreshes every second or so: several within the run
        SIPFSM_PASSWORD_PATTERN="pw-{user}",
    )
    # the registrar knows u0..u19; the two workers number their users 0.. and 100000..:
    # give the second worker's users the same names by a per-worker stride of 10
    env["SIPFSM_PER_WORKER"] = "10"
    common = [*_locust(), "-f", str(LOCUSTFILE), "--host", registrar.udp()]
    master = subprocess.Popen(
        [*common, "--headless", "--master", "--master-bind-host", "127.0.0.1",
         "--master-bind-port", str(port), "--expect-workers", "2",
         "--expect-workers-max-wait", "40", "-u", "6", "-r", "6", "-t", "8s",
         "--csv", str(tmp_path / "run"), "--only-summary"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    workers = [
        subprocess.Popen(
            [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        output, _ = master.communicate(timeout=55)
    finally:
        for proc in (master, *workers):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        stop(registrar_proc)
    text = output.decode(errors="replace")
    assert master.returncode == 0, text[-3000:]
    rows = {row["Name"]: row for row in csv.DictReader((tmp_path / "run_stats.csv").open())}
    for name in ("initial", "auth", "refresh"):
        assert name in rows, (sorted(rows), text[-2000:])
        assert rows[name]["Type"] == "REGISTER"
        assert int(rows[name]["Request Count"]) > 0
        assert int(rows[name]["Failure Count"]) == 0, text[-2000:]
    # six users: each made one initial REGISTER (answered 401) and one with credentials
    assert int(rows["initial"]["Request Count"]) == 6
    assert int(rows["auth"]["Request Count"]) == 6
    assert float(rows["auth"]["Average Response Time"]) > 0
    assert int(rows["Aggregated"]["Failure Count"]) == 0
