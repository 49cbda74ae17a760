"""The readers: JSON lines, pcap, pcapng (UDP, TCP reassembly, IPv4, IPv6), SIPp logs, text."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sipfsm.audit import AuditInputError, audit_paths, detect_format, read_observations
from tests.audit.captures import EPOCH, frames, write_pcap, write_pcapng
from tests.audit.support import CLIENT, PASSWORD, REGISTRAR, base
from tests.audit.test_planted import cseq_jump

pytestmark = pytest.mark.requirement("RFC3261-10.2-CSEQ-INCREMENT")

V6_CLIENT, V6_SERVER = "[2001:db8::10]:5062", "[2001:db8::1]:5060"


def _jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _messages(path: Path) -> list[bytes]:
    observations, _ = read_observations([path])
    return [o.raw for o in observations]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    records = base().records()
    path = _jsonl(tmp_path / "t.jsonl", records)
    assert detect_format(path.read_bytes()[:64]) == "jsonl"
    assert _messages(path) == [r["message"].encode() for r in records]
    assert audit_paths([path], password=PASSWORD).clean


@pytest.mark.parametrize("writer", [write_pcap, write_pcapng])
@pytest.mark.parametrize(("client", "server"), [(CLIENT, REGISTRAR), (V6_CLIENT, V6_SERVER)])
def test_udp_capture(tmp_path: Path, writer: object, client: str, server: str) -> None:
    records = base().records()
    path = writer(tmp_path / "c.cap", frames(records, client=client, server=server))  # type: ignore[operator]
    observations, _ = read_observations([path])
    assert [o.raw for o in observations] == [r["message"].encode() for r in records]
    assert observations[0].source == client and observations[0].destination == server
    assert observations[0].time == pytest.approx(EPOCH, abs=1e-5)
    report = audit_paths([path], password=PASSWORD)
    assert report.clean and report.clients == (client,)


@pytest.mark.parametrize(("segment", "reorder"), [(0, False), (37, False), (53, True)])
@pytest.mark.parametrize(("client", "server"), [(CLIENT, REGISTRAR), (V6_CLIENT, V6_SERVER)])
def test_tcp_capture_is_reassembled(
    tmp_path: Path, segment: int, reorder: bool, client: str, server: str
) -> None:
    records = base(transport="TCP").records()
    packets = frames(records, client=client, server=server, tcp=True, segment=segment,
                     reorder=reorder)
    path = write_pcapng(tmp_path / "c.pcapng", packets)
    assert _messages(path) == [r["message"].encode() for r in records]
    assert audit_paths([path], password=PASSWORD).clean


def test_capture_violation_found(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "v.pcap",
                      frames(cseq_jump().records(), client=CLIENT, server=REGISTRAR))
    report = audit_paths([path])
    assert report.rule_ids() == {"RFC3261-10.2-CSEQ-INCREMENT"}
    assert report.exit_code == 1


def test_sipp_trace_msg_log(tmp_path: Path) -> None:
    blocks = []
    for r in base().records():
        verb = "sent (%d bytes):" if r["direction"] == "sent" else "received [%d] bytes :"
        text = str(r["message"]).replace("\r\n", "\n")
        when = datetime(2026, 1, 2, 3, 4, 5) + timedelta(seconds=float(r["time"]))  # type: ignore[arg-type]
        stamp = when.strftime("%Y-%m-%d %H:%M:%S.%f")
        blocks.append(f"----------------------------------------------- {stamp}\n"
                      f"UDP message {verb % len(text)}\n\n{text}\n")
    path = tmp_path / "uac_1_messages.log"
    path.write_text("".join(blocks))
    assert detect_format(path.read_bytes()[:200]) == "sipp"
    observations, _ = read_observations([path])
    assert len(observations) == len(base().records())
    assert observations[0].source == "local"
    assert all(o.message is not None for o in observations)
    assert audit_paths([path], password=PASSWORD).clean


def test_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "messages.txt"
    path.write_text("\n".join(str(r["message"]).replace("\r\n", "\n")
                              for r in cseq_jump().records()))
    assert detect_format(path.read_bytes()[:64]) == "text"
    report = audit_paths([path])
    assert report.rule_ids() == {"RFC3261-10.2-CSEQ-INCREMENT"}
    assert all(t is None for f in report.findings for t in f.evidence.times)


@pytest.mark.parametrize(
    "content",
    [
        b"\xd4\xc3\xb2\xa1" + b"\x00" * 10,  # truncated pcap header
        b"\x0a\x0d\x0d\x0a\x00\x00",  # truncated pcapng
        b'{"direction": "sent"}\n',
        b'{"direction": "up", "local": "a", "remote": "b", "message": "x"}\n',
        b"{not json\n",
        b"hello world\n",
        b"",
        b"some preamble\nREGISTER sip:x SIP/2.0\r\n\r\n",
        b"----------------------------------------------- 2026-99-99 00:00:00.0\n"
        b"UDP message sent (3 bytes):\n\nabc\n",
        b"{\xff\xfe\n",
    ],
)
def test_bad_input_is_a_typed_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(AuditInputError):
        audit_paths([path])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AuditInputError, match="cannot read"):
        audit_paths([tmp_path / "nope.pcap"])
