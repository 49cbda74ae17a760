"""Every Python block of the guides in docs/ runs as written (a guide that lies is a bug)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DOCS.glob("library.md")):
        for n, match in enumerate(_BLOCK.finditer(path.read_text(encoding="utf-8")), 1):
            found.append((f"{path.name}#{n}", match.group(1)))
    return found


def test_the_library_guide_has_examples() -> None:
    assert len(_blocks()) >= 4


@pytest.mark.parametrize(("where", "code"), _blocks(), ids=[w for w, _ in _blocks()])
def test_guide_example_runs(where: str, code: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, check=False)
    assert done.returncode == 0, f"{where}:\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip(), f"{where} printed nothing"
