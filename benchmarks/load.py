"""``sipfsm load`` against the test Kamailio, with SIPp measured in the same run (issue 14).

Two figures, each printed with SIPp's in the same run and the ratio:

1. **CPU per registration** -- one registration is REGISTER -> 401 -> REGISTER with credentials
   -> 200 over UDP.  ``sipfsm load --processes 1`` registers ``--cpu-users`` users at
   ``--cpu-rate``/s; its CPU is the worker process's own CPU time (``time.process_time`` from
   the first REGISTER to the end of the run, reported by ``sipfsm load --json``).  SIPp
   (``tests/interop/sipp/register_load.xml``) registers as many other users at the same rate;
   its CPU is the child's user + system time (``resource.getrusage(RUSAGE_CHILDREN)``).
   Target: sipfsm <= 140 us per registration.
2. **Clean capacity** -- the highest offered rate at which every registration of a
   ``--step-seconds`` step succeeds with no failure and no retransmission: a rate sweep of
   ``sipfsm load --processes <every core>`` and a sweep of SIPp, each stopping at its first
   unclean step.  Target: sipfsm >= 0.5 x SIPp.

``--baseline PATH`` (another checkout of sipfsm, e.g. ``git worktree add /tmp/base <commit>``)
runs the CPU step also with that checkout's ``sipfsm load`` (``PYTHONPATH=PATH``), alternating
with this one (``--cpu-rounds`` pairs), against the same Kamailio at the same rate, and prints the
ratio this / baseline of the medians: the figure to prove a cut with.

Kamailio: ``tests/interop/kamailio_fixture.KamailioProcess`` (the test configuration: digest,
``tm`` absorbing retransmissions, password ``pw-<user>``), ``--kamailio-children`` UDP workers.
Each step registers users no earlier step used.  Every run is bounded in users and in time.
The machine may be shared with other work: the figures say so; compare ratios, not absolutes.

Run: ``python benchmarks/load.py [--cpu-rate 1000] [--cpu-users 5000] [--step-seconds 3]
[--baseline PATH [--cpu-rounds 3]] [--skip-sweep]``.
Exit status 1 when a target is missed, 2 when the run could not be set up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.interop.kamailio_fixture import (  # noqa: E402
    DEFAULT_REALM,
    SIPP_DIR,
    KamailioError,
    KamailioProcess,
    kamailio_available,
    sipp_available,
    sipp_binary,
    write_sipp_users_csv,
)

CPU_TARGET_US = 140.0
CAPACITY_TARGET = 0.5


@dataclass
class Step:
    """One run at one offered rate."""

    who: str
    offered: float
    users: int
    ok: int = 0
    failed: int = 0
    retransmissions: int = 0
    seconds: float = 0.0  # first REGISTER to the last initial outcome
    cpu_seconds: float = 0.0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return self.ok == self.users and not self.failed and not self.retransmissions

    @property
    def achieved(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us(self) -> float | None:
        return self.cpu_seconds / self.ok * 1e6 if self.ok else None

    def line(self) -> str:
        cpu = "" if self.cpu_us is None else f", CPU {self.cpu_us:.0f} us/registration"
        verdict = "clean" if self.clean else "NOT clean"
        return (
            f"  {self.who:6} offered {self.offered:8.0f}/s: {self.ok}/{self.users} ok, "
            f"{self.failed} failed, {self.retransmissions} retransmissions, "
            f"{self.achieved:8.0f}/s achieved{cpu}  [{verdict}]"
            + (f" ({self.note})" if self.note else "")
        )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sipfsm(
    kam: KamailioProcess, rate: float, users: int, first: int, processes: int, settle: float,
    repo: Path = REPO, who: str = "sipfsm",
) -> Step:
    """``sipfsm load`` of the checkout ``repo`` (its own package only: PYTHONPATH and the
    working directory are ``repo``)."""
    duration = users / rate + settle
    cmd = [
        sys.executable, "-m", "sipfsm", "load",
        "--registrar", f"udp:{kam.host}:{kam.udp_port}", "--domain", DEFAULT_REALM,
        "--users", str(users), "--first", str(first), "--password-pattern", "pw-{user}",
        "--rate", str(rate), "--expires", "3600", "--duration", f"{duration:.2f}",
        "--processes", str(processes), "--max-failures", str(users), "--json", "--quiet",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(repo))
    step = Step(who, rate, users)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=duration + 60, env=env, check=False,
            cwd=repo,
        )  # fmt: skip
        data = json.loads(proc.stdout)
    except (subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        step.note = f"no result: {type(exc).__name__}"
        return step
    step.ok = int(data["registered"])
    step.failed = int(data["failed"]) + int(data["never_registered"])
    step.retransmissions = int(data["retransmissions"])
    step.seconds = float(data["ramp_seconds"])
    step.cpu_seconds = float(data["cpu_seconds"])
    step.extra = {"processes": data["processes"], "latency_ms": data["latency_ms"]}
    return step


def run_sipp(
    kam: KamailioProcess, rate: float, users: int, first: int, workdir: Path, settle: float
) -> Step:
    binary = sipp_binary()
    step = Step("SIPp", rate, users)
    if binary is None:
        step.note = sipp_available() or "sipp not found"
        return step
    csv = write_sipp_users_csv(workdir / f"users-{first}.csv", users, prefix="u", start=first)
    stat = workdir / f"sipp-{first}.csv"
    budget = users / rate + settle + 30
    cmd = [
        binary, f"{kam.host}:{kam.udp_port}", "-sf", str(SIPP_DIR / "register_load.xml"),
        "-inf", str(csv), "-m", str(users), "-r", str(int(rate)), "-l", str(users),
        "-i", kam.host, "-set", "domain", DEFAULT_REALM, "-set", "expires", "3600",
        "-nostdin", "-default_behaviors", "all,-bye", "-max_retrans", "3",
        "-timeout", f"{int(budget)}s", "-timeout_error", "-trace_stat", "-stf", str(stat),
        "-fd", "1",
    ]  # fmt: skip
    cpu0 = _children_cpu()
    try:
        subprocess.run(
            cmd, cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=budget + 10, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        step.note = "did not exit in time"
    step.cpu_seconds = _children_cpu() - cpu0
    try:
        lines = [ln for ln in stat.read_text().splitlines() if ln.strip()]
        header = lines[0].rstrip(";").split(";")
        row = dict(zip(header, lines[-1].rstrip(";").split(";"), strict=False))
        step.ok = int(row["SuccessfulCall(C)"])
        step.failed = int(row["FailedCall(C)"])
        step.retransmissions = int(row["Retransmissions(C)"])
        step.seconds = float(row["CurrentTime"].split("\t")[-1]) - float(
            row["StartTime"].split("\t")[-1]
        )
    except (OSError, IndexError, KeyError, ValueError) as exc:
        step.note = f"no statistics: {exc}"
    return step


def sweep(run: Any, rates: list[float], step_seconds: float, first: list[int]) -> list[Step]:
    steps: list[Step] = []
    for rate in rates:
        users = max(10, int(rate * step_seconds))
        step = run(rate, users, first[0])
        first[0] += users
        steps.append(step)
        print(step.line(), flush=True)
        if not step.clean:
            break
    return steps


def _against_baseline(
    kam: KamailioProcess, ours: Step, baseline: Path, rate: float, users: int, first: list[int],
    rounds: int, settle: float, out: dict[str, Any],
) -> Step:
    """Alternate this checkout and the baseline ``rounds`` times at one rate (``ours`` is this
    checkout's first run); print each run and the ratio of the median CPU per registration.
    Returns this checkout's median run."""
    mine, theirs = [ours], []
    for index in range(rounds):
        if index:
            mine.append(run_sipfsm(kam, rate, users, first[0], 1, settle))
            first[0] += users
            print(mine[-1].line(), flush=True)
        theirs.append(run_sipfsm(kam, rate, users, first[0], 1, settle, repo=baseline,
                                 who="base"))  # fmt: skip
        first[0] += users
        print(theirs[-1].line(), f"(baseline {baseline})", flush=True)
    out["rounds"] = {"sipfsm": [vars(s) for s in mine], "baseline": [vars(s) for s in theirs]}

    def median(steps: list[Step]) -> Step:
        measured = sorted((s for s in steps if s.cpu_us is not None), key=lambda s: s.cpu_us or 0)
        return measured[(len(measured) - 1) // 2] if measured else steps[0]

    ours_mid, base_mid = median(mine), median(theirs)
    if ours_mid.cpu_us is not None and base_mid.cpu_us is not None:
        ratio = ours_mid.cpu_us / base_mid.cpu_us
        unclean = sum(not s.clean for s in mine + theirs)
        print(f"  CPU per registration, medians of {rounds}: this checkout "
              f"{ours_mid.cpu_us:.0f} us, baseline {base_mid.cpu_us:.0f} us: "
              f"this / baseline = {ratio:.2f}"
              + (f"  ({unclean} run(s) not clean: retransmissions cost CPU too)" if unclean
                 else ""), flush=True)  # fmt: skip
        out["baseline_ratio"] = ratio
        out["baseline_cpu_us"] = base_mid.cpu_us
        out["sipfsm_cpu_us_median"] = ours_mid.cpu_us
        out["spread_us"] = {
            "sipfsm": [round(s.cpu_us or 0.0, 1) for s in mine],
            "baseline": [round(s.cpu_us or 0.0, 1) for s in theirs],
        }
    else:
        print("  CPU per registration: no figure for one of the checkouts", flush=True)
    return ours_mid


def clean_capacity(steps: list[Step]) -> float:
    return max((s.offered for s in steps if s.clean), default=0.0)


def _rates(text: str) -> list[float]:
    return [float(r) for r in text.split(",") if r.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cpu-rate", type=float, default=1000.0, help="offered rate of the CPU comparison [1000]"
    )
    parser.add_argument(
        "--cpu-users", type=int, default=5000, help="registrations in the CPU comparison [5000]"
    )
    parser.add_argument(
        "--sipfsm-rates",
        default="500,1000,2000,3000,4000,6000,8000",
        help="sipfsm's sweep, offered registrations/s",
    )
    parser.add_argument(
        "--sipp-rates",
        default="1000,2000,4000,6000,8000,12000,16000",
        help="SIPp's sweep, offered registrations/s",
    )
    parser.add_argument(
        "--step-seconds", type=float, default=3.0, help="seconds of offered load per sweep step [3]"
    )
    parser.add_argument(
        "--settle", type=float, default=5.0, help="seconds allowed after a step's last REGISTER [5]"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="sipfsm load processes in the sweep [every core]",
    )
    parser.add_argument("--kamailio-children", type=int, default=2, help="Kamailio UDP workers [2]")
    parser.add_argument("--kamailio-shm", type=int, default=512, help="Kamailio shm, MiB [512]")
    parser.add_argument("--skip-sweep", action="store_true", help="only the CPU comparison")
    parser.add_argument(
        "--baseline", type=Path, default=None, metavar="PATH",
        help="another sipfsm checkout: its CPU per registration too, same run, and the ratio",
    )  # fmt: skip
    parser.add_argument(
        "--cpu-rounds", type=int, default=3,
        help="with --baseline: alternating runs of each checkout, medians compared [3]",
    )  # fmt: skip
    parser.add_argument("--json", metavar="PATH", default=None, help="also write JSON here")
    args = parser.parse_args(argv)  # fmt: skip
    if args.baseline is not None and not (args.baseline / "sipfsm" / "__init__.py").is_file():
        print(f"load.py: --baseline {args.baseline}: not a sipfsm checkout", file=sys.stderr)
        return 2
    reason = kamailio_available()
    if reason is not None:
        print(f"load.py: {reason}", file=sys.stderr)
        return 2
    if sipp_available() is not None:
        print(f"load.py: {sipp_available()} (SIPp is the baseline)", file=sys.stderr)
        return 2
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    processes = args.processes or cores
    missed: list[str] = []
    result: dict[str, Any] = {"cores": cores, "processes": processes}
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sipfsm-load-")))
        def fresh_kamailio(name: str) -> KamailioProcess:
            started = KamailioProcess(
                workdir / name, min_expires=60, max_expires=3600, default_expires=3600,
                children=args.kamailio_children, shm_mb=args.kamailio_shm, debug=1,
            )  # fmt: skip
            stack.enter_context(started)
            return started

        try:
            kam = fresh_kamailio("kamailio")
        except KamailioError as exc:
            print(f"load.py: Kamailio did not start: {exc}", file=sys.stderr)
            return 2
        errors = 0
        first = [0]
        print(
            f"Kamailio (test configuration, tm) udp:{kam.host}:{kam.udp_port}, "
            f"{args.kamailio_children} UDP workers; {cores} cores (the machine may be shared "
            "with other work: compare the ratios)"
        )

        print(f"\n1. CPU per registration (REGISTER -> 401 -> REGISTER -> 200, UDP), "
              f"{args.cpu_users} registrations offered at {args.cpu_rate:.0f}/s")  # fmt: skip
        # CPU per registration is only comparable on a clean run (retransmissions and timeouts
        # cost CPU too): on a busy machine the rate is halved until the run is clean (3 tries).
        rate, users = args.cpu_rate, args.cpu_users
        for attempt in range(3):
            ours = run_sipfsm(kam, rate, users, first[0], 1, args.settle)
            first[0] += users
            if ours.clean or attempt == 2:
                break
            print(ours.line(), "-> not clean: halving the rate", flush=True)
            rate, users = rate / 2, max(200, users // 2)
        print(ours.line(), "(one process; its own CPU time)", flush=True)
        if args.baseline is not None:
            result["cpu"] = {"baseline_path": str(args.baseline)}
            ours = _against_baseline(
                kam, ours, args.baseline, rate, users, first, max(1, args.cpu_rounds), args.settle,
                result["cpu"],
            )  # fmt: skip
        theirs = run_sipp(kam, rate, users, first[0], workdir, args.settle)
        first[0] += users
        print(theirs.line(), "(SIPp's user + system time)", flush=True)
        result.setdefault("cpu", {}).update({"sipfsm": vars(ours), "sipp": vars(theirs)})
        if ours.cpu_us is not None and theirs.cpu_us:
            ratio = ours.cpu_us / theirs.cpu_us
            print(f"  CPU per registration: sipfsm {ours.cpu_us:.0f} us, SIPp {theirs.cpu_us:.0f}"
                  f" us: sipfsm / SIPp = {ratio:.2f}  (target sipfsm <= {CPU_TARGET_US:.0f} us:"
                  f" {'met' if ours.cpu_us <= CPU_TARGET_US else 'MISSED'})")  # fmt: skip
            result["cpu"]["ratio"] = ratio
        if ours.cpu_us is None or ours.cpu_us > CPU_TARGET_US:
            missed.append(f"CPU per registration {ours.cpu_us or float('nan'):.0f} us")

        if not args.skip_sweep:
            print(f"\n2. Clean capacity: {args.step_seconds:g} s steps; sipfsm load with "
                  f"{processes} process(es)")  # fmt: skip
            # Each sweep against its own fresh Kamailio: the unclean step that ends one sweep
            # leaves the registrar with a backlog (tm transactions, shm) that would otherwise
            # count against whichever sweep runs second.
            errors += kam.log_text().count(" ERROR:")
            kam.stop()
            kam = fresh_kamailio("kamailio-sweep-sipfsm")
            our_steps = sweep(
                lambda r, n, f: run_sipfsm(kam, r, n, f, processes, args.settle),
                _rates(args.sipfsm_rates), args.step_seconds, first,
            )  # fmt: skip
            errors += kam.log_text().count(" ERROR:")
            kam.stop()
            kam = fresh_kamailio("kamailio-sweep-sipp")
            their_steps = sweep(
                lambda r, n, f: run_sipp(kam, r, n, f, workdir, args.settle),
                _rates(args.sipp_rates), args.step_seconds, first,
            )  # fmt: skip
            ours_cap, theirs_cap = clean_capacity(our_steps), clean_capacity(their_steps)
            result["capacity"] = {
                "sipfsm": ours_cap, "sipp": theirs_cap,
                "sipfsm_steps": [vars(s) for s in our_steps],
                "sipp_steps": [vars(s) for s in their_steps],
            }  # fmt: skip
            if theirs_cap:
                ratio = ours_cap / theirs_cap
                result["capacity"]["ratio"] = ratio
                top = " (the top of its sweep: raise --sipp-rates)" if their_steps[-1].clean else ""
                print(f"  clean capacity: sipfsm {ours_cap:.0f}/s, SIPp {theirs_cap:.0f}/s{top}: "
                      f"sipfsm / SIPp = {ratio:.2f}  (target >= {CAPACITY_TARGET}: "
                      f"{'met' if ratio >= CAPACITY_TARGET else 'MISSED'})")  # fmt: skip
                if ratio < CAPACITY_TARGET:
                    missed.append(f"capacity ratio {ratio:.2f}")
            else:
                missed.append("SIPp had no clean step: no capacity ratio")
        errors += kam.log_text().count(" ERROR:")
        print(f"\nKamailio logs: {errors} ERROR lines")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
