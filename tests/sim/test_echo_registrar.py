"""The simulate benchmark's echo registrar reads the usual REGISTER with one regular expression and
three checks: rewritten for speed, they must accept what the expression as first written
matched, with the same groups, and nothing else."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "simulate.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_simulate_echo", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BENCH = _load()

# A REGISTER as sipfsm's clients write it in the benchmark.
USUAL = (b"REGISTER sip:example.com SIP/2.0\r\n"
         b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKumvzis3so6ffml7;rport\r\n"
         b"Max-Forwards: 70\r\nTo: <sip:u000000@example.com>\r\n"
         b"From: <sip:u000000@example.com>;tag=mepy2bmhjq6ru\r\n"
         b"Call-ID: kkd77b6obwvkjobugm2fb6hed5\r\nCSeq: 1 REGISTER\r\n"
         b"Contact: <sip:u000000@10.0.0.1:5060>\r\nExpires: 3600\r\n"
         b"Supported: outbound, gruu, path\r\nUser-Agent: sipfsm\r\nContent-Length: 0\r\n\r\n")
# Written out by hand (RFC 3261 §8.2.6.2: Via, From, To + tag, Call-ID and CSeq copied; the
# contact echoed with the requested expiry).
USUAL_ANSWER = (b"SIP/2.0 200 OK\r\n"
                b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKumvzis3so6ffml7;rport\r\n"
                b"From: <sip:u000000@example.com>;tag=mepy2bmhjq6ru\r\n"
                b"To: <sip:u000000@example.com>;tag=reg\r\n"
                b"Call-ID: kkd77b6obwvkjobugm2fb6hed5\r\nCSeq: 1 REGISTER\r\n"
                b"Contact: <sip:u000000@10.0.0.1:5060>;expires=3600\r\n"
                b"Content-Length: 0\r\n\r\n")


# The expression as first written (a value's last character found by backtracking): the
# reference the registrar's expression must agree with, match for match and group for group.
_V = rb'([^\s"](?:[^\r\n"]*[^\s"])?)'
REFERENCE = re.compile(
    rb"REGISTER [^\r\n]* SIP/2\.0\r\nVia: ([^\s\",](?:[^\r\n\",]*[^\s\",])?)\r\n"
    rb"Max-Forwards: \d+\r\nTo: " + _V + rb"\r\nFrom: " + _V + rb"\r\nCall-ID: " + _V
    + rb"\r\nCSeq: " + _V + rb"\r\nContact: (<[^\s\",>*]*>)\r\nExpires: (\d+)\r\n"
    rb"(?:(?:Supported|User-Agent): [^\r\n]*\r\n)*Content-Length: 0\r\n\r\n")


def groups(pattern: re.Pattern[bytes], data: bytes) -> tuple[bytes, ...] | None:
    match = pattern.fullmatch(data)
    return None if match is None else match.groups()


def test_the_usual_register_is_answered_from_the_expression() -> None:
    registrar = BENCH.EchoRegistrar()
    assert registrar.answer_bytes(USUAL) == USUAL_ANSWER
    assert BENCH.usual_groups(USUAL) == groups(REFERENCE, USUAL) == (
        b"SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKumvzis3so6ffml7;rport",
        b"<sip:u000000@example.com>", b"<sip:u000000@example.com>;tag=mepy2bmhjq6ru",
        b"kkd77b6obwvkjobugm2fb6hed5", b"1 REGISTER", b"<sip:u000000@10.0.0.1:5060>", b"3600")
    one_char = USUAL.replace(b"Call-ID: kkd77b6obwvkjobugm2fb6hed5", b"Call-ID: k")
    assert BENCH.usual_groups(one_char) == groups(REFERENCE, one_char) is not None


@pytest.mark.parametrize("variant", [
    USUAL.replace(b"Via: SIP/2.0/UDP", b"Via:  SIP/2.0/UDP"),
    USUAL.replace(b";rport\r\n", b";rport \r\n"),
    USUAL.replace(b";rport", b";rport,SIP/2.0/UDP h"),
    USUAL.replace(b";rport", b";rport\t;x"),
    USUAL.replace(b"Call-ID: kkd", b"Call-ID: \tkkd"),
    USUAL.replace(b"bugm2fb6hed5\r\n", b"bugm2fb6hed5 \r\n"),
    USUAL.replace(b"bugm2fb6hed5\r\n", b"bugm2f b6hed5\r\n"),
    USUAL.replace(b"To: <sip:u000000@example.com>", b"To: <sip:u000000@example.com>\x0c"),
    USUAL.replace(b"To: <sip", b"To:  <sip"),
    USUAL.replace(b"To: <sip:u000000@example.com>\r\n", b"To: \r\n"),
    USUAL.replace(b"To: <sip:u000000@example.com>\r\n", b"To: \"\r\n"),
    USUAL.replace(b"From: <sip", b"From: \x0b<sip"),
    USUAL.replace(b"tag=mepy2bmhjq6ru", b"tag=mepy2bmhjq6ru\t"),
    USUAL.replace(b"CSeq: 1", b"CSeq:  1"),
    USUAL.replace(b"CSeq: 1 REGISTER", b"CSeq: 1 REGISTER\x0b"),
    USUAL.replace(b"To: <sip", b'To: "U" <sip'),
    USUAL.replace(b"5060>\r\nExpires", b"5060>;q=1\r\nExpires"),
    USUAL.replace(b"Contact: <sip:u000000@10.0.0.1:5060>", b"Contact: *"),
    USUAL.replace(b"Expires: 3600", b"Expires: 0"),
    USUAL.replace(b"Supported: outbound, gruu, path\r\nUser-Agent: sipfsm\r\n", b""),
    USUAL.replace(b"Supported: outbound, gruu, path\r\nUser-Agent: sipfsm\r\n",
                  b"User-Agent: a\r\nSupported: path\r\nUser-Agent: b\r\nSupported: x\r\n"),
    USUAL.replace(b"User-Agent: sipfsm\r\n", b"User-Agent: sipfsm\r\nContent-Length: 0\r\n"),
    USUAL.replace(b"sipfsm\r\n", b"sip\rfsm\r\n"),
    USUAL.replace(b"sipfsm\r\n", b"sip\nfsm\r\n"),
    USUAL.replace(b"sipfsm\r\n", b'sip"fsm\r\n'),
    USUAL.replace(b"sip:example.com SIP", b'sip:"example.com\n SIP'),
    USUAL.replace(b"sip:example.com SIP", b'sip:"example.com SIP'),
    USUAL.replace(b";rport", b";r\nport"),
    USUAL.replace(b";rport", b';r"port'),
    USUAL.replace(b"2fb6hed5", b"2fb\n6hed5"),
    USUAL.replace(b"1 REGISTER", b'1 "REGISTER'),
    USUAL.replace(b"1 REGISTER", b"1\nREGISTER"),
    USUAL.replace(b"Contact: <sip:", b"Contact: <\nsip:"),
    USUAL.replace(b"To: <sip:u000000@", b"To: <sip:u000000\n@"),
    USUAL.replace(b"To: <sip:u000000@", b'To: <sip:u000000"@'),
    USUAL.replace(b"From: <sip:u000000@", b"From: <sip:u000000\n@"),
    USUAL.replace(b"From: <sip:u000000@", b'From: <sip:u000000"@'),
    USUAL.replace(b"Call-ID: kkd", b'Call-ID: k"kd'),
    USUAL.replace(b"Call-ID: kkd", b"Call-ID: k,kd"),
])
def test_the_expression_agrees_with_the_reference(variant: bytes) -> None:
    assert BENCH.usual_groups(variant) == groups(REFERENCE, variant)


# Edits of the usual request: a byte replaced, inserted or removed, drawn from the bytes that
# matter to the shape (separators, whitespace, quotes, digits).
_BYTES = st.sampled_from(list(b' \t\r\n\x0b\x0c",<>*;:=0a9@-'))


@st.composite
def edited(draw: st.DrawFn) -> bytes:
    data = USUAL
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(data) - 1))
        kind = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = bytes([draw(_BYTES)])
        if kind == "replace":
            data = data[:at] + byte + data[at + 1:]
        elif kind == "insert":
            data = data[:at] + byte + data[at:]
        else:
            data = data[:at] + data[at + 1:]
    return data


@settings(max_examples=1500, deadline=None)
@given(edited())
def test_edited_requests_match_as_the_reference_matches(data: bytes) -> None:
    assert BENCH.usual_groups(data) == groups(REFERENCE, data)
