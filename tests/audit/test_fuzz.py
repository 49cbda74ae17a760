"""Whatever bytes the audit is given, it answers with a report or AuditInputError, never
another exception."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipfsm.audit import AuditInputError, audit_paths
from tests.audit.captures import frames, write_pcap
from tests.audit.support import CLIENT, REGISTRAR, base

_PCAP = b""


def _pcap_bytes() -> bytes:
    global _PCAP
    if not _PCAP:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_pcap(Path(tmp) / "c.pcap",
                              frames(base().records(), client=CLIENT, server=REGISTRAR))
            _PCAP = path.read_bytes()
    return _PCAP


def _audit(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(data)
        with contextlib.suppress(AuditInputError):
            audit_paths([path], password="secret")


@settings(max_examples=30)
@given(st.binary(max_size=600))
def test_random_bytes(data: bytes) -> None:
    _audit(data)


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=4000), st.binary(min_size=1, max_size=8))
# A timestamp byte hit: the REGISTER's only copy is timed after its final response (it crashed
# the Timer E rule on an empty list of sends).
@example(offset=1966, junk=b"\x1f")
def test_corrupted_capture(offset: int, junk: bytes) -> None:
    data = bytearray(_pcap_bytes())
    offset %= len(data)
    data[offset:offset + len(junk)] = junk
    _audit(bytes(data))


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=4000))
def test_truncated_capture(cut: int) -> None:
    _audit(_pcap_bytes()[: cut % len(_pcap_bytes())])


_TEXT = "".join(str(r["message"]) for r in base().records())


@settings(max_examples=30)
@given(st.integers(min_value=0, max_value=len(_TEXT)), st.text(max_size=20))
def test_mangled_text(offset: int, junk: str) -> None:
    _audit((_TEXT[:offset] + junk + _TEXT[offset + len(junk):]).encode("utf-8", "replace"))
