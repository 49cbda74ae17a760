"""``benchmarks/simulate.py`` runs end to end on a small population (the timing and memory targets
are for a full run on an idle machine: ``python benchmarks/simulate.py``)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "simulate.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_simulate", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("layout", ["per-ua", "shared"])
@pytest.mark.parametrize("registrar", ["echo", "core"])
def test_every_ua_registers_and_refreshes(bench: ModuleType, layout: str, registrar: str) -> None:
    opts = bench.Options(uas=30, hours=2.0, loss=0.1, expires=600, seed=3, layout=layout,
                         per_endpoint=8, registrar=registrar, ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    result = bench.simulate("test", opts, time.perf_counter() + 120)
    assert not result.partial
    assert result.registered == 30
    # 2 h with 600 s registrations: the first REGISTER and about 12 refreshes each.
    assert result.transactions >= 30 * 12
    assert result.successes == result.transactions - result.timeouts
    assert result.registers_sent >= result.transactions  # retransmissions over 10 % loss


def test_hand_loop_baseline_runs(bench: ModuleType) -> None:
    opts = bench.Options(uas=30, hours=1.0, loss=0.1, expires=600, seed=3, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    result = bench.hand_loop("hand", opts, time.perf_counter() + 120)
    assert result.registered == 30 and result.transactions >= 30 * 6


def test_wall_clock_limit_gives_partial_results(bench: ModuleType) -> None:
    opts = bench.Options(uas=30, hours=24.0, loss=0.1, expires=600, seed=3, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    result = bench.simulate("cut", opts, time.perf_counter())  # deadline already passed
    assert result.partial and 0 < result.virtual < 24 * 3600


def test_main_prints_a_summary(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--uas", "20", "--hours", "0.5", "--mem-uas", "10"]) == 0
    out = capsys.readouterr().out
    assert "summary" in out and "memory per registration" in out and "hand-written" in out
