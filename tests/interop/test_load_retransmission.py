"""The test Kamailio absorbs retransmitted REGISTERs (tm), as load tests need.

RFC 3261 §17.2.2: a server transaction that has sent a final response passes the retransmitted
request no further and answers it with that response again.  Without ``tm`` the retransmission
reached ``save()`` a second time and, its CSeq being already seen for the Call-ID, was answered
"400 Invalid CSeq" -- a failure load generators then counted against the client.  The digest
response is computed here with hashlib from RFC 2617 §3.2.2 (no sipfsm code).
"""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path

import pytest

from tests.interop.kamailio_fixture import DEFAULT_REALM, KamailioProcess

pytestmark = pytest.mark.interop


def _register(port: int, cseq: int, branch: str, authorization: str = "") -> bytes:
    return (
        "REGISTER sip:sipfsm.test SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        "To: <sip:u7@sipfsm.test>\r\n"
        "From: <sip:u7@sipfsm.test>;tag=retrans\r\n"
        "Call-ID: retransmission-test\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:u7@127.0.0.1:{port}>\r\n"
        "Expires: 120\r\n"
        f"{authorization}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_retransmitted_register_gets_the_same_final_response(
    kamailio_ok: None, tmp_path: Path
) -> None:
    with (
        KamailioProcess(tmp_path) as kam,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock,
    ):
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3.0)
        port = sock.getsockname()[1]
        registrar = ("127.0.0.1", kam.udp_port)

        first = _register(port, 1, "retrans1")
        sock.sendto(first, registrar)
        challenge = sock.recv(65535).decode()
        assert challenge.startswith("SIP/2.0 401 "), challenge
        # the unauthenticated request retransmitted: the same 401 (same nonce) comes back
        sock.sendto(first, registrar)
        again = sock.recv(65535).decode()
        assert again.startswith("SIP/2.0 401 "), again
        nonce = re.search(r'nonce="([^"]+)"', challenge)
        assert nonce is not None
        assert nonce.group(1) in again

        ha1 = _md5(f"u7:{DEFAULT_REALM}:{kam.password_for('u7')}")
        ha2 = _md5("REGISTER:sip:sipfsm.test")
        response = _md5(f"{ha1}:{nonce.group(1)}:00000001:0a4f113b:auth:{ha2}")
        authorization = (
            f'Authorization: Digest username="u7", realm="{DEFAULT_REALM}", '
            f'nonce="{nonce.group(1)}", uri="sip:sipfsm.test", response="{response}", '
            'qop=auth, nc=00000001, cnonce="0a4f113b", algorithm=MD5\r\n'
        )
        second = _register(port, 2, "retrans2", authorization)
        answers = []
        for _ in range(3):  # the original, then two retransmissions (Timer E firing)
            sock.sendto(second, registrar)
            answers.append(sock.recv(65535).decode())
        status_lines = [answer.split("\r\n", 1)[0] for answer in answers]
        assert status_lines == ["SIP/2.0 200 OK"] * 3, status_lines
        # one REGISTER reached the registrar logic; the others were absorbed by the transaction
        kam.wait_for_log(r"REGISTER ok for sip:u7@")
        assert kam.log_text().count("auth ok for au=[u7]") == 1, kam.log_text()[-2000:]
        assert "Invalid CSeq" not in kam.log_text()
