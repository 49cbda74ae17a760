"""`sipfsm audit`: formats, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sipfsm.audit.digest_ref import expected_response
from sipfsm.cli import main
from sipfsm.spec import SpecError, _record
from tests.audit.support import base
from tests.audit.test_planted import cseq_jump, max_forwards_10, wrong_password


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.requirement("RFC3261-10.2-CSEQ-INCREMENT")
def test_json_output_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "t.jsonl", cseq_jump().records())
    assert main(["audit", str(path), "--format", "json"]) == 1
    lines = capsys.readouterr().out.splitlines()
    summary = json.loads(lines[0])
    assert summary["clean"] is False and "FAIL" in summary["summary"]
    finding = json.loads(lines[1])
    assert list(finding) == ["rule_id", "level", "section", "verdict", "evidence", "explanation",
                             "registration"]
    assert finding["rule_id"] == "RFC3261-10.2-CSEQ-INCREMENT"
    assert set(finding["evidence"]) == {"messages", "times"}


@pytest.mark.requirement("RFC3261-8.1.1.6-MAX-FORWARDS-70")
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_should_only_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             fmt: str) -> None:
    path = _write(tmp_path / "t.jsonl", max_forwards_10().records())
    assert main(["audit", str(path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].lstrip("*").startswith("audit WARN")
    assert "RFC3261-8.1.1.6-MAX-FORWARDS-70" in out


@pytest.mark.requirement("RFC2617-3.2.2.1-RESPONSE-DIGEST")
def test_password_env(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "t.jsonl", wrong_password().records())
    assert main(["audit", str(path)]) == 0  # no password: the digest is not judged
    monkeypatch.setenv("AUDIT_PW", "secret")
    assert main(["audit", str(path), "--password-env", "AUDIT_PW"]) == 1
    out = capsys.readouterr().out
    assert "RFC2617-3.2.2.1-RESPONSE-DIGEST" in out and "secret" not in out
    assert main(["audit", str(path), "--password-env", "NO_SUCH_VAR_X"]) == 2


def test_clean_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "t.jsonl", base().records())
    assert main(["audit", str(path)]) == 0
    assert capsys.readouterr().out.startswith("audit CLEAN")


@pytest.mark.parametrize("content", [b"\x00\x01garbage", b"{broken", b"\xd4\xc3\xb2\xa1\x02"])
def test_bad_input_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           content: bytes) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    assert main(["audit", str(path)]) == 3
    err = capsys.readouterr().err
    assert err.startswith("sipfsm audit:") and "Traceback" not in err


def test_missing_file_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(tmp_path / "none.pcap")]) == 3


def test_digest_reference_matches_rfc2617_example() -> None:
    # RFC 2617 §3.5: the worked example's request-digest.
    assert expected_response(
        algorithm="MD5", username="Mufasa", realm="testrealm@host.com",
        password="Circle Of Life", method="GET", uri="/dir/index.html",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", qop="auth", nc="00000001",
        cnonce="0a4f113b",
    ) == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize("value", ["maybe", "message", "sequence:x", "audit: x", ""])
def test_spec_audit_field_is_validated(value: str) -> None:
    raw = {"id": "RFC3261-10.2-X", "source": "s", "level": "MUST", "role": "uac",
           "applies": True, "text": "t", "decision": "d", "audit": value}
    if value == "message":
        assert _record(raw, "f.toml", 0).audit_kind == "message"
        return
    with pytest.raises(SpecError, match="audit"):
        _record(raw, "f.toml", 0)
