"""The transaction benchmark runs, and the memory target holds (throughput ratios are printed by
``python benchmarks/transaction.py``; wall-clock ratios are too noisy for a test)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "transaction.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_transaction", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_both_versions_complete_transactions(bench: ModuleType) -> None:
    assert bench.throughput(bench.TransactionLayer, 200, batch=50) > 0
    assert bench.throughput(bench.HandLayer, 200, batch=50) > 0


def test_live_transaction_memory_target(bench: ModuleType) -> None:
    per_tx = bench.live_memory(bench.TransactionLayer, 1000)
    assert per_tx <= 4096
    assert per_tx + bench.request_memory(1000) <= 4096  # even counting the TU's request


def test_shared_machine_binds_nothing_per_model(bench: ModuleType) -> None:
    stock, shared = bench.attach_cost(200)
    assert shared < 64 < stock


def test_layer_cpu_completes_every_transaction(bench: ModuleType) -> None:
    figures = bench.layer_cpu(200)  # it asserts every transaction ended with its 200
    assert set(figures) == {"send", "receive", "parse", "response", "timer_k"}
