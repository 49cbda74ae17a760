"""Only the adapters touch sockets: nothing else reaches into a transport for its socket
(``_sock``, ``get_extra_info``, ``getattr(transport, "_sock")``).  Adapters are sipfsm/aio/ and
the gevent ports (sipfsm/contrib/, sipfsm/gevent/); the conformance package's own test servers
(sipfsm/conformance/) are asyncio servers of their own.  Those are not scanned."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = ("aio/", "contrib/", "gevent/", "conformance/")
SCANNED = sorted(
    [p for p in (ROOT / "sipfsm").rglob("*.py")
     if not p.relative_to(ROOT / "sipfsm").as_posix().startswith(ADAPTERS)]
    + list((ROOT / "benchmarks").glob("*.py"))
)
SOCKET_ATTRIBUTES = {"_sock", "sock", "_socket", "get_extra_info", "sockets"}


def probes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SOCKET_ATTRIBUTES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in SOCKET_ATTRIBUTES):
            found.append(f"line {node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_socket_probing_outside_the_adapters(path: Path) -> None:
    assert probes(path) == []


def test_the_scan_sees_a_probe(tmp_path: Path) -> None:
    assert ROOT / "sipfsm" / "app.py" in SCANNED
    sample = tmp_path / "sample.py"
    sample.write_text('sock = getattr(udp, "_sock", None)\nx = t.get_extra_info("socket")\n',
                      encoding="utf-8")
    assert len(probes(sample)) == 2
