"""diagrams/ is generated from the machines: it must match what they generate now."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sipfsm import diagrams
from sipfsm.transaction import TRANSACTION_MACHINE, TRANSITIONS


def test_committed_diagrams_are_up_to_date() -> None:
    stale = diagrams.stale()
    assert not stale, f"regenerate with `python -m sipfsm.diagrams`: {stale}"


def test_every_table_row_is_drawn() -> None:
    text = diagrams.mermaid(TRANSACTION_MACHINE)
    drawn = diagrams.rows(TRANSACTION_MACHINE)
    assert len(drawn) == sum(
        len(t["source"]) if isinstance(t["source"], list) else 1 for t in TRANSITIONS
    )
    for row in drawn:
        assert f"{row.source} --> {row.dest or row.source} : {row.trigger}" in text
    assert "[*] --> Trying" in text and "Terminated --> [*]" in text
    assert diagrams.mermaid(TRANSACTION_MACHINE) == text  # deterministic


def test_stale_and_check(tmp_path: Path) -> None:
    assert set(diagrams.stale(tmp_path)) == {f"{s}.mmd" for s in diagrams.MACHINES}
    assert diagrams.main(["--check", "--directory", str(tmp_path)]) == 1
    assert diagrams.main(["--no-svg", "--directory", str(tmp_path)]) == 0
    assert diagrams.stale(tmp_path) == []
    assert diagrams.main(["--check", "--directory", str(tmp_path)]) == 0


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")
def test_svg_when_dot_is_installed() -> None:
    drawing = diagrams.svg(TRANSACTION_MACHINE)
    assert drawing is not None and b"<svg" in drawing and b"Proceeding" in drawing
