"""Conformance checks: every applicable spec/ record verified by a property check.

``sipfsm conformance`` runs them from an installed package; pytest runs the same checks under
their requirement markers.  Check modules are the ``checks_*`` modules of this package.
"""

from __future__ import annotations

import importlib
import pkgutil

from sipfsm.conformance.registry import Check, all_checks, check

__all__ = ["Check", "all_checks", "check", "load_checks"]

_loaded = False


def load_checks() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("checks_"):
            importlib.import_module(f"{__name__}.{info.name}")
