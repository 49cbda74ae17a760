"""The standing mutation catalogue: deliberate violations of the RFCs sipfsm implements, each
applied in turn to a copy of the package, and the records of ``sipfsm conformance`` that catch
each one.

Each mutant is one rule broken the way a real bug would break it, written from the RFC text
(RFC 3261 §8.1, §10, §17.1.2, §17.1.3, §18.1, §22; RFC 7616; RFC 5626 §4.5 backoff), as a
textual patch: ``old`` must occur exactly once in ``path``.  A mutant whose ``old`` no longer
occurs exactly once is reported as *stale* (the code moved: re-express it), never skipped
silently.

    python benchmarks/mutation.py                  # the whole catalogue, kill rate at the end
    python benchmarks/mutation.py --only T03,D02   # some mutants
    python benchmarks/mutation.py --list           # the catalogue, and which mutants are stale
    python benchmarks/mutation.py --tests          # also run the test tree on each mutant

Exit status: 0 when every mutant is caught by ``sipfsm conformance`` (and none is stale),
1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
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
    # Written against sipfsm/registration.py before the registration core moved to
    # sipfsm/core/: re-express against the new core once it lands.
    reexpress: bool = False


REG = "sipfsm/registration.py"
CORE = "sipfsm/core/registration.py"
CLASSIFY = "sipfsm/core/classify.py"
VALUES = "sipfsm/core/values.py"
TX = "sipfsm/transaction.py"
DIGEST = "sipfsm/auth/digest.py"
CLIENT = "sipfsm/auth/client.py"
CHALLENGE = "sipfsm/auth/challenge.py"
URI = "sipfsm/message/uri.py"

CATALOGUE: tuple[Mutant, ...] = (
    # ---- RFC 3261 §17.1.2.2: the non-INVITE client transaction --------------------------------
    Mutant("T01", "RFC 3261 §17.1.2.2", "Timer E doubles: MIN(2*T1, T2), MIN(4*T1, T2) ...", TX,
           "self._interval = min(2 * self._interval, self._layer.timer_values.t2)",
           "self._interval = min(self._interval, self._layer.timer_values.t2)", ("17.1.2",)),
    Mutant("T02", "RFC 3261 §17.1.2.2", "Timer E is capped at T2 in Trying", TX,
           "self._interval = min(2 * self._interval, self._layer.timer_values.t2)",
           "self._interval = 2 * self._interval", ("17.1.2",)),
    Mutant("T03", "RFC 3261 §17.1.2.2", "Timer F = 64*T1", TX,
           "        return 64 * self.t1\n", "        return 32 * self.t1\n", ("17.1.2",)),
    Mutant("T04", "RFC 3261 §17.1.2.2", "Timer K = T4 for unreliable transports", TX,
           "return 0.0 if reliable else self.t4", "return 0.0", ("17.1.2",)),
    Mutant("T05", "RFC 3261 §17.1.2.2", "Timer K = 0 for reliable transports", TX,
           "return 0.0 if reliable else self.t4", "return self.t4", ("17.1.2",)),
    Mutant("T06", "RFC 3261 §17.1.2.2", "in Proceeding, Timer E fires every T2", TX,
           "        self._interval = self._layer.timer_values.t2\n        self._retransmit()",
           "        self._interval = min(2 * self._interval, self._layer.timer_values.t2)\n"
           "        self._retransmit()", ("17.1.2",)),
    Mutant("T07", "RFC 3261 §17.1.2.2", "Completed: no more retransmissions", TX,
           "    def _enter_completed(self, *_: object) -> None:\n        self._cancel_timers()\n",
           "    def _enter_completed(self, *_: object) -> None:\n"
           "        self._timer_f = self._timer_f and self._timer_f.cancel()\n", ("17.1.2",)),
    Mutant("T08", "RFC 3261 §17.1.2.2", "provisional responses are passed to the TU", TX,
           "        self.owner.on_provisional(self, response)\n", "        pass\n",
           ("17.1.2",)),
    Mutant("T09", "RFC 3261 §17.1.2.2", "a 1xx in Trying moves to Proceeding", TX,
           '{"trigger": "provisional", "source": TRYING, "dest": PROCEEDING,',
           '{"trigger": "provisional", "source": TRYING, "dest": None,', ("17.1.2",)),
    Mutant("T10", "RFC 3261 §17.1.2.2", "Terminated: destroyed at once", TX,
           "        self._layer._forget(self)\n", "        pass\n", ("17.1.2",)),
    Mutant("T11", "RFC 3261 §17.1.4", "a transport error ends the transaction, TU informed", TX,
           "        self.owner.on_transport_error(self, error)\n", "        pass\n",
           ("17.1.4",)),
    Mutant("T12", "RFC 3261 §17.1.2.2", "Timer E runs over unreliable transports only", TX,
           "        if not self._transport.reliable:\n            self._timer_e = ",
           "        if True:\n            self._timer_e = ", ("17.1.2",)),
    # ---- RFC 3261 §17.1.3 / §18.1.2 / §8.1.3.3: matching responses ------------------------------
    Mutant("M01", "RFC 3261 §17.1.3", "match on the top Via branch (not on Call-ID)", TX,
           "        tx = self._transactions.get(top.branch) if top.branch else None\n",
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
    Mutant("R06", "RFC 3261 §8.1.1.5", "CSeq below 2**31", CORE,
           "        if self.cseq + 1 >= 2**31:", "        if self.cseq + 1 >= 2**32:",
           ("8.1.1.5",)),
    Mutant("R07", "RFC 3261 §8.1.1.9", "Supported lists only extensions the UAC implements",
           CORE, "    if SUPPORTED_OPTION_TAGS:\n",
           '    items.append(("Supported", "path"))\n    if SUPPORTED_OPTION_TAGS:\n',
           ("8.1.1.9",)),
    # ---- RFC 3261 §10.2: registration ----------------------------------------------------------
    Mutant("G01", "RFC 3261 §10.2.2", "a removal carries Expires: 0", CORE,
           "    if plan.expires is not None:\n        items.append((\"Expires\"",
           "    if plan.expires:\n        items.append((\"Expires\"", ("10.2",)),
    Mutant("G02", "RFC 3261 §10.2.2", "'*' only alone", CORE,
           '        items.append(("Contact", "*"))',
           '        items.append(("Contact", "*"))\n'
           '        items.append(("Contact", f"<{config.aor}>"))', ("10.2.2",)),
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
           '            tail.append(f", opaque={quote(challenge.opaque)}")',
           '            tail.append(f", opaque={quote(challenge.opaque.upper())}")',
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
           '        return algorithm.h(f"{method}:{uri}:{algorithm.hash(b"")}")',
           ("RFC 7616 §3.4",)),
    # ---- RFC 3261 §19.1.4 URI comparison (used to find our binding in the 200) -----------------
    Mutant("U01", "RFC 3261 §19.1.4", "a port present in only one URI makes them differ", URI,
           "    if a.scheme != b.scheme or a.port != b.port:",
           "    if a.scheme != b.scheme or (a.port or 5060) != (b.port or 5060):",
           ("19.1.4", "10.2.1")),
)

CI_SUBSET = ("D04", "D07", "U01")  # tests/mutation runs these


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed | survived | stale | timeout | error
    records: list[str] = field(default_factory=list)  # records of sipfsm conformance failing
    tests_failed: int | None = None
    seconds: float = 0.0
    detail: str = ""


def occurrences(mutant: Mutant, root: Path = ROOT) -> int:
    path = root / mutant.path
    if not path.exists():
        return 0
    return path.read_text(encoding="utf-8").count(mutant.old)


def _copy(root: Path, into: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    shutil.copytree(root / "sipfsm", into / "sipfsm", ignore=ignore)
    shutil.copytree(root / "spec", into / "spec", ignore=ignore)
    if (root / "tests").is_dir():
        shutil.copytree(root / "tests", into / "tests", ignore=ignore)
    for name in ("pyproject.toml",):
        if (root / name).exists():
            shutil.copy2(root / name, into / name)


def _conformance(copy: Path, *, examples: int, timeout: float,
                 sections: Sequence[str] = ()) -> tuple[str, list[str], str]:
    """(status, failing records, detail) of ``sipfsm conformance`` run on ``copy``."""
    args = [sys.executable, "-m", "sipfsm", "conformance", "--format", "json", "--no-shrink",
            "--examples", str(examples)]
    for section in sections:
        args += ["--section", section]
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", [], f"sipfsm conformance ran over {timeout:.0f} s"
    try:
        verdicts = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return "error", [], (proc.stderr.strip().splitlines() or ["no output"])[-1]
    # A mutant is caught by records that *fail*; a record with no check (a gap of the
    # checklist, reported by the baseline) catches nothing.
    failing = [v["id"] for v in verdicts if v["applies"] and v["verdict"] == "fail"]
    return ("killed" if failing else "survived"), failing, ""


def _tests(copy: Path, timeout: float) -> int | None:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p",
                               "no:cacheprovider", "tests"], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return 0 if proc.returncode == 0 else 1


def run_mutant(mutant: Mutant, *, root: Path = ROOT, examples: int = 25,
               timeout: float = 300.0, quick: bool = False, tests: bool = False) -> Result:
    """Apply ``mutant`` to a copy of the package and run ``sipfsm conformance`` on it
    (``quick``: only the mutant's sections)."""
    start = time.monotonic()
    count = occurrences(mutant, root)
    if count != 1:
        return Result(mutant, "stale", detail=f"pattern found {count} times in {mutant.path}")
    with tempfile.TemporaryDirectory(prefix=f"sipfsm-mutant-{mutant.id}-") as tmp:
        copy = Path(tmp)
        _copy(root, copy)
        target = copy / mutant.path
        target.write_text(target.read_text(encoding="utf-8").replace(mutant.old, mutant.new, 1),
                          encoding="utf-8")
        status, records, detail = _conformance(
            copy, examples=examples, timeout=timeout,
            sections=mutant.sections if quick else ())
        result = Result(mutant, status, records, detail=detail)
        if tests:
            result.tests_failed = _tests(copy, timeout)
    result.seconds = time.monotonic() - start
    return result


def baseline(root: Path = ROOT, *, examples: int = 25, timeout: float = 300.0) -> list[str]:
    """Records failing on the unmutated copy (should be none)."""
    with tempfile.TemporaryDirectory(prefix="sipfsm-mutant-baseline-") as tmp:
        _copy(root, Path(tmp))
        status, records, detail = _conformance(Path(tmp), examples=examples, timeout=timeout)
    if status in ("timeout", "error"):
        return [f"({status}: {detail})"]
    return records


def describe(r: Result) -> str:
    m = r.mutant
    flag = " (re-express against sipfsm/core)" if m.reexpress else ""
    lines = [f"{m.id:<4} {r.status:<8} {r.seconds:6.1f}s  {m.family}: {m.rule}{flag}"]
    if r.records:
        lines.append(f"     caught by: {', '.join(r.records)}")
    if r.tests_failed is not None:
        lines.append(f"     test tree: {'fails' if r.tests_failed else 'passes'}")
    if r.detail:
        lines.append(f"     {r.detail}")
    return "\n".join(lines) + "\n"


def report(results: Iterable[Result], out: object = sys.stdout, *,
           each: bool = True) -> tuple[int, int]:
    results = list(results)
    write = out.write  # type: ignore[attr-defined]
    if each:
        for r in results:
            write(describe(r))
    live = [r for r in results if r.status != "stale"]
    killed = sum(r.status in ("killed", "timeout") for r in live)
    stale = len(results) - len(live)
    rate = 100.0 * killed / len(live) if live else 0.0
    write(f"\ncatalogue: {len(results)} mutants, {stale} stale; killed by sipfsm conformance: "
          f"{killed}/{len(live)} ({rate:.1f} %)\n")
    survivors = [r.mutant.id for r in live if r.status not in ("killed", "timeout")]
    if survivors:
        write(f"survivors: {', '.join(survivors)}\n")
    return killed, len(live)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated mutant ids")
    parser.add_argument("--list", action="store_true", help="list the catalogue (and staleness)")
    parser.add_argument("--quick", action="store_true",
                        help="run only the sections each mutant names (faster, weaker)")
    parser.add_argument("--tests", action="store_true", help="also run the test tree")
    parser.add_argument("--examples", type=int, default=25)
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds per conformance run (default 300)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants run in parallel")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    chosen = list(CATALOGUE)
    if args.only:
        wanted = {i.strip() for i in args.only.split(",") if i.strip()}
        unknown = wanted - {m.id for m in CATALOGUE}
        if unknown:
            parser.error(f"unknown mutant ids: {', '.join(sorted(unknown))}")
        chosen = [m for m in CATALOGUE if m.id in wanted]
    if args.list:
        for m in chosen:
            n = occurrences(m)
            state = "ok" if n == 1 else f"STALE ({n} matches)"
            print(f"{m.id:<4} {state:<16} {m.path:<26} {m.family}: {m.rule}")
        print(f"{len(chosen)} mutants")
        return 0 if all(occurrences(m) == 1 for m in chosen) else 1
    if not args.no_baseline:
        broken = baseline(examples=args.examples, timeout=args.timeout)
        if broken:
            print(f"baseline: the unmutated copy already fails {', '.join(broken)}")
            return 1
        print("baseline: every applicable record passes on the unmutated copy")
    results = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_mutant, m, examples=args.examples, timeout=args.timeout,
                               quick=args.quick, tests=args.tests) for m in chosen]
        for future in as_completed(futures):  # each result as soon as it is known
            results.append(future.result())
            sys.stdout.write(describe(results[-1]))
            sys.stdout.flush()
    killed, live = report(results, each=False)
    stale = len(results) - live
    return 0 if killed == live and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
