"""The standing mutation catalogue: deliberate violations of the RFCs sipfsm implements, each
applied in turn to a copy of the package, and the records of ``sipfsm conformance`` that catch
each one.

Each mutant is one rule broken the way a real bug would break it, written from the RFC text
(RFC 3261 §8.1, §10, §17.1.2, §17.1.3, §18.1, §22; RFC 7616; RFC 5626 §4.5 backoff), as a
textual patch: ``old`` must occur exactly once in ``path`` and the patched file must compile.
A mutant that does not apply is a *catalogue bug*, printed as such ("catalogue bug: pattern
not found" when the code moved, "broken" when the patch does not compile) and the exit status
is 1: never skipped, never counted as killed.

Mutants of ``sipfsm audit`` (ids A..) break the audit's rules and readers, which judge OTHER
clients' traffic; ``sipfsm conformance`` checks sipfsm's own client and never runs them.  Such a
mutant names the tests that judge it (``judged_by``, here ``tests/audit``): it is killed when
those tests fail on the mutated copy (pytest ``-x``), and the baseline first checks they pass
on the unmutated one.  Every other mutant is judged by ``sipfsm conformance`` as before.

Verdicts: ``killed`` (some applicable record of ``sipfsm conformance`` fails), ``survived``,
``timeout`` (the run outlasted ``--timeout``: NOT a kill), ``error`` (no checklist came out),
``stale`` / ``broken`` (catalogue bugs).  A mutant marked ``equivalent`` changes no behaviour
(the reason is written next to it): it is run and shown, but it is not a miss and is left out
of the kill rate.  Mutants run one at a time (the machine may be shared: run under
``nice -n 10``).

    python benchmarks/mutation.py                  # the whole catalogue, kill rate at the end
    python benchmarks/mutation.py --only T03,D02   # some mutants
    python benchmarks/mutation.py --list           # the catalogue; exit 1 on a catalogue bug
    python benchmarks/mutation.py --tests          # also run the test tree on each mutant
    python benchmarks/mutation.py --results benchmarks/mutation_results.md   # the table

The last full run, mutant by mutant: benchmarks/mutation_results.md.

Exit status: 0 when every real mutant is killed by ``sipfsm conformance`` and the catalogue
has no bug, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    id: str
    family: str  # the RFC section (rule family) the mutant breaks
    rule: str  # the rule, in the RFC's words (shortened)
    path: str  # relative to the repository root
    old: str  # must occur exactly once in ``path``
    new: str
    # ``sipfsm conformance --section`` arguments for a quick run (the CI subset); the full
    # catalogue runs every check.
    sections: tuple[str, ...] = ()
    # Not empty: why the mutant is *equivalent* (no behaviour of the client changes, so no
    # check can catch it).  Still applied and run, reported apart, not counted in the rate.
    equivalent: str = ""
    # Not empty: pytest paths that JUDGE this mutant instead of ``sipfsm conformance`` (which
    # checks the client, never ``sipfsm audit``): killed when those tests fail.  Used by the
    # audit's mutants (ids A..), whose rules judge OTHER clients' traffic.
    judged_by: tuple[str, ...] = ()


REG = "sipfsm/registration.py"
CORE = "sipfsm/core/registration.py"
CLASSIFY = "sipfsm/core/classify.py"
VALUES = "sipfsm/core/values.py"
TX = "sipfsm/transaction.py"
TXCORE = "sipfsm/core/transaction.py"
DIGEST = "sipfsm/auth/digest.py"
CLIENT = "sipfsm/auth/client.py"
CHALLENGE = "sipfsm/auth/challenge.py"
URI = "sipfsm/message/uri.py"
PARSE_VALUES = "sipfsm/message/values.py"
PARSER = "sipfsm/message/parser.py"
MESSAGES = "sipfsm/message/messages.py"
HEADERS = "sipfsm/message/headers.py"
FRAMING = "sipfsm/message/framing.py"
FAST = "sipfsm/message/_fast.py"
SYNTAX = "sipfsm/message/_syntax.py"
TLS = "sipfsm/aio/tls.py"
STUN = "sipfsm/outbound/stun.py"
FLOW = "sipfsm/outbound/flow.py"
KEEPALIVE = "sipfsm/aio/keepalive.py"
OUTBOUND_AIO = "sipfsm/aio/outbound.py"
SHA512_256 = "sipfsm/auth/_sha512_256.py"
CREDENTIALS = "sipfsm/auth/credentials.py"
AUTH_PARAMS = "sipfsm/auth/params.py"
PARAMS = "sipfsm/message/params.py"
STRICT = "sipfsm/message/strict.py"
# The tests that judge the audit's mutants (the planted-violation files first: they kill fastest).
AUDIT_TESTS = ("tests/audit/test_planted.py", "tests/audit/test_sharp.py", "tests/audit")

CATALOGUE: tuple[Mutant, ...] = (
    # ---- RFC 3261 §17.1.2.2: the non-INVITE client transaction --------------------------------
    Mutant("T01", "RFC 3261 §17.1.2.2", "Timer E doubles: MIN(2*T1, T2), MIN(4*T1, T2) ...", TXCORE,
           "self.interval = min(2 * self.interval, self.timer_values.t2)",
           "self.interval = min(self.interval, self.timer_values.t2)", ("17.1.2",)),
    Mutant("T02", "RFC 3261 §17.1.2.2", "Timer E is capped at T2 in Trying", TXCORE,
           "self.interval = min(2 * self.interval, self.timer_values.t2)",
           "self.interval = 2 * self.interval", ("17.1.2",)),
    Mutant("T03", "RFC 3261 §17.1.2.2", "Timer F = 64*T1", TXCORE,
           "        return 64 * self.t1\n", "        return 32 * self.t1\n", ("17.1.2",)),
    Mutant("T04", "RFC 3261 §17.1.2.2", "Timer K = T4 for unreliable transports", TXCORE,
           "return 0.0 if reliable else self.t4", "return 0.0", ("17.1.2",)),
    Mutant("T05", "RFC 3261 §17.1.2.2", "Timer K = 0 for reliable transports", TXCORE,
           "return 0.0 if reliable else self.t4", "return self.t4", ("17.1.2",)),
    Mutant("T06", "RFC 3261 §17.1.2.2", "in Proceeding, Timer E fires every T2", TXCORE,
           "        self.interval = self.timer_values.t2\n        self._retransmit()",
           "        self.interval = min(2 * self.interval, self.timer_values.t2)\n"
           "        self._retransmit()", ("17.1.2",)),
    Mutant("T07", "RFC 3261 §17.1.2.2", "Completed: no more retransmissions (timers cancelled)",
           TXCORE,
           "        self.out.append(_CANCEL)\n        self.out.append(_RELEASE)\n"
           "        self.out.append(_start_timer(\"K\"",
           "        self.out.append(_RELEASE)\n        self.out.append(_start_timer(\"K\"",
           ("17.1.2",)),
    Mutant("T08", "RFC 3261 §17.1.2.2", "provisional responses are passed to the TU", TXCORE,
           "        self.out.append(PassProvisional(response))\n", "        pass\n",
           ("17.1.2",)),
    Mutant("T09", "RFC 3261 §17.1.2.2", "a 1xx in Trying moves to Proceeding", TXCORE,
           '{"trigger": "provisional", "source": TRYING, "dest": PROCEEDING,',
           '{"trigger": "provisional", "source": TRYING, "dest": None,', ("17.1.2",)),
    Mutant("T10", "RFC 3261 §17.1.2.2", "Terminated: destroyed at once", TX,
           "        self._layer._forget(self)\n", "        pass\n", ("17.1.2",)),
    Mutant("T11", "RFC 3261 §17.1.4", "a transport error ends the transaction, TU informed",
           TXCORE, "        self.out.append(InformTransportError(error))\n", "        pass\n",
           ("17.1.4",)),
    Mutant("T12", "RFC 3261 §17.1.2.2", "Timer E runs over unreliable transports only", TX,
           "        if not self.reliable:\n            self._timer_e = ",
           "        if True:\n            self._timer_e = ", ("17.1.2",)),
    # ---- RFC 3261 §17.1.3 / §18.1.2 / §8.1.3.3: matching responses ------------------------------
    Mutant("M01", "RFC 3261 §17.1.3", "match on the top Via branch (not on Call-ID)", TX,
           "        tx = self._transactions.get(branch) if branch else None\n",
           "        tx = next((t for t in self._transactions.values()\n"
           "                   if t.request.call_id == message.call_id), None)\n",
           ("17.1.3", "18.1.2")),
    Mutant("M02", "RFC 3261 §17.1.3", "match on the CSeq method too", TX,
           "        if tx is None or cseq is None or cseq.method != tx.method:",
           "        if tx is None or cseq is None:", ("17.1.3",)),
    Mutant("M03", "RFC 3261 §18.1.2", "a response whose sent-by is not ours is discarded", TX,
           "        if not self._is_our_sent_by(top, tx):",
           "        if False:", ("18.1.2",)),
    Mutant("M04", "RFC 3261 §8.1.3.3", "a response with more than one Via is discarded", TX,
           "        if len(vias) > 1:", "        if len(vias) > 9:", ("8.1.3.3", "17.1.2")),
    # ---- RFC 3261 §8.1.1.7 / §18.1.1: Via, branch, size --------------------------------------
    Mutant("V01", "RFC 3261 §8.1.1.7", "the branch begins with the magic cookie z9hG4bK", TX,
           'BRANCH_COOKIE = "z9hG4bK"', 'BRANCH_COOKIE = "z9hG4bk"', ("8.1.1.7",)),
    Mutant("V02", "RFC 3261 §8.1.1.7", "branch unique: >= 64 random bits", TX,
           "BRANCH_BITS = 72", "BRANCH_BITS = 8", ("8.1.1.7",)),
    Mutant("V03", "RFC 3581 §3", "the client adds rport (no value) to its Via", TX,
           'return f"SIP/2.0/{self._transport.name} {self.sent_by};branch={self.branch};rport"',
           'return f"SIP/2.0/{self._transport.name} {self.sent_by};branch={self.branch}"',
           ("RFC 3581 §3",)),
    Mutant("V04", "RFC 3261 §18.1.1", "the Via names the transport actually used", TX,
           'return f"SIP/2.0/{self._transport.name} {self.sent_by};branch={self.branch};rport"',
           'return f"SIP/2.0/UDP {self.sent_by};branch={self.branch};rport"', ("18.1.1",)),
    Mutant("V05", "RFC 3261 §18.1.1", "requests above 1300 bytes go over TCP", TX,
           "UDP_SIZE_LIMIT = 1300", "UDP_SIZE_LIMIT = 13000", ("18.1.1",)),
    # ---- RFC 3261 §8.1.1: request construction -------------------------------------------------
    Mutant("R01", "RFC 3261 §8.1.1.6", "Max-Forwards 70", VALUES,
           "MAX_FORWARDS = 70", "MAX_FORWARDS = 69", ("8.1.1.6",)),
    Mutant("R02", "RFC 3261 §8.1.1.3", "a new From tag for each new REGISTER", CORE,
           "        self.from_tag = self.random.token(64)\n        self.interval_retries = 0",
           "        self.from_tag = self.from_tag or self.random.token(64)\n"
           "        self.interval_retries = 0", ("8.1.1.3",)),
    Mutant("R03", "RFC 3261 §8.1.1.2", "no To tag in a request outside a dialog", CORE,
           '("To", f"<{config.aor}>"),', '("To", f"<{config.aor}>;tag=1"),', ("8.1.1.2",)),
    Mutant("R04", "RFC 3261 §8.1.1.4 / §10.2", "one Call-ID for all REGISTERs to a registrar",
           CORE, "        if self.call_id is None:\n            self.call_id = ",
           "        if True:\n            self.call_id = ", ("8.1.1.4", "10.2")),
    Mutant("R05", "RFC 3261 §10.2", "CSeq + 1 for each new REGISTER", CORE,
           "        self.cseq += 1\n", "        self.cseq += 2\n", ("10.2",)),
    Mutant("R09", "RFC 3261 §22.2 / §8.1.3.5", "the answer to a challenge takes CSeq + 1 "
           "(the kept REGISTER template)", CORE,
           '    rows = (*template.before, ("CSeq", f"{plan.cseq} REGISTER"), *template.after,',
           '    rows = (*template.before,\n'
           '            ("CSeq", f"{plan.cseq - 1 if authorization else plan.cseq} REGISTER"),\n'
           '            *template.after,', ("10.2", "22")),
    Mutant("R06", "RFC 3261 §8.1.1.5", "CSeq below 2**31", CORE,
           "        if self.cseq + 1 >= 2**31:", "        if self.cseq + 1 >= 2**32:",
           ("8.1.1.5",),
           equivalent="the transaction layer parses the CSeq of every request it is given "
                      "(sipfsm/transaction.py send_request -> parse_cseq) and refuses 2**31 "
                      "with the same LocalProtocolError, so nothing reaches the wire either "
                      "way; R08 breaks the guard where it is the only defence"),
    Mutant("R07", "RFC 3261 §8.1.1.9", "Supported lists only extensions the UAC implements",
           CORE, "    if SUPPORTED_OPTION_TAGS:\n",
           '    items.append(("Supported", "path"))\n    if SUPPORTED_OPTION_TAGS:\n',
           ("8.1.1.9",)),
    Mutant("R08", "RFC 3261 §8.1.1.5 / §20.16", "a CSeq number of 2**31 or more is not valid",
           PARSE_VALUES, "    if len(number) > 10 or int(number) > MAX_CSEQ:",
           "    if len(number) > 10:", ("20.16",)),
    # ---- RFC 3261 §10.2: registration ----------------------------------------------------------
    Mutant("G01", "RFC 3261 §10.2.2", "a removal carries Expires: 0", CORE,
           "    if plan.expires is not None:\n        after.append((\"Expires\"",
           "    if plan.expires:\n        after.append((\"Expires\"", ("10.2",)),
    Mutant("G02", "RFC 3261 §10.2.2", "'*' only alone", CORE,
           '        after.append(("Contact", "*"))',
           '        after.append(("Contact", "*"))\n'
           '        after.append(("Contact", f"<{config.aor}>"))', ("10.2.2",)),
    Mutant("G03", "RFC 3261 §10.2.4 / §19.1.4", "our expiry is our own contact's", CLASSIFY,
           "        if isinstance(contact.uri, SipUri) and uri_equal(contact.uri, ours):",
           "        if isinstance(contact.uri, SipUri):", ("10.2.1", "10.2.4")),
    Mutant("G04", "RFC 3261 §10.2.1", "refresh before the granted expiry", VALUES,
           "        base = max(base, expiry / 2)\n", "        base = expiry * 1.1\n",
           ("10.2.1",)),
    Mutant("G05", "RFC 3261 §10.2.8", "423: retry with at least Min-Expires", CORE,
           "        self.expires = self.input.min_expires\n",
           "        self.expires = self.expires\n", ("10.2.8",)),
    Mutant("G06", "RFC 3261 §10.2.8", "423 retries are bounded (no loop)", CORE,
           "                or self.interval_retries >= self.config.max_interval_retries)",
           "                or False)", ("10.2.8",)),
    Mutant("G07", "RFC 3261 §10.2.4", "refreshes carry only our own contacts", CLASSIFY,
           "    mine = (*asked.contacts, *asked.mine)",
           "    mine = tuple(c.uri for c in contacts if isinstance(c.uri, SipUri))",
           ("10.2.4",)),
    Mutant("G08", "RFC 3261 §10.2", "a 200 that does not list our contact is no registration",
           CLASSIFY, "            if expiry is None or expiry <= 0:",
           "            if expiry is not None and expiry <= 0:", ("10.2.1",)),
    Mutant("G10", "RFC 3261 §10.2.4 / §19.1.4",
           "the usual 200's one contact is ours only when it is our contact", CLASSIFY,
           "    end = len(ours) + 1\n"
           "    if not (row.startswith(\"<\") and row.startswith(ours, 1)\n",
           "    end = row.find(\">\")\n    if not (row.startswith(\"<\")\n", ("10.2.1",)),
    Mutant("G09", "RFC 3261 §22.4 / §10.2", "digest uri = the Request-URI (not the AOR)", REG,
           "                                                               str(plan.request_uri))",
           "                                                               str(self.config.aor))",
           ("22.4", "8.1.3.5")),
    # ---- RFC 3261 §8.1.3, §21.5, RFC 5626 §4.5: outcomes ---------------------------------------
    Mutant("O01", "RFC 3261 §8.1.3.2", "an unknown final is treated as its x00", CLASSIFY,
           "    return status if status in KNOWN_STATUS_CODES else (status // 100) * 100",
           "    return status", ("8.1.3.2",)),
    Mutant("O02", "RFC 3261 §8.1.3.4", "redirect targets in decreasing q", CLASSIFY,
           "key=lambda ic: (-(ic[1].q if ic[1].q is not None else 1.0), ic[0]))",
           "key=lambda ic: ((ic[1].q if ic[1].q is not None else 1.0), ic[0]))",
           ("8.1.3.4",)),
    Mutant("O03", "RFC 3261 §21.5.1 / §21.5.4", "Retry-After never shorter than the backoff",
           CORE, "            delay = max(backoff, min(retry_after, self.config.max_retry_after))",
           "            delay = min(retry_after, self.config.max_retry_after)", ("21.5",)),
    Mutant("O04", "RFC 3261 §10.2.7 / RFC 5626 §4.5", "back off after a failure", CORE,
           "        backoff = self.config.backoff.delay(self.failures, self.random)\n",
           "        backoff = 0.0\n", ("10.2.7", "RFC 5626 §4.5")),
    Mutant("O05", "RFC 5626 §4.5", "a 2xx resets the failure count", CORE,
           "            self.failures = 0\n", "            pass\n", ("RFC 5626 §4.5",)),
    Mutant("O06", "RFC 3261 §21.5.4", "no request to a 503 Retry-After server meanwhile", CORE,
           "            until = self.now + min(response.retry_after, self.config.max_retry_after)",
           "            until = self.now", ("21.5.4",)),
    Mutant("O07", "RFC 3261 §8.1.3.1 / RFC 3263 §4.3", "on 503/408/timeout: the next target",
           CORE, "    def has_next_target(self) -> bool:\n        return any(",
           "    def has_next_target(self) -> bool:\n        return False and any(",
           ("8.1.3.1", "RFC 3263 §4.3")),
    # ---- RFC 3261 §22 / RFC 7616: Digest -------------------------------------------------------
    Mutant("D01", "RFC 7616 §3.4.1", "A2 = Method \":\" request-uri", DIGEST,
           '    return algorithm.h(f"{method}:{uri}")\n',
           '    return algorithm.h(f"{method}:{uri}:")\n', ("22", "RFC 7616 §3.4")),
    Mutant("D02", "RFC 7616 §3.4.2", "A1 = username \":\" realm \":\" password", DIGEST,
           '    return algorithm.h(f"{username}:{realm}:{password}")',
           '    return algorithm.h(f"{username}:{realm}{password}")', ("22", "RFC 7616 §3.4")),
    Mutant("D03", "RFC 7616 §3.4.2", "-sess: H(A1) takes the nonce and cnonce", DIGEST,
           '    return algorithm.h(f"{ha1}:{nonce}:{cnonce}")',
           '    return algorithm.h(f"{ha1}:{cnonce}:{nonce}")', ("RFC 7616 §3.4",)),
    Mutant("D04", "RFC 7616 §3.4", "nc is 8 lower-case hex digits", CLIENT,
           '        nc_text = f"{nc:08x}"', '        nc_text = f"{nc:08d}"',
           ("RFC 7616 §3.4",)),
    Mutant("D05", "RFC 7616 §3.4", "the cnonce has enough entropy (>= 96 bits here)", CLIENT,
           "CNONCE_BITS = 96", "CNONCE_BITS = 24", ("RFC 7616 §3.4",)),
    Mutant("D06", "RFC 7616 §3.3", "opaque comes back unchanged", CLIENT,
           '            parts.append(f", opaque={quote(opaque)}")',
           '            parts.append(f", opaque={quote(opaque.upper())}")',
           ("RFC 7616 §3.3",)),
    Mutant("D07", "RFC 3261 §22.4 / RFC 7616 §3.4", "the digest covers the qop, nc and cnonce",
           CLIENT, 'f"{key.reveal()}:{self.nonce}:{nc_text}:{cnonce}:{qop}:{ha2_hex}".encode())',
           'f"{key.reveal()}:{self.nonce}:{cnonce}:{nc_text}:{qop}:{ha2_hex}".encode())',
           ("22", "RFC 7616 §3.4")),
    Mutant("D08", "RFC 7616 §3.4.4", "userhash = H(username \":\" realm)", DIGEST,
           '    return algorithm.h(f"{username}:{realm}")',
           '    return algorithm.h(f"{realm}:{username}")', ("RFC 7616 §3.4",)),
    Mutant("D09", "RFC 3261 §22.4 / RFC 7616 §3.4", "qop: auth when offered", CHALLENGE,
           '        if "auth" in usable:\n            return "auth"',
           '        if "auth" in usable and len(usable) == 1:\n            return "auth"',
           ("22", "RFC 7616 §3.4")),
    Mutant("D10", "RFC 7616 §3.4.3", "auth-int: A2 hashes the entity body", DIGEST,
           '        return algorithm.h(f"{method}:{uri}:{algorithm.hash(body)}")',
           '        return algorithm.h(f"{method}:{uri}:{algorithm.hash(b\'\')}")',
           ("RFC 7616 §3.4",)),
    Mutant("D11", "RFC 8760 §3", "a first challenge's short way honours the local algorithm policy",
           CLIENT, "                if spec is not None and spec.name in self.algorithms:\n"
           "                    realm = challenge.realm",
           "                if spec is not None:\n                    realm = challenge.realm",
           ("RFC 8760 §3",)),
    Mutant("D12", "RFC 7616 §3.3 / RFC 3261 §22.1", "a challenge of a shape already read is "
           "answered with its own nonce", CHALLENGE,
           "                return Challenge(shape.scheme, shape.realm, nonce, shape.opaque,",
           "                return Challenge(shape.scheme, shape.realm, shape.nonce, shape.opaque,",
           ("22", "RFC 7616 §3.3")),
    # ---- RFC 3261 §19.1.4 URI comparison (used to find our binding in the 200) -----------------
    Mutant("U01", "RFC 3261 §19.1.4", "a port present in only one URI makes them differ", URI,
           "    if a.scheme != b.scheme or a.port != b.port:",
           "    if a.scheme != b.scheme or (a.port or 5060) != (b.port or 5060):",
           ("19.1.4", "10.2.1")),
    # ---- HAUD: the audit (sipfsm/audit/**) judging OTHER clients' traffic ---------------------
    # `sipfsm conformance` checks sipfsm's own client and never runs the audit, so these are
    # judged by the audit's tests (judged_by): killed when tests/audit fails on the mutant.
    Mutant("A01", "RFC 3261 §8.1.1.7", "the branch begins with exactly \"z9hG4bK\"",
           "sipfsm/audit/rules.py",
           "if t.branch and not t.branch.startswith(MAGIC_COOKIE):",
           "if t.branch and not t.branch.lower().startswith(MAGIC_COOKIE.lower()):",
           judged_by=AUDIT_TESTS),
    Mutant("A02", "RFC 3261 §8.1.1.5", "CSeq MUST be less than 2**31", "sipfsm/audit/rules.py",
           "    if t.cseq >= MAX_CSEQ:", "    if t.cseq > MAX_CSEQ:", judged_by=AUDIT_TESTS),
    Mutant("A03", "RFC 3261 §8.1.1.6", "Max-Forwards SHOULD be 70 (not: at least 70)",
           "sipfsm/audit/rules.py",
           '    if value is not None and value.strip() != "70":',
           '    if value is not None and value.strip().isdigit() and int(value) < 70:',
           judged_by=AUDIT_TESTS),
    Mutant("A04", "RFC 3261 §17.1.2.2", "Timer E doubles (MIN(2*T1, T2) ...), not + T1",
           "sipfsm/audit/rules.py", "            interval = min(2 * interval, T2)",
           "            interval = min(interval + T1, T2)", judged_by=AUDIT_TESTS),
    Mutant("A05", "RFC 3261 §17.1.2.2", "Timer F = 64*T1", "sipfsm/audit/rules.py",
           "TIMER_F = 64 * T1", "TIMER_F = 32 * T1", judged_by=AUDIT_TESTS),
    Mutant("A06", "RFC 3261 §17.1.2.2", "Completed: no retransmission after the final response",
           "sipfsm/audit/rules.py", "and s.time - final[0].time < 0.01)]",
           "and s.time - final[0].time < 1.0)]", judged_by=AUDIT_TESTS),
    Mutant("A07", "RFC 3261 §10.2", "CSeq incremented BY ONE for each REGISTER of a Call-ID",
           "sipfsm/audit/rules.py",
           "    if t.cseq != previous.cseq + 1:\n        yield _hit(reg, f\"CSeq {t.cseq} follows",
           "    if t.cseq <= previous.cseq:\n        yield _hit(reg, f\"CSeq {t.cseq} follows",
           judged_by=AUDIT_TESTS),
    Mutant("A08", "RFC 3261 §10.2", "no new REGISTER before the final response OR the timeout "
           "(Timer F)", "sipfsm/audit/rules.py",
           "now - start < TIMER_F - IN_FLIGHT_SLACK:", "now - start < T2:",
           judged_by=AUDIT_TESTS),
    Mutant("A09", "RFC 3261 §21.5.4", "Retry-After of a 503 holds off every REGISTER to that "
           "registrar (any Call-ID)", "sipfsm/audit/rules.py",
           "    for other in _all_registrations_of(ctx, reg):\n        for earlier in "
           "other.transactions:\n            final = earlier.final\n            if final is None "
           "or final[1].status != 503",
           "    for other in [reg]:\n        for earlier in "
           "other.transactions:\n            final = earlier.final\n            if final is None "
           "or final[1].status != 503", judged_by=AUDIT_TESTS),
    Mutant("A10", "RFC 3261 §10.2.8 / §10.2.1.1", "after 423, each contact's expiry (its expires "
           "param before the Expires header) >= Min-Expires", "sipfsm/audit/rules.py",
           "        expiry = _contact_expiry(contact, t.request)\n        if expiry is not None "
           "and 0 < expiry < minimum:",
           "        expiry = _header_expires(t.request)\n        if expiry is not None "
           "and 0 < expiry < minimum:", judged_by=AUDIT_TESTS),
    Mutant("A11", "RFC 7616 §3.3 / RFC 2617 §3.2.1", "stale=TRUE is case-insensitive",
           "sipfsm/audit/rules.py", 'if (_value(p, "stale") or "").lower() == "true"',
           'if (_value(p, "stale") or "") == "true"', judged_by=AUDIT_TESTS),
    Mutant("A12", "RFC 7616 §3.4", "nc counts up: the same nc with the same nonce is a reuse",
           "sipfsm/audit/rules.py", "if counts and int(nc, 16) <= max(counts):",
           "if counts and int(nc, 16) < max(counts):", judged_by=AUDIT_TESTS),
    Mutant("A13", "RFC 7616 §3.3", "qop in a challenge is a comma-separated LIST of options",
           "sipfsm/audit/rules.py",
           '        offered = [q.strip() for q in offered_text.split(",") if q.strip()]',
           "        offered = [offered_text.strip()]", judged_by=AUDIT_TESTS),
    Mutant("A14", "RFC 7616 §3.4", "qop is a token in credentials (not quoted)",
           "sipfsm/audit/rules.py", '    never_quote = ("algorithm", "qop", "nc")',
           '    never_quote = ("algorithm", "nc")', judged_by=AUDIT_TESTS),
    Mutant("A15", "RFC 7616 §3.4", "opaque is a quoted-string in credentials",
           "sipfsm/audit/rules.py",
           '    must_quote = ("username", "realm", "nonce", "response", "cnonce", "opaque")',
           '    must_quote = ("username", "realm", "nonce", "response", "cnonce")',
           judged_by=AUDIT_TESTS),
    Mutant("A16", "RFC 3261 §22.3", "a 407 is answered in Proxy-Authorization, a 401 in "
           "Authorization", "sipfsm/audit/rules.py",
           '    offered = {(answer, _value(p, "realm")) for answer, p in _challenges(final[1])}\n'
           '    given = {(name, _value(p, "realm"))',
           '    offered = {("", _value(p, "realm")) for answer, p in _challenges(final[1])}\n'
           '    given = {("", _value(p, "realm"))', judged_by=AUDIT_TESTS),
    Mutant("A17", "RFC 2617 §3.2.2.5 / RFC 3261 §19.1.4", "digest-uri = the Request-URI (an "
           "equal URI written otherwise is the same)", "sipfsm/audit/rules.py",
           "                same = uri_equal(parse_uri(uri), t.request.uri)",
           "                same = parse_uri(uri) is t.request.uri", judged_by=AUDIT_TESTS),
    Mutant("A18", "RFC 3261 §22 / RFC 2617 §1.2", "Basic is forbidden whatever the scheme's case",
           "sipfsm/audit/rules.py", '        if scheme.lower() == "basic":',
           '        if scheme == "Basic":', judged_by=AUDIT_TESTS),
    Mutant("A19", "RFC 7616 §3.4.2", "-sess: H(A1) = H(H(user:realm:pw) : nonce : cnonce)",
           "sipfsm/audit/digest_ref.py", """        ha1 = h(f"{ha1}:{nonce}:{cnonce or ''}")""",
           """        ha1 = h(f"{ha1}:{cnonce or ''}:{nonce}")""", judged_by=AUDIT_TESTS),
    Mutant("A20", "RFC 7616 §3.4.3", "auth-int: A2 = Method:uri:H(entity-body)",
           "sipfsm/audit/digest_ref.py", '        ha2 = h(f"{method}:{uri}:{body_hash}")',
           '        ha2 = h(f"{method}:{uri}")', judged_by=AUDIT_TESTS),
    Mutant("A21", "capture reader (TCP)", "a TCP retransmission overlapping new data keeps the "
           "new bytes", "sipfsm/audit/readers.py",
           "            if overlap >= len(payload):\n                return []",
           "            if overlap >= 0:\n                return []", judged_by=AUDIT_TESTS),
    Mutant("A22", "report / CLI exit", "a MUST NOT violated is as fatal as a MUST (exit 1)",
           "sipfsm/audit/model.py", 'MUST_LEVELS = ("MUST", "MUST NOT")', 'MUST_LEVELS = ("MUST",)',
           judged_by=AUDIT_TESTS),
    Mutant("A23", "capture reader (Linux cooked v2)", "SLL2 frames are read with their own "
           "20-byte header", "sipfsm/audit/readers.py",
           "            ip = dpkt.sll2.SLL2(packet).data",
           "            ip = dpkt.sll.SLL(packet).data", judged_by=AUDIT_TESTS),
    Mutant("A24", "RFC 3261 §17.1.2.2", "Timer E runs over UDP only (not over TLS/SCTP either)",
           "sipfsm/audit/rules.py",
           '    if t.transport != "UDP" or t.start is None:\n        return\n    final = t.final',
           '    if t.transport == "TCP" or t.start is None:\n        return\n    final = t.final',
           judged_by=AUDIT_TESTS),
    Mutant("A25", "RFC 3261 §18.1.1", "over 1300 bytes (path MTU unknown) -> TCP; not the "
           "1500-byte Ethernet MTU", "sipfsm/audit/rules.py",
           "UDP_SIZE_LIMIT = 1300", "UDP_SIZE_LIMIT = 1500", judged_by=AUDIT_TESTS),
    # ---- HREG: registration client (RFC 3261 §10, §8.1 for REGISTER, 423, 3xx, 5xx +
    # Retry-After, unregister, refresh timing; RFC 3327 / 5627 / 5626 as REGISTER uses them) -----
    Mutant("G20", "RFC 3261 §22.2 / §8.1.3.5", "every REGISTER challenged is answered with "
           "credentials (the bound on answers is per request, not per client lifetime)", CORE,
           "        self.challenge_retries = 0\n        self.contact_missing = 0\n",
           "        self.contact_missing = 0\n", ("22", "8.1.3.5")),
    Mutant("G21", "RFC 3261 §10.2.1 / §10.2.4", "refresh before the SHORTEST granted expiry of "
           "our contacts", CORE,
           "        shortest = min([granted for _, _, granted in self.bound])\n"
           "        self.out.append(StartTimer(",
           "        shortest = max([granted for _, _, granted in self.bound])\n"
           "        self.out.append(StartTimer(", ("10.2.1",)),
    Mutant("G22", "RFC 3261 §10.2.4 / §20.19", "a contact without an expires parameter takes "
           "the 200's Expires header", CLASSIFY,
           "            return header if header is not None else asked\n",
           "            return asked\n", ("10.2.1", "10.2.4")),
    Mutant("G23", "RFC 3261 §10.2.1.1 / §10.2.4", "no expiry in the 200: the interval asked for, "
           "not a default", CLASSIFY,
           "            return header if header is not None else asked\n",
           "            return header if header is not None else 3600\n", ("10.2.1", "10.2.4")),
    Mutant("G24", "RFC 3261 §10.2.2 / §10.3 step 8", "the usual 200 granting expires=0 to our "
           "contact holds no binding of ours (short way = general way)", CLASSIFY,
           '    if expiry is None or expiry <= 0 or "gruu" in row.lower():',
           '    if expiry is None or expiry < 0 or "gruu" in row.lower():', ("10.2.1",)),
    Mutant("G25", "RFC 3261 §7.3.1 / §10.2.4", "several Contact rows are one list: the short "
           "way only for a 200 with one row of each name", CLASSIFY,
           "    if (first is None or headers._multi is not None or asked.kind is not "
           "_REGISTER_KIND",
           "    if (first is None or asked.kind is not _REGISTER_KIND", ("10.2.1", "10.2.4")),
    Mutant("G26", "RFC 3261 §20.33", "Retry-After's delay is its delta-seconds, not the "
           ";duration parameter", CLASSIFY,
           "    return value.seconds if value is not None else None\n",
           "    return (value.duration or value.seconds) if value is not None else None\n",
           ("21.5",)),
    Mutant("G27", "RFC 3261 §8.1.3.2 / §21.5", "an unknown 5xx is a 500 (transient: retried)",
           CLASSIFY, "        if effective in TRANSIENT_STATUS:",
           "        if status in TRANSIENT_STATUS:", ("8.1.3.2",)),
    Mutant("G28", "RFC 3261 §10.2", "CSeq + 1 for each REGISTER with the same Call-ID, a "
           "redirected one too", CORE,
           "        self.redirect_index += 1\n        self.registrar_uri = ",
           "        self.redirect_index += 1\n        self.cseq = 0\n        self.registrar_uri = ",
           ("10.2", "8.1.3.4")),
    Mutant("G29", "RFC 3261 §8.1.3.4", "the redirected request reuses To, From (tag) and "
           "Call-ID", CORE,
           "        self.redirect_index += 1\n        self.registrar_uri = ",
           "        self.redirect_index += 1\n        self.from_tag = self.random.token(64)\n"
           "        self.registrar_uri = ", ("8.1.3.4",)),
    Mutant("G30", "RFC 3261 §8.1.3.4", "copy the entire target URI but method-param and headers",
           CLASSIFY, 'params=Params((k, v) for k, v in uri.params.items() if k != "method"))',
           "params=Params(uri.params.items()))", ("8.1.3.4",)),
    Mutant("G31", "RFC 3261 §8.1.3.4 / §19.1.4", "a sips: target is copied whole (never "
           "downgraded to sip:)", CLASSIFY,
           '        if not isinstance(uri, SipUri) or uri.scheme != "sip" or uri.user',
           '        if not isinstance(uri, SipUri) or uri.user', ("8.1.3.4",)),
    Mutant("G32", "RFC 3261 §10.2.2", "Contact: * removes every binding, ours included (no "
           "refresh afterwards)", CORE,
           "        if intent.remove_all:\n            return ()\n",
           "        if intent.remove_all:\n            return self.bound\n", ("10.2.2",)),
    Mutant("G33", "RFC 3261 §10.2.8 / §20.23", "after a 423, later REGISTERs (refreshes) ask "
           "for at least Min-Expires", CORE,
           "        self._begin(Intent(_REGISTER_KIND, contacts=self.contacts))",
           "        self._begin(Intent(_REGISTER_KIND, contacts=self.contacts,\n"
           "                           expires=self.config.expires))", ("10.2.8",)),
    Mutant("G34", "RFC 5626 §4.5", "the wait is between 50 % and 100 % of wait-time", VALUES,
           "        return random.uniform(upper / 2, upper)",
           "        return random.uniform(0.0, upper)", ("RFC 5626 §4.5",)),
    Mutant("G35", "RFC 5626 §4.5", "wait-time = min(max-time, base-time * 2^consecutive-"
           "failures), the first failure counting 1", CORE,
           "        backoff = self.config.backoff.delay(self.failures, self.random)\n",
           "        backoff = self.config.backoff.delay(self.failures - 1, self.random)\n",
           ("RFC 5626 §4.5",)),
    Mutant("G36", "RFC 3261 §8.1.3.5 / §22.2", "the answer to a challenge keeps From (tag), "
           "To and Call-ID", CORE,
           "        self.challenge_retries += 1\n",
           "        self.challenge_retries += 1\n        self.from_tag = self.random.token(64)\n",
           ("8.1.3.5", "22")),
    Mutant("G37", "RFC 3261 §18.1.1 / §19.1.1", "a contact reached over TCP says "
           ";transport=tcp", CORE,
           '        params = EMPTY_PARAMS if name == "udp" else',
           '        params = EMPTY_PARAMS if name in ("udp", "tcp") else', ("10.2.1",)),
    Mutant("G38", "RFC 3261 §10.2.4 / §8.1.3.4", "refreshes keep the Request-URI a 3xx gave "
           "(the registrar that holds the binding)", CORE,
           "        self.redirect_set = _one(self.registrar_uri)\n",
           "        self.registrar_uri = self._configured_registrar()\n"
           "        self.redirect_set = _one(self.registrar_uri)\n", ("10.2.4",)),
    Mutant("G39", "RFC 3261 §10.2.1.2 / §25.1", "a contact's q goes on the wire as a qvalue "
           "(at most three decimals, no exponent)", CORE,
           '    return f"{q:.3f}".rstrip("0").rstrip(".")',
           '    return f"{q:.3g}"', ("10.2.1",)),
    Mutant("G40", "RFC 3261 §10.2", "To is the AOR registered, From the one responsible "
           "(a third-party registration keeps them apart)", CORE,
           '        ("To", f"<{config.aor}>"),\n',
           '        ("To", f"<{from_uri}>"),\n', ("10.2",)),
    Mutant("O20", "RFC 3327 §5.1", "the Path of the 200 is reported (the short way too)",
           CLASSIFY, '"Authentication-Info", "Path",', '"Authentication-Info",',
           ("RFC 3327",)),
    Mutant("O21", "RFC 5627 §4.1", "the GRUUs are those of OUR binding (by contact or "
           "+sip.instance)", "sipfsm/outbound/registration.py",
           "        if not mine and (instance is None or _instance_of(contact) != instance):\n",
           "        if False:\n", ("RFC 5627",)),
    Mutant("O22", "RFC 5627 §4.1", "pub-gruu and temp-gruu are told apart",
           "sipfsm/outbound/registration.py",
           '        pub = pub or _unquote(contact.params.get("pub-gruu"))',
           '        pub = pub or _unquote(contact.params.get("temp-gruu"))', ("RFC 5627",)),
    Mutant("O23", "RFC 3327 §5.1", "the Path values in the order the 200 lists them",
           "sipfsm/outbound/registration.py",
           "            path = tuple(str(p.uri) for p in response.paths)",
           "            path = tuple(reversed([str(p.uri) for p in response.paths]))",
           ("RFC 3327",)),
    Mutant("O24", "RFC 5626 §4.2 / RFC 5627 §4.1", "+sip.instance is the URN in angle "
           "brackets inside a quoted string", "sipfsm/outbound/registration.py",
           "    text = f';+sip.instance=\"<{instance}>\"'",
           "    text = f';+sip.instance=\"{instance}\"'", ("RFC 5626",)),
    Mutant("O25", "RFC 5626 §4.2 / RFC 5627 §4.1", "a REGISTER removing our binding carries "
           "its +sip.instance (and reg-id) too", CORE,
           '        after.extend(("Contact", f"<{uri}>{instance}") for uri in contacts)',
           '        after.extend(("Contact", f"<{uri}>") for uri in contacts)', ("RFC 5626",)),
    # ---- HTXN: transaction, transport, DNS, outbound flows, generated dispatch (sipfsm/fsm.py) --
    # RFC 3261 §17.1.2.2 / §17.1.4 / §18.1.1: the transaction and its transport errors
    Mutant("T20", "RFC 3261 §18.1.1 / §17.1.4", "a request that fell back from TCP to UDP is "
           "no longer 'moved to TCP': a UDP transport error then informs the TU", TXCORE,
           "        self.moved_to_tcp = False\n        self.reliable = False\n",
           "        self.reliable = False\n", ("18.1.1", "17.1.4")),
    Mutant("T21", "RFC 3261 §17.1.4 / §18.4", "a transport error for a destination fails the "
           "transactions sending there (host AND port)", TX,
           "            if (t.transport.upper(), t.host.lower(), t.port) == key and",
           "            if (t.transport.upper(), t.host.lower()) == key[:2] and",
           ("17.1.4",)),
    Mutant("T22", "RFC 3261 §17.1.4 / §18.1.1", "a transport error over TCP does not fail the "
           "transaction that now sends over UDP (after the size fall-back)", TX,
           "            if (t.transport.upper(), t.host.lower(), t.port) == key and",
           "            if (t.host.lower(), t.port) == key[1:] and", ("17.1.4", "18.1.1")),
    Mutant("T23", "RFC 3261 §18.1.1 / §17.1.2.2", "after the UDP fall-back the transaction is "
           "over an unreliable transport (Completed: Timer K = T4)", TXCORE,
           "        self.moved_to_tcp = False\n        self.reliable = False\n",
           "        self.moved_to_tcp = False\n", ("18.1.1", "17.1.2")),
    Mutant("T24", "RFC 3261 §17.1.2.2", "Completed: retransmissions of the final response are "
           "absorbed, not passed to the TU", TXCORE,
           '    {"trigger": "final", "source": COMPLETED, "dest": None},',
           '    {"trigger": "final", "source": COMPLETED, "dest": None, "after": "_pass_final"},',
           ("17.1.2",)),
    Mutant("T25", "RFC 3261 §18.1.1", "a request moved to TCP for its size goes to the same "
           "host and port", TX,
           '        target = Target("TCP", tx.target.host, tx.target.port)',
           '        target = Target("TCP", tx.target.host, 5060)', ("18.1.1",)),
    # RFC 3261 §17.1.3 / §18.1.2 / §8.1.3.3 / RFC 3581: matching responses
    Mutant("M20", "RFC 3261 §17.1.3 / §20.16", "the CSeq method must match the request's; "
           "the method part of CSeq is case-sensitive", TX,
           "        if tx is None or cseq is None or cseq.method != tx.method:",
           "        if tx is None or cseq is None or cseq.method.upper() != tx.method.upper():",
           ("17.1.3",)),
    Mutant("M21", "RFC 3261 §18.1.2", "a sent-by is ours only with our port too", TX,
           "            if mine.port == port and (mine.host == via.host or "
           "_same_host(mine.host, via.host)):",
           "            if mine.host == via.host or _same_host(mine.host, via.host):",
           ("18.1.2",)),
    Mutant("M22", "RFC 3261 §18.1.1 / §18.1.2", "a sent-by without a port means 5061 for TLS "
           "(5060 for UDP, TCP, SCTP)", TX,
           '    return 5061 if via.transport == "TLS" else 5060  # §18.1.1 default ports',
           '    return 5060  # §18.1.1 default ports', ("18.1.1", "18.1.2")),
    Mutant("M23", "RFC 3581 §4 / RFC 3261 §18.1.2", "the sent-by check reads the sent-by port, "
           "not the rport the server filled in", TX,
           "        port = via.port\n        if port is None:\n            port = _via_port(via)",
           "        port = via.rport or via.port\n        if port is None:\n"
           "            port = _via_port(via)", ("18.1.2", "RFC 3581 §4")),
    Mutant("M24", "RFC 3261 §8.1.3.3", "more than one Via *value* (two in one row too) is "
           "discarded", TX, "        if len(vias) > 1:",
           '        if len(message.headers.get_lines("Via")) > 1:', ("8.1.3.3",)),
    Mutant("M25", "RFC 3261 §18.1.2", "a response matched by branch is still discarded when "
           "its sent-by is not ours", TX,
           "        if tx is not None:\n            mine = tx.sent_by\n",
           "        if tx is not None:\n            return True\n            mine = tx.sent_by\n",
           ("18.1.2",)),
    Mutant("M26", "RFC 3261 §18.1.2 / §7.3.1", "a sent-by host name is compared "
           "case-insensitively", TX,
           "def _same_host(a: str, b: str) -> bool:\n    if a.lower() == b.lower():",
           "def _same_host(a: str, b: str) -> bool:\n    if a == b:", ("18.1.2",)),
    # RFC 3261 §18.1.1 / §8.1.1.7 / RFC 3581 §3: the Via the client inserts
    Mutant("V20", "RFC 3261 §18.1.1", "the size rule measures the request as sent (top Via "
           "included)", TX,
           "        if len(tx._data) > self.udp_size_limit:\n"
           "            tx = self._apply_size_rule",
           "        if len(request.to_bytes()) > self.udp_size_limit:\n"
           "            tx = self._apply_size_rule", ("18.1.1",)),
    Mutant("V21", "RFC 3581 §3", "the client's rport has no value", TX,
           'return f"SIP/2.0/{self._transport.name} {self.sent_by};branch={self.branch};rport"',
           'return f"SIP/2.0/{self._transport.name} {self.sent_by};branch={self.branch};'
           'rport={self.sent_by.port}"', ("RFC 3581 §3",)),
    Mutant("V22", "RFC 3261 §18.1.1", "moved to another transport, the top Via's sent-by is "
           "that transport's", TX,
           "        self.sent_by = transport.local_address()\n",
           "        self.sent_by = next(iter(self._layer._transports.values())).local_address()\n",
           ("18.1.1",)),
    # RFC 3263 §4.1-§4.2 / RFC 2782 / RFC 3403: locating the registrar
    Mutant("N01", "RFC 2782 (Usage rules)", "select the first RR whose running sum is greater "
           "than OR EQUAL to the random number", "sipfsm/aio/resolver.py",
           "                if running >= pick:", "                if running > pick:",
           ("RFC 2782 (Usage rules, Weight)",)),
    Mutant("N02", "RFC 2782 (Usage rules)", "weight-0 records are placed at the beginning of "
           "the list", "sipfsm/aio/resolver.py",
           "        unordered = [r for r in group if r.weight == 0] + "
           "[r for r in group if r.weight != 0]",
           "        unordered = [r for r in group if r.weight != 0] + "
           "[r for r in group if r.weight == 0]", ("RFC 2782 (Usage rules, Weight)",)),
    Mutant("N03", "RFC 3263 §4.1 / RFC 3403 §4.1", "NAPTR flags are case-insensitive ('S' is "
           "'s')", "sipfsm/aio/resolver.py",
           '        if record.flags.lower() != "s" or record.regexp:',
           '        if record.flags != "s" or record.regexp:', ("RFC 3263 §4.1",)),
    Mutant("N04", "RFC 3263 §4.1 / RFC 3403", "NAPTR: the lowest order first, preference only "
           "within an order", "sipfsm/aio/resolver.py",
           "    chosen = [(record, transport) for record, transport in usable "
           "if record.order == lowest]",
           "    chosen = list(usable)", ("RFC 3263 §4.1",)),
    Mutant("N05", "RFC 3263 §4.1", "a numeric TARGET (or a name with a port) without a "
           "transport parameter: UDP for a SIP URI", "sipfsm/aio/resolver.py",
           '        fallback = "TLS" if secure else ("UDP" if "UDP" in self.transports '
           'else self.transports[0])',
           '        fallback = "TLS" if secure else self.transports[0]', ("RFC 3263 §4.1",)),
    Mutant("N06", "RFC 3263 §4.2", "a name with an explicit port (even 5060) is looked up "
           "with A/AAAA only", "sipfsm/aio/resolver.py",
           "        if port is not None:\n            return await self._address_targets(host, "
           "port, chosen)",
           "        if port not in (None, 5060):\n            return await "
           "self._address_targets(host, port, chosen)", ("RFC 3263 §4.2",)),
    Mutant("N07", "RFC 3263 §4.1 / RFC 3261 §26.2.2", "a SIPS URI with transport=tcp is "
           "resolved for TLS over TCP", "sipfsm/aio/resolver.py",
           '            if name in ("TCP", "TLS"):', '            if name == "TLS":',
           ("RFC 3263 §4.1",)),
    Mutant("N08", "RFC 2782 (Usage rules)", "a uniform random number between 0 and the sum "
           "(inclusive): one of the integers 0..sum, so a weight-0 record can come first",
           "sipfsm/aio/resolver.py",
           "            pick = min(total, int(random.uniform(0, total + 1))) if total > 0 else 0",
           "            pick = random.uniform(0, total) if total > 0 else 0",
           ("RFC 2782 (Usage rules, Weight)",)),
    # ---- HSEC: TLS server identity (RFC 5922 §7, RFC 3261 §26.3.1), RFC 5626 keep-alives and
    # flow recovery on the transports, the STUN codec (RFC 5389) --------------------------------
    Mutant("S01", "RFC 5922 §7.1", "the Common Name is an identity only when the certificate "
           "has no subjectAltName at all (not beside its sip: URIs)", TLS,
           "    if uri_identities:\n        return tuple(uri_identities)\n",
           "    if uri_identities:\n        return tuple(uri_identities) + "
           "tuple(_common_names(cert))\n", ("RFC 5922 §7",)),
    Mutant("S02", "RFC 5922 §7.1", "a sip: URI with a user part identifies a user, never the "
           "domain", TLS,
           '    if not colon or scheme.lower() != "sip" or "@" in rest:',
           '    if not colon or scheme.lower() != "sip":', ("RFC 5922 §7",)),
    Mutant("S03", "RFC 5922 §7.1 / RFC 3261 §19.1.4", "the URI scheme 'sip' is matched "
           "case-insensitively (SIP:example.com is a sip URI)", TLS,
           '    if not colon or scheme.lower() != "sip" or "@" in rest:',
           '    if not colon or scheme != "sip" or "@" in rest:', ("RFC 5922 §7",)),
    Mutant("S04", "RFC 5922 §7.1", "if the scheme of the URI is not 'sip' the value is not "
           "an identity (sips: neither)", TLS,
           '    if not colon or scheme.lower() != "sip" or "@" in rest:',
           '    if not colon or scheme.lower() not in ("sip", "sips") or "@" in rest:',
           ("RFC 5922 §7",)),
    Mutant("S05", "RFC 5922 §7.1", "dNSName entries are identities if and only if no sip: "
           "URI identity is found (the client's behaviour before this session)", TLS,
           "    if uri_identities:\n        return tuple(uri_identities)\n"
           '    return tuple(value for kind, value in alt if kind == "DNS")',
           '    return tuple(uri_identities) + tuple(value for kind, value in alt '
           'if kind == "DNS")', ("RFC 5922 §7",)),
    Mutant("S06", "RFC 5922 §7.2", "MUST NOT match any form of wildcard ('*.' with any "
           "label)", TLS,
           "    return bool(wanted) and any(_normal(identity) == wanted for identity in "
           "identities)",
           "    return bool(wanted) and any(_normal(identity) == wanted or (_normal(identity)"
           '.startswith("*.") and wanted.endswith(_normal(identity)[1:])) '
           "for identity in identities)", ("RFC 5922 §7",)),
    Mutant("S07", "RFC 5922 §7.2", "identities are compared as a whole: no suffix match", TLS,
           "    return bool(wanted) and any(_normal(identity) == wanted for identity in "
           "identities)",
           "    return bool(wanted) and any(wanted.endswith(_normal(identity)) for identity in "
           "identities)", ("RFC 5922 §7",)),
    Mutant("S08", "RFC 5922 §7.2", "domain names are compared case-insensitively", TLS,
           '    return bare_host(name.strip()).rstrip(".").lower()',
           '    return bare_host(name.strip()).rstrip(".")', ("RFC 5922 §7",)),
    Mutant("S09", "RFC 5922 §7.3", "the server is authenticated as the SIP domain the client "
           "meant to reach, not the address DNS gave", TLS,
           "        return self.settings.server_name or target.host",
           "        return target.host", ("RFC 5922 §7",)),
    Mutant("S10", "RFC 5922 §7.3 / RFC 3261 §26.3.1", "the identity is checked on every "
           "connection the client opens, before anything is sent on it (a trusted chain "
           "alone is not enough)", TLS,
           '                check_server_identity(transport.get_extra_info("peercert"), '
           "expected)\n",
           "                pass\n", ("RFC 5922 §7",)),
    Mutant("S11", "RFC 5922 §7.1", "if and only if the subjectAltName does not appear, the "
           "Common Name may serve (not when it merely holds no sip name)", TLS,
           "    alt = _alt_names(cert)\n    if not alt:\n        return tuple(_common_names(cert))",
           "    alt = _alt_names(cert)\n"
           '    if not any(kind in ("URI", "DNS") for kind, _ in alt):\n'
           "        return tuple(_common_names(cert))", ("RFC 5922 §7",)),
    Mutant("S12", "RFC 5922 §7.3 / RFC 3261 §26.3.1", "the server's chain is always verified "
           "(a certificate is required)", TLS,
           "        context.verify_mode = ssl.CERT_REQUIRED\n",
           "        context.verify_mode = ssl.CERT_OPTIONAL\n", ("RFC 5922 §7",)),
    Mutant("S13", "RFC 5389 §15.2", "the XOR-MAPPED-ADDRESS port is XORed with the most "
           "significant 16 bits of the magic cookie", STUN,
           "        port ^= MAGIC_COOKIE >> 16", "        port ^= MAGIC_COOKIE & 0xFFFF",
           ("RFC 5389 §6", "RFC 5626 §4.4")),
    Mutant("S14", "RFC 5389 §15.2", "an IPv6 XOR-MAPPED-ADDRESS is XORed with the magic "
           "cookie followed by the 96-bit transaction id", STUN,
           '        key = int.from_bytes(struct.pack("!I", MAGIC_COOKIE) + transaction_id, '
           '"big")\n        number = int.from_bytes(raw, "big") ^ (key if xor else 0)',
           "        key = MAGIC_COOKIE << 96\n"
           '        number = int.from_bytes(raw, "big") ^ (key if xor else 0)',
           ("RFC 5389 §6", "RFC 5626 §4.4")),
    Mutant("S15", "RFC 5389 §15.2", "an IPv4 XOR-MAPPED-ADDRESS is XORed with the whole "
           "magic cookie", STUN,
           '        number = int.from_bytes(raw, "big") ^ (MAGIC_COOKIE if xor else 0)',
           '        number = int.from_bytes(raw, "big") ^ ((MAGIC_COOKIE >> 16) if xor else 0)',
           ("RFC 5389 §6", "RFC 5626 §4.4")),
    Mutant("S16", "RFC 5389 §15.2 / §12.2", "the mapped address is the XOR-MAPPED-ADDRESS; "
           "MAPPED-ADDRESS (which NAT ALGs rewrite) only when a server sends no XOR one",
           STUN, "        mapped_address=xor_mapped if xor_mapped is not None else mapped,",
           "        mapped_address=mapped if mapped is not None else xor_mapped,",
           ("RFC 5389 §6", "RFC 5626 §4.4")),
    Mutant("S17", "RFC 5389 §6", "the transaction id is 96 random bits (uniform over "
           "0 .. 2**96-1)", FLOW, "    token = random.token(96)", "    token = random.token(64)",
           ("RFC 5389 §6", "RFC 5626 §4.4")),
    Mutant("S18", "RFC 5389 §6 / RFC 5626 §4.4.2", "each keep-alive is a new STUN "
           "transaction with a new transaction id (only retransmissions repeat it)", FLOW,
           "            flow.transaction_id = _transaction_id(self._random)",
           "            flow.transaction_id = flow.transaction_id or "
           "_transaction_id(self._random)", ("RFC 5389 §6", "RFC 5626 §4.4")),
    Mutant("S19", "RFC 5626 §4.4.1", "a single CRLF back is the pong (the client does not "
           "wait for a double CRLF)", KEEPALIVE,
           "        self.crlf_run = 0\n        if self.target is not None:\n"
           "            owner._pong_received(self.target)",
           "        if self.crlf_run < len(CRLF_PING):\n            return\n"
           "        self.crlf_run = 0\n        if self.target is not None:\n"
           "            owner._pong_received(self.target)", ("RFC 5626 §4.4",)),
    Mutant("S20", "RFC 5626 §4.4 / §4.5", "a keep-alive goes on the flow's own connection; "
           "with none left the flow has failed (a ping never opens a new connection)",
           KEEPALIVE,
           "        if connection is None or not connection.usable or connection.transport is "
           "None:\n            return False\n        connection.transport.write(CRLF_PING)",
           "        if connection is None or not connection.usable or connection.transport is "
           "None:\n            self.send(CRLF_PING, Target(self.name, target.host, "
           "target.port))\n            return True\n        connection.transport.write(CRLF_PING)",
           ("RFC 5626 §4.4",)),
    Mutant("S21", "RFC 5626 §4.4", "a flow's connection closing (also an orderly close by "
           "the edge) fails the flow", KEEPALIVE,
           "        pooled = any(known is connection for known in self._connections.values())\n"
           "        super()._forget(connection)\n",
           "        super()._forget(connection)\n"
           "        pooled = any(known is connection for known in self._connections.values())\n",
           ("RFC 5626 §4.4",)),
    Mutant("S22", "RFC 5626 §4.4.1", "no pong within 10 seconds fails the flow", FLOW,
           "    pong_timeout: float = 10.0", "    pong_timeout: float = 30.0",
           ("RFC 5626 §4.4",)),
    Mutant("S23", "RFC 5626 §4.4.1", "CRLF keep-alives every 95 to 120 seconds",
           FLOW, "    stream_interval: tuple[float, float] = (95.0, 120.0)",
           "    stream_interval: tuple[float, float] = (90.0, 120.0)", ("RFC 5626 §4.4",)),
    Mutant("S24", "RFC 5626 §4.4.2", "STUN keep-alives every 24 to 29 seconds", FLOW,
           "    datagram_interval: tuple[float, float] = (24.0, 29.0)",
           "    datagram_interval: tuple[float, float] = (24.0, 30.0)", ("RFC 5626 §4.4",)),
    Mutant("S25", "RFC 5626 §4.5", "max-time is 1800 seconds", FLOW,
           "    max_time: float = 1800.0", "    max_time: float = 3600.0", ("RFC 5626 §4.5",)),
    Mutant("S26", "RFC 5626 §4.5", "W = base-time * 2^consecutive-failures counts the "
           "failure being handled", FLOW,
           "        flow.failures += 1\n        wait = backoff_wait(self.settings, flow.failures, "
           "all_failed, self._random)",
           "        wait = backoff_wait(self.settings, flow.failures, all_failed, self._random)\n"
           "        flow.failures += 1", ("RFC 5626 §4.5",)),
    Mutant("S27", "RFC 5626 §4.4.2 / RFC 5389 §7.2.1", "the STUN RTO doubles after each "
           "retransmission", FLOW,
           "        elapsed += settings.stun_rto * 2**i",
           "        elapsed += settings.stun_rto * (i + 1)", ("RFC 5626 §4.4",)),
    Mutant("S28", "RFC 5626 §4.5 / §3", "a failed flow is replaced by a new flow: over TCP a "
           "new connection, not the one whose pong never came (the client's behaviour before "
           "this session)", OUTBOUND_AIO,
           "                if output.recovery:\n"
           "                    self._new_flow(output.target)\n",
           "", ("RFC 5626 §4.5",)),
    Mutant("S29", "RFC 5626 §4.5", "cutting the failed flow's connection is not a second "
           "failure (the new flow is registered at once, no backoff)", KEEPALIVE,
           "        TcpTransport._forget(self, connection)  # out of the pool first",
           "        self._forget(connection)  # out of the pool first", ("RFC 5626 §4.5",)),
    Mutant("S30", "RFC 5626 §4.4", "the driver takes a closed connection as the flow failing",
           OUTBOUND_AIO,
           "            self._apply(self.flows.flow_lost(reg_id, self._now(), "
           '"connection closed"))',
           "            pass", ("RFC 5626 §4.4",)),
    # RFC 5626 §4.4 / §4.5 and RFC 5389: outbound flows and keep-alives
    Mutant("T30", "RFC 5626 §4.4.2", "a changed XOR-MAPPED-ADDRESS fails *this* flow: a new "
           "flow starts with no mapping remembered", "sipfsm/outbound/flow.py",
           "        flow.retransmits = ()\n        flow.mapped = None\n",
           "        flow.retransmits = ()\n", ("RFC 5626 §4.4",)),
    Mutant("T31", "RFC 5389 §7.3 / RFC 5626 §4.4.2", "a STUN response is taken only with the "
           "transaction id of the request", "sipfsm/outbound/flow.py",
           "        if flow.state is not FlowState.PROBING or transaction_id != "
           "flow.transaction_id:",
           "        if flow.state is not FlowState.PROBING:", ("RFC 5626 §4.4",)),
    Mutant("T32", "RFC 5626 §4.5", "a successful registration ends the run of consecutive "
           "failures", "sipfsm/outbound/flow.py",
           "            flow.failures = 0  # §4.5", "            pass  # §4.5",
           ("RFC 5626 §4.5",)),
    Mutant("T33", "RFC 5626 §4.4.1", "the CRLF keep-alive ping is a double CRLF",
           "sipfsm/aio/keepalive.py", 'CRLF_PING = b"\\r\\n\\r\\n"', 'CRLF_PING = b"\\r\\n"',
           ("RFC 5626 §4.4",)),
    Mutant("T34", "RFC 5626 §4.4.2", "only a CHANGE of the mapped address fails the flow (the "
           "first response sets it)", "sipfsm/outbound/flow.py",
           "        if mapped is not None and flow.mapped is not None and mapped != flow.mapped:",
           "        if mapped is not None and mapped != flow.mapped:", ("RFC 5626 §4.4",)),
    Mutant("T35", "RFC 5626 §4.5", "base-time 90 s while some flow is still up (a flow being "
           "probed is up), 30 s when all failed", "sipfsm/outbound/flow.py",
           "            f.state not in (FlowState.UP, FlowState.PROBING) for f in "
           "self._flows.values())",
           "            f.state is not FlowState.UP for f in self._flows.values())",
           ("RFC 5626 §4.5",)),
    Mutant("T36", "RFC 5626 §4.4", "the registrar's Flow-Timer bounds the keep-alive period "
           "(a locally configured period does not override it)", "sipfsm/outbound/flow.py",
           "    period = flow_timer if flow_timer is not None else settings.keepalive",
           "    period = settings.keepalive if settings.keepalive is not None else flow_timer",
           ("RFC 5626 §4.4",)),
    # the generated dispatch (sipfsm/fsm.py) must run the tables as `transitions` does
    Mutant("T40", "RFC 3261 §17.1.2.2 / §10.2 (tables)", "a row runs only when ALL its "
           "conditions hold", "sipfsm/fsm.py",
           '                tests = " and ".join(', '                tests = " or ".join(',
           ("17.1.2", "10.2")),
    Mutant("T41", "RFC 3261 §10.2 (tables)", "leaving a state runs its on_exit (e.g. the "
           "refresh timer cancelled)", "sipfsm/fsm.py",
           "                exits = tuple(resolve(f) for f in states[t.source].on_exit)\n",
           "                exits = ()\n", ("10.2",),
           equivalent="only the registration table has on_exit callbacks (cancel_refresh, "
                      "cancel_retry); the driver re-arms a named timer by cancelling the one "
                      "running (sipfsm/registration.py _start_timer), every re-entry to "
                      "registered / waiting re-arms it (arm_refresh / arm_retry; registered is "
                      "entered only holding bindings), and every other state lists RefreshDue / "
                      "RetryDue on IGNORED, so a timer left running fires into nothing: only "
                      "the core's output list (one CancelTimer fewer) changes"),
    Mutant("T42", "RFC 3261 §17.1.2.2 / §10.2 (tables)", "on_enter runs before the row's "
           "after callbacks", "sipfsm/fsm.py",
           "                enters + tuple(resolve(f) for f in t.after),",
           "                tuple(resolve(f) for f in t.after) + enters,", ("17.1.2", "10.2")),
    Mutant("T43", "RFC 3261 §17.1.2.2 (tables)", "only the first row whose conditions hold "
           "runs", "sipfsm/fsm.py",
           '            lines.append(f"{indent}return True")\n',
           '            lines.append(f"{indent}pass")\n', ("17.1.2",)),
    Mutant("T44", "RFC 3261 §17.1.2.2 / §10.2 (tables)", "the rows of a (trigger, state) are "
           "tried in the table's order", "sipfsm/fsm.py",
           "        for t in candidates:\n            exits: tuple[Any, ...] = ()",
           "        for t in reversed(candidates):\n            exits: tuple[Any, ...] = ()",
           ("17.1.2", "10.2")),
    # ---- HAUTH: the Digest client (RFC 3261 §22, RFC 7616, RFC 8760), incl. its short paths --
    Mutant("D20", "RFC 3261 §22.3", "a 407 is answered in Proxy-Authorization", CLIENT,
           'HEADER_FOR_STATUS = {401: "Authorization", 407: "Proxy-Authorization"}',
           'HEADER_FOR_STATUS = {401: "Authorization", 407: "Authorization"}',
           ("22.3",)),
    Mutant("D21", "RFC 3261 §22.3 / §8.1.3.5", "a 407's challenges are its Proxy-Authenticate "
           "values", CLASSIFY,
           "            values = (response.www_authenticate if effective == 401",
           "            values = (response.www_authenticate if effective in (401, 407)",
           ("22.3",)),
    Mutant("D22", "RFC 7616 §3.3", "stale is a case-insensitive flag (stale=TRUE is true)",
           CHALLENGE, 'stale is not None and stale.lower() == "true",',
           'stale == "true",', ("RFC 7616 §3.3",)),
    Mutant("D23", "RFC 7616 §3.3 / §3.4.4", "userhash is a case-insensitive flag", CHALLENGE,
           'userhash is not None and userhash.lower() == "true",', 'userhash == "true",',
           ("RFC 7616 §3.4",)),
    Mutant("D24", "RFC 7235 §2.1 / RFC 3261 §25.1", "the auth-scheme is case-insensitive "
           "(digest = Digest)", CHALLENGE,
           '        if self.scheme != "Digest" and not self.is_digest:',
           '        if self.scheme != "Digest":', ("22",)),
    Mutant("D25", "RFC 7235 §2.1", "auth-param names are case-insensitive (general parser)",
           "sipfsm/auth/params.py",
           "        name = name.lower()\n        if quoted_value is not None:",
           "        if quoted_value is not None:", ("RFC 7616 §3.3",)),
    Mutant("D26", "RFC 7235 §2.1", "auth-param names are case-insensitive (the one-step "
           "scanner of the common shape)", CHALLENGE,
           "    values = {name.lower(): quoted or token for name, quoted, token in items}",
           "    values = {name: quoted or token for name, quoted, token in items}",
           ("RFC 7616 §3.3",)),
    Mutant("D27", "RFC 7616 §4", "charset's only value UTF-8 is matched case-insensitively",
           CHALLENGE, '        if self.charset is not None and self.charset.upper() != "UTF-8":',
           '        if self.charset is not None and self.charset != "UTF-8":',
           ("RFC 7616 §4",)),
    Mutant("D28", "RFC 7616 §3.4 / §3.5", "a new nonce (nextnonce) restarts nc at 00000001",
           CLIENT, "        self.nc = 0\n        self._session_key: Secret | None = None",
           '        self.nc = getattr(self, "nc", 0)\n'
           "        self._session_key: Secret | None = None", ("RFC 7616 §3.5",)),
    Mutant("D29", "RFC 7616 §3.3 / §3.4", "after stale=true the new nonce's nc starts at 1",
           CLIENT,
           "            responder = Responder._checked(header, challenge, spec, credentials, "
           "previous)\n",
           "            responder = Responder._checked(header, challenge, spec, credentials, "
           "previous)\n            if previous is not None:\n"
           "                responder.nc = previous.nc\n", ("RFC 7616 §3.3",)),
    Mutant("D30", "RFC 3261 §22.1", "the first challenge's short way marks the next request "
           "as its answer (so a second challenge is a rejection)", CLIENT,
           "                        self._resubmission_pending = True\n                        "
           "return",
           "                        self._resubmission_pending = False\n                        "
           "return", ("22.1",)),
    Mutant("D31", "RFC 7616 §3.3", "the challenge shapes cache: a challenge is its whole text "
           "(not the text before its nonce)", CHALLENGE,
           "        shape = _SHAPES.get(value[:start] + value[end:])",
           "        shape = next((s for k, s in _SHAPES.items() if k.startswith(value[:start])),"
           " None)", ("RFC 7616 §3.3",)),
    Mutant("D32", "RFC 3261 §25.1 / RFC 7616 §3.3", "a quoted nonce is unescaped (quoted-pair) "
           "on the shapes cache's way too", CHALLENGE,
           "            if _QUOTED_TEXT.fullmatch(nonce) is not None:",
           "            if True:", ("RFC 7616 §3.3",)),
    Mutant("D33", "RFC 7616 §3.4 / RFC 3261 §25.1", "the nonce goes back as a quoted-string, "
           "\\ and \" escaped (the plain-text short way)", CLIENT,
           "                       and _quotes_plain(self._username) and _quotes_plain(self.realm)"
           "\n                       and _quotes_plain(nonce))",
           "                       and _quotes_plain(self._username) and _quotes_plain(self.realm)"
           ")", ("RFC 7616 §3.4",)),
    Mutant("D34", "RFC 3261 §22.1 / §22.3", "only the credentials a challenge rejects are "
           "refused: a 401 after a 407 for the same realm is no rejection", CLIENT,
           "            if sent.realm == realm and sent.header == header:",
           "            if sent.realm == realm:", ("22.1", "22.3")),
    Mutant("D35", "RFC 3261 §22.3", "a 401 keeps the cached Proxy-Authorization of the same "
           "realm", CLIENT,
           "                responders = (*(r for r in responders if r.header != header or "
           "r.realm != realm),",
           "                responders = (*(r for r in responders if r.realm != realm),",
           ("22.3",)),
    Mutant("D36", "RFC 7616 §3.4.3", "A2 = Method \":\" request-uri (the H(A2) cache keyed "
           "without the method)", CLIENT,
           "    key = (algorithm.name, method, uri, qop)",
           "    key = (algorithm.name, uri, qop)  # type: ignore[assignment]",
           ("RFC 7616 §3.4",)),
    Mutant("D37", "RFC 7616 §3.4.4", "userhash=true is sent with a hashed username (the shared "
           "tails cache keyed without userhash)", CLIENT,
           "    key = (algorithm, opaque, userhash)", "    key = (algorithm, opaque, False)",
           ("RFC 7616 §3.4",)),
    Mutant("D38", "RFC 3261 §22.1", "a new request (a refresh) starts the attempts afresh",
           CLIENT, "        if not resubmission:\n            self._attempts = 0",
           "        if False:\n            self._attempts = 0", ("22.1",)),
    Mutant("D39", "RFC 3261 §22.2", "cached credentials go out on later requests (refreshes)",
           REG, "        if self._digest is not None:\n            authorization = ",
           "        if self._digest is not None and self._digest._resubmission_pending:\n"
           "            authorization = ", ("22.2",)),
    Mutant("D40", "RFC 8760 §2.4", "the topmost usable challenge (not the last)", CLIENT,
           "                    pick = option\n                    break\n",
           "                    pick = option\n", ("RFC 8760 §2",)),
    Mutant("D41", "RFC 7616 §3.4.2", "H(A1) is the chosen algorithm's (the kept HA1 is reused "
           "only for the same algorithm)", CLIENT,
           "                    and previous.realm == realm and previous.algorithm.base == "
           "algorithm.base):",
           "                    and previous.realm == realm):", ("RFC 7616 §3.4",)),
    Mutant("D42", "RFC 7616 §3.5", "rspauth: A2 with an empty method", CLIENT,
           '            ha2(self.algorithm, "", self._sent_uri, qop, body), qop=qop,',
           '            ha2(self.algorithm, "REGISTER", self._sent_uri, qop, body), qop=qop,',
           ("RFC 7616 §3.5",)),
    Mutant("D43", "RFC 3261 §25.1", "quoted-string: \\ is escaped as well as \"",
           "sipfsm/auth/params.py",
           """        value = value.replace("\\\\", "\\\\\\\\").replace('"', '\\\\"')""",
           """        value = value.replace('"', '\\\\"')""", ("RFC 7616 §3.4",)),
    Mutant("D44", "RFC 7616 §4", "charset=UTF-8: the password is NFC-normalised too", CLIENT,
           "                if nfc:\n                    text = unicodedata",
           "                if False:\n                    text = unicodedata",
           ("RFC 7616 §4",)),
    Mutant("D45", "RFC 7616 §3.3", "a challenge with an unknown algorithm is ignored (not "
           "answered as MD5)", CHALLENGE,
           "        spec = _MD5 if self.algorithm is None else lookup_algorithm(self.algorithm)",
           "        spec = _MD5 if self.algorithm is None else (lookup_algorithm(self.algorithm)"
           " or _MD5)", ("RFC 7616 §3.3",)),
    Mutant("D46", "RFC 3261 §22.1", "rejected credentials leave the cache (never sent "
           "pre-emptively again)", CLIENT,
           "                self._responders = tuple(r for r in self._responders\n"
           "                                         if r.header != header or r.realm != realm)",
           "                pass", ("22.1",)),
    Mutant("D47", "RFC 3261 §7.3.1 / RFC 8760 §2.4", "a challenge naming a parameter twice is "
           "malformed and ignored (the one-step scanner as the general parser)", CHALLENGE,
           "    if len(values) != len(items):\n        return None",
           "    if False:\n        return None", ("RFC 8760 §2",)),
    Mutant("D48", "RFC 7616 §3.4", "qop: one of those offered (the short way for the usual "
           "qop=\"auth\" offer)", CLIENT,
           'self.qop = "auth" if qop == _AUTH_ONLY else challenge.choose_qop()',
           'self.qop = "auth" if qop is not None else challenge.choose_qop()',
           ("RFC 7616 §3.4",)),
    Mutant("D49", "RFC 8760 §2.4", "the topmost challenge the client supports: with only a "
           "stored H(A1), only that algorithm's challenges", CLIENT,
           "                if credentials.can_answer(option[1].base):",
           "                if True:", ("RFC 8760 §2",)),
    # ---- HDIG2: digest's support code (FIPS 180-4 SHA-512/256, stored H(A1), username*,
    # quoted-strings) and the header-parameter layer (RFC 3261 §7.3.1, §25.1; strict checks) ----
    Mutant("K01", "RFC 8760 §2 / FIPS 180-4 §5.3.6", "SHA-512/256 starts from its own IV, not "
           "SHA-512's (not SHA-512 truncated: RFC 7616 erratum 4897's mistake)", SHA512_256,
           "_SHA512_256_IV = _sha512_words(b\"SHA-512/256\", [v ^ 0xA5A5A5A5A5A5A5A5 for v in "
           "_SHA512_IV])", "_SHA512_256_IV = list(_SHA512_IV)", ("RFC 8760 §2",)),
    Mutant("K02", "FIPS 180-4 §5.3.6", "the SHA-512/t IV generation hashes under SHA-512's IV "
           "XOR a5a5a5a5a5a5a5a5", SHA512_256,
           "[v ^ 0xA5A5A5A5A5A5A5A5 for v in _SHA512_IV]", "list(_SHA512_IV)", ("RFC 8760 §2",)),
    Mutant("K03", "FIPS 180-4 §5.3.6", "the IV is SHA-512 of \"SHA-512/t\" with t replaced by "
           "256", SHA512_256, 'b"SHA-512/256", [v ^', 'b"SHA-512/t", [v ^', ("RFC 8760 §2",)),
    Mutant("K04", "FIPS 180-4 §5.1.2", "the 128-bit length field holds the message length in "
           "BITS", SHA512_256, "(length * 8).to_bytes(16, \"big\")",
           "length.to_bytes(16, \"big\")", ("RFC 8760 §2",)),
    Mutant("K05", "FIPS 180-4 §5.1.2", "k zero bits with l + 1 + k = 896 mod 1024: a message "
           "of 112..127 (mod 128) bytes takes one more block", SHA512_256,
           'b"\\x00" * ((111 - length) % 128)', 'b"\\x00" * max(0, 111 - length % 128)',
           ("RFC 8760 §2",)),
    Mutant("K06", "FIPS 180-4 §4.1.3", "sigma0 of SHA-512 ends with a SHIFT right by 7 (not a "
           "rotation)", SHA512_256, "^ (w[t - 15] >> 7)", "^ _rotr(w[t - 15], 7)",
           ("RFC 8760 §2",)),
    Mutant("K07", "RFC 8760 §2.2 / FIPS 180-4 §6.7", "the digest is the leftmost 256 bits: "
           "each 64-bit word as 16 hex digits, leading zeros kept", SHA512_256,
           'f"{v:016x}" for v in words[:4]', 'f"{v:x}" for v in words[:4]', ("RFC 8760 §2",)),
    Mutant("K10", "RFC 7616 §3.3 / RFC 3261 §7.3.1", "algorithm names are case-insensitive: a "
           "stored H(A1) given as \"md5\" is the MD5 one", CREDENTIALS,
           "            table[spec.base] = Secret(text.lower())",
           "            table[name] = Secret(text.lower())", ("RFC 7616 §3.4",)),
    Mutant("K11", "RFC 7616 §3.4.2 / RFC 8760 §2.2", "H(A1) is LOWER-case hex in KD (a stored "
           "HA1 given in upper case is lowered)", CREDENTIALS,
           "            table[spec.base] = Secret(text.lower())",
           "            table[spec.base] = secret", ("RFC 7616 §3.4",)),
    Mutant("K12", "RFC 7616 §3.4.2 / RFC 8760 §2.4", "a stored H(A1) answers its own "
           "algorithm only", CREDENTIALS,
           "        return self.password is not None or base in self._ha1",
           "        return self.password is not None or bool(self._ha1)", ("RFC 8760 §2",)),
    Mutant("K13", "RFC 7616 §3.4.2", "a stored H(A1) is that algorithm's digest (an MD5 HA1 is "
           "32 hex digits, SHA-256's 64)", CREDENTIALS,
           "            if len(text) != len(spec.hash(b\"\")) or any(",
           "            if any(", ("RFC 7616 §3.4",)),
    Mutant("K14", "RFC 3261 §22.1 / §7.3.1", "the realm (a quoted-string) is compared exactly: "
           "\"Example.com\" is another protection domain", CREDENTIALS,
           "        if self.realm is None or realm == self.realm:",
           "        if self.realm is None or realm.lower() == self.realm.lower():", ("22.1",)),
    Mutant("K17", "RFC 8187 §3.2.1 / RFC 7616 §3.4", "username*: '%' is not an attr-char (it "
           "is percent-encoded itself)", CLIENT,
           'z0123456789!+-._`~")', 'z0123456789!%+-._`~")', ("RFC 7616 §3.4",)),
    Mutant("K18", "RFC 7616 §3.4", "a username with non-ASCII characters goes in username*",
           CLIENT, "    return not (text.isascii() and text.isprintable())",
           "    return not text.isprintable()", ("RFC 7616 §3.4",)),
    Mutant("K20", "RFC 3261 §25.1", "quoted-string: a backslash is escaped (the short way for "
           "text with nothing to escape)", AUTH_PARAMS,
           "    if value.isprintable() and '\"' not in value and \"\\\\\" not in value:",
           "    if value.isprintable() and '\"' not in value:", ("RFC 7616 §3.4",)),
    Mutant("K21", "RFC 3261 §25.1", "qdtext and quoted-pair carry no CR or LF: a quoted value "
           "holding them is refused, never written", AUTH_PARAMS,
           "    if _FORBIDDEN_RE.search(value):\n        raise",
           "    if False:\n        raise", ("RFC 7616 §3.4",)),
    Mutant("K22", "RFC 3261 §25.1", "a quoted-pair stands for its character (the short way "
           "for text without a fold)", AUTH_PARAMS,
           '    if "\\\\" not in text and "\\n" not in text:\n        return text',
           '    if "\\n" not in text:\n        return text', ("RFC 7616 §3.3",)),
    Mutant("K23", "RFC 3261 §7.3.1 / RFC 7616 §3.5", "a parameter named twice is an error (the "
           "general auth-param parser: Authentication-Info, unusual challenges)", AUTH_PARAMS,
           "        if name in params:\n            raise error(",
           "        if False:\n            raise error(", ("RFC 7616 §3.5",)),
    Mutant("Q01", "RFC 3261 §7.3.1", "parameter names are case-insensitive (Params built from "
           "pairs keep the case)", PARAMS, "            key = name.lower()\n",
           "            key = name\n", ("7.3.1",)),
    Mutant("Q02", "RFC 3261 §7.3.1", "parameter names are case-insensitive (the general header "
           "parameter reader)", PARAMS, "        name = found.group(1).lower()\n",
           "        name = found.group(1)\n", ("7.3.1",)),
    Mutant("Q03", "RFC 3261 §7.3.1", "any given parameter-name MUST NOT appear more than once "
           "(the general header parameter reader)", PARAMS,
           "        if name in data:\n            raise ParseError(",
           "        if False:\n            raise ParseError(", ("7.3.1",)),
    Mutant("Q04", "RFC 3261 §7.3.1", "a parameter is found by its name in any case", PARAMS,
           "        return data.get(key.lower(), default)",
           "        return data.get(key, default)", ("7.3.1",)),
    Mutant("Q05", "RFC 3261 §25.1 / RFC 3581 §3", "generic-param = token [ EQUAL gen-value ]: "
           "a flag parameter is written without '='", PARAMS,
           'f";{name}" if value is None else', 'f";{name}=" if value is None else',
           ("7.3.1",)),
    Mutant("Q06", "RFC 3261 §7.3.1", "setting a parameter in another case replaces it (a name "
           "appears once)", PARAMS, "        data[name.lower()] = value\n",
           "        data[name] = value\n", ("7.3.1",)),
    Mutant("Q10", "RFC 3261 §20.22", "Max-Forwards: an integer in the range 0-255 (255 is "
           "valid)", STRICT, "or int(value) > 255:", "or int(value) >= 255:", ("20.22",)),
    Mutant("Q11", "RFC 3261 §8.1.1.5", "the CSeq sequence number MUST be less than 2**31",
           STRICT, "or int(number) >= 2**31:", "or int(number) > 2**31:", ("20.16",)),
    Mutant("Q12", "RFC 3261 §7.3.1 / §20.19", "Expires is not a list: two rows are an error",
           STRICT, '"content-length", "expires",\n', '"content-length",\n', ("7.3.1",)),
    Mutant("Q13", "RFC 3261 §7.3.3", "implementations MUST accept both the long and short "
           "forms ('v' is Via)", STRICT, ' "t": "to",\n            "v": "via"}',
           ' "t": "to"}', ("7.3.3",)),
    Mutant("Q14", "RFC 3261 §7.3.1", "a line starting with SP OR HTAB continues the field "
           "above", STRICT, 'if line[:1] in (" ", "\\t") and headers:',
           'if line[:1] == " " and headers:', ("7.3.1",)),
    Mutant("Q15", "RFC 3261 §7.1", "the SIP-Version string is case-insensitive", STRICT,
           '    if version.upper() != "SIP/2.0":', '    if version != "SIP/2.0":', ("7.1",)),
    Mutant("Q16", "RFC 3261 §19.1.1 / §25.1", "a '?' in the user part is user-unreserved, not "
           "the start of headers", STRICT,
           'and "?" in uri.rsplit("@", 1)[-1]:', 'and "?" in uri:', ("19.1.1",)),
    Mutant("Q17", "RFC 3261 §8.1.1", "Max-Forwards is one of the six mandatory request "
           "headers", STRICT,
           '_MANDATORY_REQUEST = ("to", "from", "cseq", "call-id", "max-forwards", "via")',
           '_MANDATORY_REQUEST = ("to", "from", "cseq", "call-id", "via")', ("8.1.1",)),
    Mutant("Q18", "RFC 3261 §8.1.1.5 / §7.1", "the CSeq method matches the request's method "
           "(method names are case-sensitive)", STRICT,
           "and cseq.split()[1] != method:", "and cseq.split()[1].upper() != method.upper():",
           ("8.1.1",)),
    Mutant("Q19", "RFC 3261 §18.3", "only a body SHORTER than Content-Length is malformed "
           "(extra datagram bytes are discarded)", STRICT,
           "and int(lengths[0]) > len(body):", "and int(lengths[0]) != len(body):", ("18.3",)),
    Mutant("Q20", "RFC 3261 §25.1 / §20.19", "delta-seconds up to 2**32-1 are valid", STRICT,
           "if not _digits(text) or int(text) > 2**32 - 1:",
           "if not _digits(text) or int(text) >= 2**32 - 1:", ("20.19",)),
    Mutant("Q21", "RFC 3261 §25.1 / RFC 5234 B.1", "DIGIT is %x30-39: str.isdigit() takes "
           "'\u0661' for 1 and crashes int() on '\u00b2' (the CSeq number)", STRICT,
           "        if not _digits(number) or int(number) >= 2**31:",
           "        if not number.isdigit() or int(number) >= 2**31:", ("20.16",)),
    Mutant("Q22", "RFC 3261 §25.1 / RFC 5234 B.1", "DIGIT is %x30-39 (Max-Forwards)", STRICT,
           "        if not _digits(value.strip()) or int(value) > 255:",
           "        if not value.strip().isdigit() or int(value) > 255:", ("20.22",)),
    # ---- HMSG: the message layer (RFC 3261 §7, §18.3, §19.1, §20, §25) and its short paths ----
    Mutant("P01", "RFC 3261 §7.3.1", "a line starting with whitespace continues the field above "
           "(the one-pass rows take a folded ' <sip:...>' line for a field of its own)",
           PARSER, "        if name in spellings or name.lower() in spellings or "
           "TOKEN_RE.fullmatch(name) is None:",
           "        if name in spellings or name.lower() in spellings:", ("7.3.1",)),
    Mutant("P02", "RFC 3261 §7.3.1", "field names are case-insensitive (the one-pass rows take "
           "'cONTACT' for an unknown field)", PARSER,
           "        if name in spellings or name.lower() in spellings or "
           "TOKEN_RE.fullmatch(name) is None:",
           "        if name in spellings or TOKEN_RE.fullmatch(name) is None:", ("7.3.1",)),
    Mutant("P03", "RFC 3261 §7.2 / §21", "Status-Code: six values of the first digit (1xx-6xx)"
           " (the short status line reads 7xx-9xx)", PARSER,
           "_STATUS_CODES = {str(code): code for code in range(100, 700)}",
           "_STATUS_CODES = {str(code): code for code in range(100, 1000)}", ("7.2",)),
    Mutant("P04", "RFC 3261 §18.3", "a datagram ending before Content-Length bytes is an error "
           "(the no-body short way skips the check)", PARSER,
           "            lengths = (\n                None if length_text is None or "
           "length_text == \" 0\"\n                else [length_text.strip(\" \\t\")]\n"
           "            )",
           "            lengths = None", ("18.3",)),
    Mutant("P05", "RFC 3261 §7.2", "Status-Line = SIP-Version SP Status-Code SP Reason-Phrase "
           "(3DIGIT then SP)", PARSER,
           "                if status and (len(first) == 11 or first[11] == \" \"):",
           "                if status:", ("7.2",)),
    Mutant("P06", "RFC 3261 §7.1", "Request-Line = Method SP Request-URI SP SIP-Version: "
           "exactly three parts", PARSER,
           "                if len(words) == 3 and words[0] in _METHODS and words[2] == "
           "\"SIP/2.0\":",
           "                if len(words) >= 3 and words[0] in _METHODS and words[2] == "
           "\"SIP/2.0\":", ("7.1",)),
    Mutant("P07", "RFC 3261 §7.3.1", "the line break and the leading whitespace of a "
           "continuation line are one SP", PARSER,
           "                value = f\"{value} {more}\" if value else more",
           "                value = f\"{value}{more}\" if value else more", ("7.3.1",)),
    Mutant("P08", "RFC 3261 §7.3.1 / §20.16", "only comma-list fields may repeat: two CSeq rows "
           "are an error (the short read takes the first)", MESSAGES,
           "            if first is not None and headers._multi is None:\n"
           "                text = first.get(\"CSeq\")",
           "            if first is not None:\n                text = first.get(\"CSeq\")",
           ("7.3.1", "20.16")),
    Mutant("P09", "RFC 3261 §7.3.1", "several rows of a list field = one comma-separated row "
           "(rows holding commas are split too)", MESSAGES,
           "            if \"\" not in rows and \",\".join(rows).count(\",\") == len(rows) - 1:",
           "            if \"\" not in rows:", ("7.3.1",)),
    Mutant("P10", "RFC 3261 §22.3 / §20.44", "every WWW-Authenticate row is a challenge (the "
           "pre-split first row hides the second row)", MESSAGES,
           "            if headers._multi is None:\n                # One row whose split",
           "            if True:\n                # One row whose split", ("20.44", "22")),
    Mutant("P11", "RFC 3261 §25 (EQUAL = SWS \"=\" SWS)", "auth-param 'name = value' with "
           "whitespace continues its challenge", HEADERS,
           "_CHALLENGE_CONTINUATION_RE = re.compile("
           "f\"[ \\\\t]*(?:[{TOKEN_CHARS}]+[ \\\\t]*=|,|$)\")",
           "_CHALLENGE_CONTINUATION_RE = re.compile(f\"[ \\\\t]*(?:[{TOKEN_CHARS}]+=|,|$)\")",
           ("20.44",)),
    Mutant("P12", "RFC 3261 §7.3.3 / §18.3", "the stream framer knows Content-Length by its "
           "compact form 'l'", FRAMING,
           "_CONTENT_LENGTH_NAMES = (b\"content-length\", b\"l\")",
           "_CONTENT_LENGTH_NAMES = (b\"content-length\",)", ("18.3", "7.3.3")),
    Mutant("P13", "RFC 3261 §7.3.1 (HCOLON) / §18.3", "whitespace before the colon is not part "
           "of the name (the stream framer misses 'Content-Length :')", FRAMING,
           "            if name.strip().lower() in _CONTENT_LENGTH_NAMES:",
           "            if name.lower() in _CONTENT_LENGTH_NAMES:", ("18.3",)),
    Mutant("P14", "RFC 3261 §7.3.1", "a parameter name MUST NOT appear more than once (the "
           "short parameter reader keeps the last)", FAST,
           "    if len(data) != len(parts):\n        return None",
           "    if False:\n        return None", ("7.3.1",)),
    Mutant("P15", "RFC 3261 §7.3.1", "parameter names are case-insensitive (the short reader of "
           "one ';name=value' keeps the case)", FAST,
           "            return _params_of({name.lower(): value})",
           "            return _params_of({name: value})", ("7.3.1",)),
    Mutant("P16", "RFC 3581 §4 / RFC 3261 §18.2.2", "a Via's received/rport are read as sent "
           "(the Via memo keyed without the parameters after the branch)", PARSE_VALUES,
           "            cut = f\"{before};branch={semi}{rest}\", value",
           "            cut = f\"{before};branch=\", value", ("20.42",)),
    Mutant("P17", "RFC 3261 §25 (quoted-string)", "a ';' inside a quoted parameter value is "
           "text, not a separator (the short parameter reader splits there)", FAST,
           "_HEADER_PARAMS = f'((?:;[{_TOKEN}]+(?:=(?:[{_TOKEN}\\\\[\\\\]:]+|"
           "\"[^\"\\\\\\\\;]*\"))?)*)'",
           "_HEADER_PARAMS = f'((?:;[{_TOKEN}]+(?:=(?:[{_TOKEN}\\\\[\\\\]:]+|"
           "\"[^\"\\\\\\\\]*\"))?)*)'",
           ("25.1",)),
    Mutant("P18", "RFC 3261 §8.1.1.5 / §20.16", "a CSeq number is below 2**31 (the short "
           "CSeq reader)", PARSE_VALUES,
           "        if value <= MAX_CSEQ:\n            cseq: CSeq = _new(CSeq)",
           "        if True:\n            cseq: CSeq = _new(CSeq)", ("20.16",)),
    Mutant("P19", "RFC 3261 §20.19 / §10.2.1", "Expires values above 2**32-1 are 2**32-1 (the "
           "short read of ten digits)", MESSAGES,
           "            elif text.isdigit() and text.isascii() and len(text) <= 9:",
           "            elif text.isdigit() and text.isascii() and len(text) <= 10:",
           ("20.19",)),
    Mutant("P20", "RFC 3261 §20.22", "Max-Forwards is an integer in the range 0-255", MESSAGES,
           "                if number > 255:", "                if number >= 255:", ("20.22",)),
    Mutant("P21", "RFC 3261 §20.10 / §25", "qvalue = \"0\" [\".\" 0*3DIGIT] / \"1\" [\".\" "
           "0*3(\"0\")]", PARSE_VALUES,
           "_QVALUE_RE = re.compile(r\"0(?:\\.[0-9]{0,3})?|1(?:\\.0{0,3})?\")",
           "_QVALUE_RE = re.compile(r\"0(?:\\.[0-9]{0,3})?|1(?:\\.[0-9]{0,3})?\")", ("20.10",)),
    Mutant("P22", "RFC 3261 §25", "callid = word [\"@\" word]: no whitespace inside", MESSAGES,
           "            if not text or \" \" in text or \"\\t\" in text:",
           "            if not text:", ("8.1.1",)),
    Mutant("P23", "RFC 3261 §7.3.3 / §20", "compact forms: s = Subject, k = Supported", HEADERS,
           '"s": "Subject", "k": "Supported"', '"s": "Supported", "k": "Subject"', ("7.3.3",)),
    Mutant("P24", "RFC 3327 §4 / RFC 3261 §7.3.1", "Path is a comma-separated list (path-value "
           "*(COMMA path-value))", HEADERS,
           '"P-Preferred-Identity", "Path", "Proxy-Require",',
           '"P-Preferred-Identity", "Proxy-Require",', ("7.3.1",)),
    Mutant("P25", "RFC 3261 §7.3.1 / §20.42", "tokens are case-insensitive: a Via's transport "
           "'udp' is UDP (the short Via reader keeps the case)", FAST,
           "        base = (transport.upper(), host, port_number)",
           "        base = (transport, host, port_number)", ("20.42",)),
    Mutant("P26", "RFC 3261 §7.3.1 / §19.1.4", "the transport URI parameter is a token, "
           "case-insensitive ('TCP' is tcp)", URI,
           "        return value.lower() if value else None",
           "        return value if value else None", ("19.1.1",)),
    Mutant("P27", "RFC 3261 §10.2.1 / §20.10", "Contact expires: only values above 2**32-1 "
           "are capped (ten digits may be below)", PARSE_VALUES,
           "        if len(value) > 10:\n            return MAX_DELTA_SECONDS",
           "        if len(value) > 9:\n            return MAX_DELTA_SECONDS", ("20.10", "10.2.1")),
    Mutant("U20", "RFC 3261 §19.1.4", "a ttl parameter in only one URI makes them differ", URI,
           "_MUST_MATCH_PARAMS = frozenset({\"user\", \"ttl\", \"method\", \"maddr\", "
           "\"transport\"})",
           "_MUST_MATCH_PARAMS = frozenset({\"user\", \"method\", \"maddr\", \"transport\"})",
           ("19.1.4",)),
    Mutant("U21", "RFC 3261 §19.1.4", "URI header components are never ignored (one-sided)",
           URI, "    if a.headers or b.headers:", "    if a.headers and b.headers:",
           ("19.1.4",)),
    Mutant("U22", "RFC 3261 §19.1.4", "only characters outside the reserved set equal their "
           "escapes", SYNTAX,
           "        return char if char in _UNRESERVED else \"%\" + match.group(1).upper()",
           "        return char", ("19.1.4",)),
    Mutant("U23", "RFC 3261 §19.1.4", "userinfo compares case-sensitively", URI,
           "    if a.user != b.user and normalise_escapes(a.user or \"\") != "
           "normalise_escapes(b.user or \"\"):",
           "    if a.user != b.user and normalise_escapes(a.user or \"\").lower() != "
           "normalise_escapes(b.user or \"\").lower():", ("19.1.4",)),
    Mutant("U24", "RFC 3261 §19.1.4", "parameter values compare with escapes decoded", URI,
           "    return None if value is None else normalise_escapes(value).lower()",
           "    return None if value is None else value.lower()", ("19.1.4",)),
    Mutant("U25", "RFC 3261 §19.1.1 / §25", "an IPv6 host is written as an IPv6reference "
           "[...]", URI,
           "        parts.append(f\"[{self.host}]\" if \":\" in self.host else self.host)",
           "        parts.append(self.host)", ("19.1.1",)),
    Mutant("U26", "RFC 3261 §19.1.1 (RFC 2396 §3.1)", "the scheme is case-insensitive "
           "('SIP:' is a SIP URI)", URI,
           "    scheme = text[:colon].lower()\n    if scheme == \"sip\"",
           "    scheme = text[:colon]\n    if scheme == \"sip\"", ("19.1.1",)),
    Mutant("U27", "RFC 3261 §19.1.4 / §25", "the short URI reader refuses a port above 65535",
           FAST, "        if port_number > 65535:\n            return None\n    uri_params",
           "        if False:\n            return None\n    uri_params", ("19.1.1",)),
)

CI_SUBSET = ("D04", "D07", "U01")  # tests/mutation runs these


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------

# A mutant's verdict.  Only KILLED counts as caught: a run that outlasts its time limit, a
# conformance run that crashed without a checklist, and the two catalogue bugs (STALE: the
# target text is not in the file exactly once; BROKEN: the mutated file does not compile) are
# each reported as what they are.
KILLED, SURVIVED, TIMEOUT, ERROR, STALE, BROKEN = (
    "killed", "survived", "timeout", "error", "stale", "broken")
CATALOGUE_BUGS = (STALE, BROKEN)


@dataclass
class Result:
    mutant: Mutant
    status: str  # one of KILLED, SURVIVED, TIMEOUT, ERROR, STALE, BROKEN
    records: list[str] = field(default_factory=list)  # records of sipfsm conformance failing
    tests_failed: int | None = None
    seconds: float = 0.0
    detail: str = ""


def occurrences(mutant: Mutant, root: Path = ROOT) -> int:
    path = root / mutant.path
    if not path.exists():
        return 0
    return path.read_text(encoding="utf-8").count(mutant.old)


def applied(mutant: Mutant, root: Path = ROOT) -> tuple[str | None, str]:
    """(the mutated text of ``mutant.path``, "") or (None, the catalogue bug): the target text
    must occur exactly once, change something, and the result must compile."""
    count = occurrences(mutant, root)
    if count != 1:
        return None, (f"{STALE}: pattern found {count} times in {mutant.path} "
                      "(the code moved: re-express the mutant)")
    if mutant.old == mutant.new:
        return None, f"{BROKEN}: the replacement changes nothing"
    text = (root / mutant.path).read_text(encoding="utf-8").replace(mutant.old, mutant.new, 1)
    try:
        compile(text, mutant.path, "exec")
    except SyntaxError as exc:
        return None, f"{BROKEN}: the mutated {mutant.path} does not compile ({exc.msg}, " \
                     f"line {exc.lineno})"
    return text, ""


def _copy(root: Path, into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.so", ".hypothesis")
    shutil.copytree(root / "sipfsm", into / "sipfsm", ignore=ignore)
    shutil.copytree(root / "spec", into / "spec", ignore=ignore)
    for tree in ("tests", "examples"):  # examples/: tests run the worked examples
        if (root / tree).is_dir():
            shutil.copytree(root / tree, into / tree, ignore=ignore)
    for name in ("pyproject.toml",):
        if (root / name).exists():
            shutil.copy2(root / name, into / name)


def _bounded(args: list[str], *, cwd: Path, timeout: float) -> tuple[int, str, str] | None:
    """(exit code, stdout, stderr) of ``args``, or None when it ran over ``timeout`` seconds
    (its whole process group is killed then)."""
    env = {**os.environ, "PYTHONPATH": str(cwd), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    return proc.returncode, out, err


def _conformance(copy: Path, *, examples: int, timeout: float,
                 sections: Sequence[str] = ()) -> tuple[str, list[str], str]:
    """(status, failing records, detail) of ``sipfsm conformance`` run on ``copy``."""
    args = [sys.executable, "-m", "sipfsm", "conformance", "--format", "json", "--no-shrink",
            "--examples", str(examples)]
    for section in sections:
        args += ["--section", section]
    done = _bounded(args, cwd=copy, timeout=timeout)
    if done is None:
        return TIMEOUT, [], f"sipfsm conformance ran over {timeout:.0f} s (not a kill)"
    _, stdout, stderr = done
    try:
        verdicts = json.loads(stdout)
    except json.JSONDecodeError:
        return ERROR, [], "no checklist: " + (stderr.strip().splitlines() or ["no output"])[-1]
    # A mutant is caught by records that *fail*; a record with no check (a gap of the
    # checklist, reported by the baseline) catches nothing.
    failing = [v["id"] for v in verdicts if v["applies"] and v["verdict"] == "fail"]
    return (KILLED if failing else SURVIVED), failing, ""


def _tests(copy: Path, timeout: float) -> int | None:
    done = _bounded([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                     "tests"], cwd=copy, timeout=timeout)
    if done is None:
        return None
    return 0 if done[0] == 0 else 1


def _judged_by_tests(copy: Path, paths: Sequence[str],
                     timeout: float) -> tuple[str, list[str], str]:
    """(status, failing test ids, detail) of pytest on ``paths`` in ``copy`` (stops at the
    first failure): the verdict of a mutant that ``sipfsm conformance`` cannot see."""
    done = _bounded([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                     "-rf", "--tb=no", *paths], cwd=copy, timeout=timeout)
    if done is None:
        return TIMEOUT, [], f"pytest {' '.join(paths)} ran over {timeout:.0f} s (not a kill)"
    code, stdout, _ = done
    failing = [line.split(" ", 1)[1].split(" - ", 1)[0] for line in stdout.splitlines()
               if line.startswith("FAILED ")]
    if code == 0:
        return SURVIVED, [], ""
    if code == 1 and failing:
        return KILLED, failing, ""
    return ERROR, [], f"pytest exit {code}: " + (stdout.strip().splitlines() or ["no output"])[-1]


def run_mutant(mutant: Mutant, *, root: Path = ROOT, examples: int = 25,
               timeout: float = 180.0, quick: bool = False, tests: bool = False) -> Result:
    """Apply ``mutant`` to a copy of the package and run ``sipfsm conformance`` on it
    (``quick``: only the mutant's sections), within ``timeout`` seconds; a mutant with
    ``judged_by`` is judged by those tests instead."""
    start = time.monotonic()
    text, bug = applied(mutant, root)
    if text is None:
        status, _, detail = bug.partition(": ")
        return Result(mutant, status, detail=detail)
    with tempfile.TemporaryDirectory(prefix=f"sipfsm-mutant-{mutant.id}-") as tmp:
        copy = Path(tmp)
        _copy(root, copy)
        (copy / mutant.path).write_text(text, encoding="utf-8")
        if mutant.judged_by:
            status, records, detail = _judged_by_tests(copy, mutant.judged_by, timeout)
            result = Result(mutant, status, records, detail=detail)
            result.seconds = time.monotonic() - start
            return result
        status, records, detail = _conformance(
            copy, examples=examples, timeout=timeout,
            sections=mutant.sections if quick else ())
        result = Result(mutant, status, records, detail=detail)
        if tests:
            result.tests_failed = _tests(copy, timeout)
    result.seconds = time.monotonic() - start
    return result


def baseline(root: Path = ROOT, *, examples: int = 25, timeout: float = 180.0) -> list[str]:
    """Records failing on the unmutated copy (should be none)."""
    with tempfile.TemporaryDirectory(prefix="sipfsm-mutant-baseline-") as tmp:
        _copy(root, Path(tmp))
        status, records, detail = _conformance(Path(tmp), examples=examples, timeout=timeout)
    if status in (TIMEOUT, ERROR):
        return [f"({status}: {detail})"]
    return records


def baseline_tests(paths: Sequence[str], root: Path = ROOT, *,
                   timeout: float = 180.0) -> list[str]:
    """Tests among ``paths`` failing on the unmutated copy (must be none: a judge that fails
    without a mutant would count every mutant killed)."""
    with tempfile.TemporaryDirectory(prefix="sipfsm-mutant-baseline-") as tmp:
        _copy(root, Path(tmp))
        status, failing, detail = _judged_by_tests(Path(tmp), paths, timeout)
    if status in (TIMEOUT, ERROR):
        return [f"({status}: {detail})"]
    return failing


def describe(r: Result) -> str:
    m = r.mutant
    status = r.status
    if status in CATALOGUE_BUGS:
        status = f"catalogue bug ({status})"
    elif m.equivalent:
        status = f"{status}, equivalent mutant"
    lines = [f"{m.id:<4} {status:<8} {r.seconds:6.1f}s  {m.family}: {m.rule}"]
    if r.records:
        lines.append(f"     caught by: {', '.join(r.records)}")
    if r.tests_failed is not None:
        lines.append(f"     test tree: {'fails' if r.tests_failed else 'passes'}")
    if r.detail:
        lines.append(f"     {r.detail}")
    if m.equivalent:
        lines.append(f"     equivalent (not a miss, not counted): {m.equivalent}")
    if r.status == STALE:
        lines.append(f"catalogue bug: pattern not found: {m.id} in {m.path}")
    elif r.status == BROKEN:
        lines.append(f"catalogue bug: mutant does not apply cleanly: {m.id} ({r.detail})")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Tally:
    """The kill rate: ``killed`` of ``real`` (the catalogue less its equivalent mutants)."""

    size: int
    real: int
    killed: int
    by_status: dict[str, int]
    equivalent: tuple[str, ...]
    misses: tuple[str, ...]  # real mutants not killed, with their status

    @property
    def rate(self) -> float:
        return 100.0 * self.killed / self.real if self.real else 0.0

    @property
    def catalogue_bugs(self) -> int:
        return sum(self.by_status.get(s, 0) for s in CATALOGUE_BUGS)


def tally(results: Iterable[Result]) -> Tally:
    results = list(results)
    real = [r for r in results if not r.mutant.equivalent]
    by_status: dict[str, int] = {}
    for r in real:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    return Tally(size=len(results), real=len(real),
                 killed=sum(r.status == KILLED for r in real), by_status=by_status,
                 equivalent=tuple(r.mutant.id for r in results if r.mutant.equivalent),
                 misses=tuple(f"{r.mutant.id} ({r.status})" for r in real
                              if r.status != KILLED))


def report(results: Iterable[Result], out: object = sys.stdout, *,
           each: bool = True) -> Tally:
    results = list(results)
    write = out.write  # type: ignore[attr-defined]
    if each:
        for r in results:
            write(describe(r))
    t = tally(results)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(t.by_status.items()))
    write(f"\ncatalogue: {t.size} mutants, {len(t.equivalent)} equivalent "
          f"({', '.join(t.equivalent) or 'none'}: not misses, not counted), {t.real} real "
          f"({counts})\n")
    write(f"kill rate by sipfsm conformance: {t.killed}/{t.real} ({t.rate:.1f} %)\n")
    if t.misses:
        write(f"not killed: {', '.join(t.misses)}\n")
    if t.catalogue_bugs:
        write(f"catalogue bugs: {t.catalogue_bugs} (stale or broken mutants: fix the catalogue)\n")
    return t


def markdown(results: Iterable[Result]) -> str:
    """The per-mutant table (for benchmarks/mutation_results.md)."""
    results = list(results)
    t = tally(results)
    lines = [f"Kill rate by `sipfsm conformance`: **{t.killed}/{t.real} ({t.rate:.1f} %)** of "
             f"{t.real} real mutants; catalogue of {t.size}, {len(t.equivalent)} equivalent "
             f"({', '.join(t.equivalent) or 'none'}).", "",
             "| id | rule family | rule | verdict | s | caught by |", "|---|---|---|---|---|---|"]
    for r in results:
        verdict = r.status + (" (equivalent)" if r.mutant.equivalent else "")
        caught = ", ".join(r.records) or r.detail or r.mutant.equivalent
        lines.append(f"| {r.mutant.id} | {r.mutant.family} | {r.mutant.rule.replace('|', '/')}"
                     f" | {verdict} | {r.seconds:.0f} | {caught.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated mutant ids")
    parser.add_argument("--list", action="store_true",
                        help="list the catalogue; exit 1 on a stale or broken mutant")
    parser.add_argument("--quick", action="store_true",
                        help="run only the sections each mutant names (faster, weaker)")
    parser.add_argument("--tests", action="store_true", help="also run the test tree")
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds per mutant's conformance run (default 180); a run "
                             "over it is reported as timeout, never as killed")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--results", type=Path, default=None,
                        help="also write the per-mutant table (Markdown) to this file")
    args = parser.parse_args(argv)
    if args.timeout <= 0 or args.examples < 1:
        parser.error("--timeout must be positive and --examples at least 1")
    chosen = list(CATALOGUE)
    if args.only:
        wanted = {i.strip() for i in args.only.split(",") if i.strip()}
        unknown = wanted - {m.id for m in CATALOGUE}
        if unknown:
            parser.error(f"unknown mutant ids: {', '.join(sorted(unknown))}")
        chosen = [m for m in CATALOGUE if m.id in wanted]
    if args.list:
        bugs = 0
        for m in chosen:
            text, bug = applied(m)
            bugs += text is None
            state = "ok" if text is not None else bug.split(":", 1)[0].upper()
            if m.equivalent:
                state += " (equivalent)"
            print(f"{m.id:<4} {state:<18} {m.path:<27} {m.family}: {m.rule}")
            if text is None:
                print(f"catalogue bug: {bug}")
        print(f"{len(chosen)} mutants, {sum(bool(m.equivalent) for m in chosen)} equivalent")
        return 1 if bugs else 0
    if not args.no_baseline and any(not m.judged_by for m in chosen):
        broken = baseline(examples=args.examples, timeout=args.timeout)
        if broken:
            print(f"baseline: the unmutated copy already fails {', '.join(broken)}")
            return 1
        print("baseline: every applicable record passes on the unmutated copy")
    for paths in sorted({m.judged_by for m in chosen if m.judged_by and not args.no_baseline}):
        failing = baseline_tests(paths, timeout=args.timeout)
        if failing:
            print(f"baseline: the unmutated copy already fails {', '.join(failing)}")
            return 1
        print(f"baseline: pytest {' '.join(paths)} passes on the unmutated copy")
    results = []
    for m in chosen:  # one at a time: the machine is shared
        results.append(run_mutant(m, examples=args.examples, timeout=args.timeout,
                                  quick=args.quick, tests=args.tests))
        sys.stdout.write(describe(results[-1]))
        sys.stdout.flush()
    t = report(results, each=False)
    if args.results is not None:
        args.results.write_text(markdown(results), encoding="utf-8")
    return 0 if t.killed == t.real and not t.catalogue_bugs else 1


if __name__ == "__main__":
    sys.exit(main())
