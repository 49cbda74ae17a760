"""pytest runs every packaged conformance check under its requirement markers."""

from __future__ import annotations

import pytest

from sipfsm.conformance import all_checks

CHECKS = all_checks()


@pytest.mark.parametrize(
    "check",
    [pytest.param(c, marks=[pytest.mark.requirement(r) for r in c.requirements], id=c.name)
     for c in CHECKS],
)
def test_conformance_check(check: object) -> None:
    check.func()  # type: ignore[attr-defined]
