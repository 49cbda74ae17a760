"""benchmarks/digest.py runs, and its three paths compute the same response (so the ratios it
prints compare like with like).  Throughput itself is printed by the script, not asserted: wall
clock ratios are too noisy for a test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sipfsm.auth.server import parse_credentials

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "digest.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_digest", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess",
                                       "SHA-512-256", "SHA-512-256-sess"])
def test_the_paths_agree(bench: ModuleType, algorithm: str) -> None:
    floor = bench.bare_hashlib(algorithm)(1)  # nc 00000001
    built = parse_credentials(bench.build_path(algorithm)(0))
    assert built.response == floor
    headers = bench.client_path(algorithm)(0)
    assert len(headers) == 1 and parse_credentials(headers[0][1]).nc == "00000001"


def test_rate_measures_something(bench: ModuleType) -> None:
    assert bench.rate(bench.client_path("MD5"), 0.01) > 0


def test_registration_path_runs(bench: ModuleType) -> None:
    assert bench.registration_us(20) > 0
