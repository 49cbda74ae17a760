"""``benchmarks/simulate.py --processes``: the main phase over every usable core by default, the
statistics merged, and a run that is the same run again for a given seed and process count."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "simulate.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_simulate_processes", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the shards' results are unpickled by this name
    spec.loader.exec_module(module)
    return module


def options(bench: ModuleType, **changes: object) -> object:
    opts = bench.Options(uas=17, hours=1.0, loss=0.1, expires=600, seed=11, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    return bench._with(opts, **changes)


def counts(result: object) -> tuple[object, ...]:
    return tuple(getattr(result, key) for key in (
        "uas", "transactions", "successes", "timeouts", "registers_sent", "responses_sent",
        "lost", "events", "registered", "states"))


def test_same_seed_same_process_count_same_run(bench: ModuleType) -> None:
    opts = options(bench)
    first = bench.simulate_sharded("a", opts, time.perf_counter() + 120, 3)
    again = bench.simulate_sharded("b", opts, time.perf_counter() + 120, 3)
    assert first.shards == 3 and len(first.parts) == 3
    assert [p.uas for p in first.parts] == [6, 6, 5]
    assert counts(first) == counts(again)
    assert [counts(p) for p in first.parts] == [counts(p) for p in again.parts]
    # Merged: every count is the sum of the processes' own, the wall the slowest one's.
    for key in ("transactions", "registers_sent", "responses_sent", "lost", "events"):
        assert getattr(first, key) == sum(getattr(p, key) for p in first.parts), key
    assert first.wall == max(p.wall for p in first.parts)
    assert first.states == {"registered": 17}
    # Shard 2 is the single run of its UAs (u000012..u000016) with its own seed.
    alone = bench.simulate("alone", bench._with(opts, uas=5, seed=11 + 2 * 7919, first=12),
                           time.perf_counter() + 120)
    assert counts(alone) == counts(first.parts[2])
    # Another seed is another run.
    other = bench.simulate_sharded("c", bench._with(opts, seed=12), time.perf_counter() + 120, 3)
    assert counts(other) != counts(first)


def test_more_processes_than_uas_is_one_ua_each(bench: ModuleType) -> None:
    total = bench.simulate_sharded("few", options(bench, uas=2), time.perf_counter() + 120, 5)
    assert total.shards == 2 and [p.uas for p in total.parts] == [1, 1]
    assert total.registered == 2


def test_processes_default_to_the_usable_cores(
        bench: ModuleType, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert bench.main(["--uas", "12", "--hours", "0.25", "--phases", "main"]) == 0
    out = capsys.readouterr().out
    assert "main phase over 3 processes" in out
    assert out.count(" UAs, setup ") == 3  # one line per process
    assert "UAs registered at end    12 / 12" in out
    # --processes 1: in this process, one result.
    assert bench.main(["--uas", "12", "--hours", "0.25", "--phases", "main",
                       "--processes", "1"]) == 0
    out = capsys.readouterr().out
    assert "main phase over 1 process," in out and " UAs, setup " not in out


def test_without_an_affinity_mask_every_cpu_counts(
        bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 5)
    assert bench.usable_cores() == 5
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert bench.usable_cores() == 1
