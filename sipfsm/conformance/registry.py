"""The registry of conformance checks: each check names the spec/ records it verifies.

Checks live in the package so that ``sipfsm conformance`` runs them from an installed wheel;
pytest runs the same functions under ``@pytest.mark.requirement`` (tests/test_conformance.py).
A check is a plain function that returns on success and raises on failure (usually a
hypothesis ``@given`` property, which hypothesis runs when the function is called).

One record, one verdict: a check covering several records states each rule with
:func:`expect` (``expect("RFC3261-8.1.1.7-BRANCH-COOKIE", ok, why)``), so that a failure is
evidence against that record only.  The runner masks a record that failed and runs the check
again to judge the others (:func:`masking`).  A plain ``assert`` in a check covering several
records counts against all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Check", "RuleViolation", "all_checks", "check", "expect", "masking"]

F = TypeVar("F", bound=Callable[[], None])


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    requirements: tuple[str, ...]
    func: Callable[[], None]
    doc: str


class RuleViolation(AssertionError):
    """A check found the rule of one spec record broken."""

    def __init__(self, requirement: str, message: str = "") -> None:
        super().__init__(f"[{requirement}] {message}" if message else f"[{requirement}]")
        self.requirement = requirement


_CHECKS: dict[str, Check] = {}
_MASKED: ContextVar[frozenset[str]] = ContextVar("sipfsm_conformance_masked", default=frozenset())


def expect(requirement: str, condition: object, message: object = "") -> None:
    """State one record's rule: raise :class:`RuleViolation` naming ``requirement`` unless
    ``condition`` holds (or the runner masked that record to judge the check's others)."""
    if not condition and requirement not in _MASKED.get():
        raise RuleViolation(requirement, str(message))


@contextlib.contextmanager
def masking(requirements: Iterable[str]) -> Iterator[None]:
    """Within the block, :func:`expect` of ``requirements`` does not fail."""
    token = _MASKED.set(frozenset(requirements))
    try:
        yield
    finally:
        _MASKED.reset(token)


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
