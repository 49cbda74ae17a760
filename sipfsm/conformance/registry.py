"""The registry of conformance checks: each check names the spec/ records it verifies.

Checks live in the package so that ``sipfsm conformance`` runs them from an installed wheel;
pytest runs the same functions under ``@pytest.mark.requirement`` (tests/test_conformance.py).
A check is a plain function that returns on success and raises on failure (usually a
hypothesis ``@given`` property, which hypothesis runs when the function is called).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Check", "all_checks", "check"]

F = TypeVar("F", bound=Callable[[], None])


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    requirements: tuple[str, ...]
    func: Callable[[], None]
    doc: str


_CHECKS: dict[str, Check] = {}


def check(*requirements: str) -> Callable[[F], F]:
    """Register ``func`` as the check of ``requirements`` (spec/ record ids)."""
    if not requirements:
        raise ValueError("a check must name at least one requirement")

    def register(func: F) -> F:
        name = f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
        if name in _CHECKS:
            raise ValueError(f"duplicate check {name}")
        _CHECKS[name] = Check(name, tuple(requirements), func, (func.__doc__ or "").strip())
        return func

    return register


def all_checks() -> list[Check]:
    """Every registered check (importing the check modules first)."""
    from sipfsm.conformance import load_checks

    load_checks()
    return list(_CHECKS.values())
