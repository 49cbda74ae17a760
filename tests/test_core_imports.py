"""The sans-IO core touches no sockets, event loop, clock, randomness or threads: those enter
through sipfsm.ports.  Every module under sipfsm/ is core except the adapters and tools listed in
NOT_CORE, so a new core module is covered the day it is added."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sipfsm"

FORBIDDEN = {"socket", "asyncio", "time", "random", "secrets", "threading", "select", "selectors"}

# Paths relative to sipfsm/: adapters (the outside world), tools and test helpers.
NOT_CORE = (
    "sim/",
    "aio/",
    "registrar/",
    "conformance/",
    "cli.py",
    "app.py",  # the asyncio client wiring
    "demo.py",
    "__main__.py",
    "strategies.py",
    "diagrams.py",
    "ladder.py",
    "probe.py",  # engineer B: runs the client under test as a subprocess, the registrar on asyncio
    "pytest_plugin.py",  # engineer B: fixtures around the asyncio registrar
    "load/",  # sipfsm load: worker processes, event loops, sockets
    "contrib/",  # gevent ports and the Locust user
)

# (module, imported name): imports allowed inside a function, never at module level.
FUNCTION_LEVEL_ALLOWED = {
    # build_authorization() is a public convenience that draws a cnonce when none is given.
    ("auth/__init__.py", "secrets"),
}


def core_modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if not path.relative_to(PACKAGE).as_posix().startswith(NOT_CORE)
    )


def imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name.split(".")[0] for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module.split(".")[0]]
    return []


def forbidden_imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module, at module level) for each forbidden import anywhere in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        for name in imported(node):
            if name in FORBIDDEN:
                found.append((getattr(node, "lineno", 0), name, id(node) in top_level))
    return found


def test_the_core_is_found() -> None:
    names = {p.relative_to(PACKAGE).as_posix() for p in core_modules()}
    for expected in ("ports.py", "errors.py", "spec.py", "transaction.py", "fsm.py"):
        assert expected in names
    assert not any(n.startswith(("sim/", "aio/")) for n in names)


@pytest.mark.parametrize(
    "path", core_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix()
)
def test_core_module_imports_no_io(path: Path) -> None:
    relative = path.relative_to(PACKAGE).as_posix()
    bad = [
        f"line {line}: import {name}"
        for line, name, top in forbidden_imports(path)
        if top or (relative, name) not in FUNCTION_LEVEL_ALLOWED
    ]
    assert not bad, f"sipfsm/{relative} imports I/O, time or randomness: {bad}"


def test_the_check_sees_nested_and_from_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\nfrom time import monotonic\n"
        "def f():\n    import random.x\n    from socket import socket\n",
        encoding="utf-8",
    )
    assert forbidden_imports(sample) == [(2, "time", True), (4, "random", False),
                                         (5, "socket", False)]
