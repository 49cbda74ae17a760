"""benchmarks/registrar_memory.py runs (small counts) and reports flat memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_registrar_memory_benchmark_runs_and_prints_rss() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "registrar_memory.py"), "--count", "400"],
        capture_output=True, text=True, timeout=240,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RSS" in result.stdout and "second round / first round" in result.stdout
