"""Benchmark: the transitions-based non-INVITE client transaction against a hand-written if/else
version of the same logic, in the same run, through the simulator.

* throughput: transactions per second of wall time for REGISTER -> 200 OK -> Timer K, over the
  simulated network (UDP, no faults) to a stateless responder; everything but the transaction's
  state logic (parsing, the layer, the network, the scheduler) is shared by both versions;
* the same with parsing and the network taken out (the transaction's own cost, Via and
  serialisation included);
* memory: bytes per live transaction (tracemalloc), for transactions waiting in Trying over a link
  that answers nothing (the request object itself is built before measuring and not counted);
* the cost of attaching a model to a stock ``transitions.Machine`` with ``add_model`` versus
  sipfsm's ``SharedMachine.attach``;
* the layer's CPU per transaction as a registration client spends it (issue 14): ``send_request``,
  ``receive`` of the 200's bytes (parsing included, and the parse alone beside it), the response
  handed to the transaction, Timer K firing; over ports that cost nothing (a list for the
  transport, timers that never fire by themselves).  With ``--baseline PATH`` (another checkout
  of sipfsm) only this is measured, in alternating subprocesses, and the ratios are printed.

Run: ``python benchmarks/transaction.py [--transactions N] [--live N] [--repeat N]
[--baseline PATH]``.
Targets: machine throughput >= 0.5 x hand-written; <= 4 KiB per live transaction.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transitions import Machine

from sipfsm.conformance.checks_transaction import CLIENT, SERVER, make_request
from sipfsm.errors import TransportError
from sipfsm.message import Request, Response
from sipfsm.ports import Target, Transport
from sipfsm.sim import Network, Scheduler, SeededRandom, StatelessResponder
from sipfsm.sim.harness import ScriptedTransport
from sipfsm.transaction import (  # _EXECUTE: the driver's output table
    _EXECUTE,
    COMPLETED,
    PROCEEDING,
    STATES,
    TERMINATED,
    TRANSACTION_MACHINE,
    TRANSITIONS,
    TRYING,
    NonInviteClientTransaction,
    TransactionLayer,
    TransactionOwner,
)

TARGET = Target("UDP", SERVER.host, SERVER.port)


class HandTransaction(NonInviteClientTransaction):
    """The same §17.1.2 logic as plain if/else on a state string: no transitions at all."""

    __slots__ = ()

    def __init__(
        self,
        layer: TransactionLayer,
        request: Request,
        target: Target,
        transport: Transport,
        owner: TransactionOwner,
        branch: str,
        *,
        moved_to_tcp: bool = False,
    ) -> None:
        self._layer = layer
        self.request = request
        self.method = request.method
        self.owner = owner
        self.branch = branch
        self.moved_to_tcp = moved_to_tcp
        self.udp_fallback = False
        self.retransmissions = 0
        self.timer_values = layer.timer_values
        self.interval = layer.timer_values.t1
        self._timer_e = self._timer_f = self._timer_k = None
        self._busy = False
        self._queue = None
        self.state = TRYING
        self._use(transport, target)

    def _do(self, action: Any, *args: Any) -> None:
        """Run one of the table's actions and execute its outputs at once."""
        self.out = []
        action(*args)
        for output in self.out:
            _EXECUTE[type(output)](self, output)

    def receive_response(self, response: Response) -> None:
        state = self.state
        if state in (TRYING, PROCEEDING):
            if response.status < 200:
                self.state = PROCEEDING
                self.owner.on_provisional(self, response)
            else:
                self.state = COMPLETED
                self._do(self._enter_completed)
                self.owner.on_final(self, response)
        elif state != COMPLETED:
            raise RuntimeError(f"response in {state}")

    def transport_failed(self, error: Exception) -> None:
        if self.state in (TRYING, PROCEEDING):
            self.state = TERMINATED
            self._do(self._enter_terminated)
            self.owner.on_transport_error(self, error)

    def _transmit(self, output: Any = None) -> None:
        try:
            self._transport.send(self._data, self.target)
        except TransportError as error:
            self.transport_failed(error)

    def _timer_e_fired(self) -> None:
        self._timer_e = None
        if self.state == TRYING:
            self._do(self._retransmit_backing_off)
        elif self.state == PROCEEDING:
            self._do(self._retransmit_at_t2)

    def _timer_f_fired(self) -> None:
        self._timer_f = None
        if self.state in (TRYING, PROCEEDING):
            self.state = TERMINATED
            self._do(self._enter_terminated)
            self.owner.on_timeout(self)

    def _timer_k_fired(self) -> None:
        self._timer_k = None
        self.state = TERMINATED
        self._do(self._enter_terminated)


class HandLayer(TransactionLayer):
    def _new_transaction(self, *args: Any, **kwargs: Any) -> NonInviteClientTransaction:
        return HandTransaction(self, *args, **kwargs)


class CountingOwner:
    __slots__ = ("finals", "others")

    def __init__(self) -> None:
        self.finals = 0
        self.others = 0

    def on_provisional(self, tx: Any, response: Any) -> None:
        pass

    def on_final(self, tx: Any, response: Any) -> None:
        self.finals += 1

    def on_timeout(self, tx: Any) -> None:
        self.others += 1

    def on_transport_error(self, tx: Any, error: Exception) -> None:
        self.others += 1


def throughput(layer_class: type[TransactionLayer], count: int, batch: int = 500) -> float:
    """Transactions per second: REGISTER, 200 OK, Timer K, through the simulator."""
    clock = Scheduler()
    network = Network(clock, seed=1)
    client = network.endpoint(CLIENT, "UDP")
    network.endpoint(SERVER, "UDP", StatelessResponder(clock, (200,)))
    layer = layer_class(client, clock, SeededRandom(1))
    client.bind(layer)
    owner = CountingOwner()
    request = make_request()
    gc.collect()
    start = time.perf_counter()
    done = 0
    while done < count:
        for _ in range(min(batch, count - done)):
            layer.send_request(request, TARGET, owner)
        done += batch
        clock.run_until_idle()
    elapsed = time.perf_counter() - start
    assert owner.finals == count and owner.others == 0 and len(layer) == 0
    return count / elapsed


def logic_throughput(layer_class: type[TransactionLayer], count: int) -> float:
    """Transactions per second with parsing and the network taken out: the response object is
    handed straight to the transaction (send, 100, 200, Timer K over a scripted transport)."""
    clock = Scheduler()
    transport = ScriptedTransport(clock, "UDP", CLIENT)
    layer = layer_class(transport, clock, SeededRandom(1))
    owner = CountingOwner()
    request = make_request()
    trying = Response(100, "Trying", request.headers)
    ok = Response(200, "OK", request.headers)
    gc.collect()
    start = time.perf_counter()
    for _ in range(count):
        tx = layer.send_request(request, TARGET, owner)
        tx.receive_response(trying)
        tx.receive_response(ok)
        transport.sent.clear()
        clock.run_until_idle()
    elapsed = time.perf_counter() - start
    assert owner.finals == count and len(layer) == 0
    return count / elapsed


def request_memory(count: int) -> float:
    """Bytes per REGISTER request object as the TU builds it (not part of the transaction)."""
    make_request(0)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    requests = [make_request(n) for n in range(1, count + 1)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(requests) == count
    return (after - before) / count


def live_memory(layer_class: type[TransactionLayer], count: int) -> float:
    """Bytes per live transaction (in Trying, Timers E and F pending)."""
    clock = Scheduler()
    network = Network(clock, seed=1, icmp=False)  # nothing bound at SERVER: a black hole
    client = network.endpoint(CLIENT, "UDP")
    layer = layer_class(client, clock, SeededRandom(1))
    client.bind(layer)
    owner = CountingOwner()
    requests = [make_request(n) for n in range(1, count + 1)]
    layer.send_request(make_request(), TARGET, owner)  # warm caches
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    transactions = [layer.send_request(r, TARGET, owner) for r in requests]
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(transactions) == count
    return (after - before) / count


def attach_cost(count: int) -> tuple[float, float]:
    """Bytes per model: stock ``Machine.add_model`` versus ``SharedMachine.attach``."""

    class Plain:
        pass

    class Slotted:
        __slots__ = ("state",)

    stock = Machine(
        model=None,
        states=[s["name"] for s in STATES],
        transitions=[
            {"trigger": t["trigger"], "source": t["source"], "dest": t["dest"]}
            for t in TRANSITIONS
        ],
        initial=TRYING,
        auto_transitions=False,
    )

    def measure(make: Callable[[], Any], attach: Callable[[Any], None]) -> float:
        models = [make() for _ in range(count)]
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for model in models:
            attach(model)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return (after - before) / count

    return measure(Plain, stock.add_model), measure(Slotted, TRANSACTION_MACHINE.attach)


def layer_cpu(count: int) -> dict[str, float]:
    """CPU microseconds per transaction (process time) of the pieces measured apart: ``send``
    (send_request), ``receive`` (the 200's bytes through ``TransactionLayer.receive``, parsing
    included), ``parse`` (the same bytes parsed alone, in a tight loop: for scale only, it is
    cheaper there than inside ``receive``), ``response`` (a parsed 200 handed to
    ``receive_response``), ``timer_k`` (Timer K firing).  Uses only the public API, so that it
    runs on an older checkout too."""
    import re

    from sipfsm.message import Headers, parse, parse_uri
    from sipfsm.ports import HostPort

    class Handle:
        __slots__ = ("callback",)

        def __init__(self, callback: Callable[[], None]) -> None:
            self.callback = callback

        def cancel(self) -> None:
            pass

    class Timers:
        def __init__(self) -> None:
            self.k: list[Handle] = []

        def start(self, name: str, delay: float, callback: Callable[[], None]) -> Handle:
            handle = Handle(callback)
            if name == "K":
                self.k.append(handle)
            return handle

    class ListTransport:
        name = "UDP"
        reliable = False
        address = HostPort("127.0.0.1", 5070)

        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def local_address(self) -> HostPort:
            return self.address

        def send(self, data: bytes, target: Target) -> None:
            self.sent.append(data)

    class SecretsLikeRandom:  # the token's cost is the Random port's, not the layer's
        def __init__(self) -> None:
            self.n = 0

        def token(self, nbits: int) -> str:
            self.n += 1
            return f"{self.n:015d}"

        def uniform(self, lo: float, hi: float) -> float:
            return lo

    via = re.compile(rb"\r\nVia: ([^\r]*)")
    template = (
        b"SIP/2.0 200 OK\r\nVia: %s;received=127.0.0.1;rport=5070\r\n"
        b"From: <sip:u@sipfsm.test>;tag=f00\r\nTo: <sip:u@sipfsm.test>;tag=b27e\r\n"
        b"Call-ID: c0ffee@127.0.0.1\r\nCSeq: %d REGISTER\r\n"
        b"Contact: <sip:u@127.0.0.1:5070>;expires=3600\r\nContent-Length: 0\r\n\r\n"
    )
    transport, timers = ListTransport(), Timers()
    layer = TransactionLayer(transport, timers, SecretsLikeRandom())
    target = Target("UDP", "127.0.0.1", 5060)
    source = HostPort("127.0.0.1", 5060)
    owner = CountingOwner()
    uri = parse_uri("sip:sipfsm.test")
    requests = [
        Request("REGISTER", uri, Headers([
            ("Max-Forwards", "70"), ("To", "<sip:u@sipfsm.test>"),
            ("From", "<sip:u@sipfsm.test>;tag=f00"), ("Call-ID", "c0ffee@127.0.0.1"),
            ("CSeq", f"{n % 50 + 1} REGISTER"), ("Contact", "<sip:u@127.0.0.1:5070>"),
            ("Expires", "3600"), ("Content-Length", "0")]))
        for n in range(count)
    ]  # fmt: skip
    clock = time.process_time
    gc.collect()
    gc.disable()  # the collector's pauses are not the layer's
    try:
        start = clock()
        for request in requests:
            layer.send_request(request, target, owner)
        send = clock() - start
        answers = []
        for n, data in enumerate(transport.sent):
            found = via.search(data)
            assert found is not None
            answers.append(template % (found.group(1).replace(b";rport", b""), n % 50 + 1))
        half = count // 2
        start = clock()
        for data in answers[:half]:
            layer.receive(data, source, transport)
        receive = clock() - start
        start = clock()
        for data in answers[:half]:
            parse(data)
        parsing = clock() - start
        rest = [parse(data) for data in answers[half:]]
        transactions = [layer.get(response.vias[0].branch or "") for response in rest]
        start = clock()
        for tx, response in zip(transactions, rest, strict=True):
            assert tx is not None
            tx.receive_response(response)  # type: ignore[arg-type]
        response_time = clock() - start
        start = clock()
        for handle in timers.k:
            handle.callback()
        timer_k = clock() - start
    finally:
        gc.enable()
    assert owner.finals == count and len(layer) == 0, (owner.finals, len(layer))
    return {"send": send / count * 1e6, "receive": receive / half * 1e6,
            "parse": parsing / half * 1e6, "response": response_time / (count - half) * 1e6,
            "timer_k": timer_k / count * 1e6}


def _best_layer_cpu(count: int, repeat: int) -> dict[str, float]:
    runs = [layer_cpu(count) for _ in range(repeat)]
    return {key: min(run[key] for run in runs) for key in runs[0]}


def _child(checkout: Path, count: int, repeat: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(count), str(repeat)],
        capture_output=True, text=True, env=env, check=True, timeout=600,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def compare(baseline: Path, count: int, rounds: int) -> None:
    """``layer_cpu`` for this checkout and ``baseline``, alternating subprocesses."""
    ours: list[dict[str, float]] = []
    base: list[dict[str, float]] = []
    here = Path(__file__).resolve().parent.parent
    for _ in range(rounds):
        ours.append(_child(here, count, 3))
        base.append(_child(baseline, count, 3))
    print(f"layer CPU per transaction (us, median of {rounds} rounds of best-of-3, "
          f"{count} transactions; ports cost nothing):")
    print(f"  {'':10} {'this':>8} {'baseline':>9} {'ratio':>6}")
    for key in ours[0]:
        mine = statistics.median(run[key] for run in ours)
        theirs = statistics.median(run[key] for run in base)
        print(f"  {key:10} {mine:8.2f} {theirs:9.2f} {mine / theirs:6.2f}")

    def whole(runs: list[dict[str, float]]) -> float:
        # One transaction as a client lives it: sent, answered (parse included), Timer K.
        return statistics.median(r["send"] + r["receive"] + r["timer_k"] for r in runs)

    print(f"  {'whole':10} {whole(ours):8.2f} {whole(base):9.2f} "
          f"{whole(ours) / whole(base):6.2f}   (send + receive + timer_k)")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(_best_layer_cpu(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--live", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another sipfsm checkout: compare the layer's CPU per transaction")
    parser.add_argument("--rounds", type=int, default=5, help="with --baseline")
    args = parser.parse_args()
    if args.baseline is not None:
        compare(args.baseline, args.transactions, args.rounds)
        return

    machine_rates, hand_rates = [], []
    for _ in range(args.repeat):  # interleaved, best of N
        machine_rates.append(throughput(TransactionLayer, args.transactions))
        hand_rates.append(throughput(HandLayer, args.transactions))
    machine_rate, hand_rate = max(machine_rates), max(hand_rates)
    machine_logic = max(logic_throughput(TransactionLayer, args.transactions)
                        for _ in range(args.repeat))
    hand_logic = max(logic_throughput(HandLayer, args.transactions) for _ in range(args.repeat))
    machine_mem = live_memory(TransactionLayer, args.live)
    hand_mem = live_memory(HandLayer, args.live)
    request_mem = request_memory(args.live)
    stock_attach, shared_attach = attach_cost(2_000)

    print(f"throughput (REGISTER -> 200 -> Timer K, {args.transactions} tx, best of "
          f"{args.repeat}):")
    print(f"  transitions machine  {machine_rate:10.0f} tx/s")
    print(f"  hand-written if/else {hand_rate:10.0f} tx/s")
    print(f"  ratio machine/hand   {machine_rate / hand_rate:10.2f}   (target >= 0.5)")
    print("state logic only (no parsing, no network; send, 100, 200, Timer K):")
    print(f"  transitions machine  {machine_logic:10.0f} tx/s")
    print(f"  hand-written if/else {hand_logic:10.0f} tx/s")
    print(f"  ratio machine/hand   {machine_logic / hand_logic:10.2f}")
    print(f"memory per live transaction ({args.live} live, request not counted):")
    print(f"  transitions machine  {machine_mem:10.0f} B")
    print(f"  hand-written if/else {hand_mem:10.0f} B")
    print(f"  ratio machine/hand   {machine_mem / hand_mem:10.2f}   (target <= 4096 B)")
    print(f"  + the TU's request   {request_mem:10.0f} B (kept by the transaction: "
          f"{machine_mem + request_mem:.0f} B in all)")
    print("attaching one model:")
    print(f"  Machine.add_model     {stock_attach:8.0f} B (trigger/is_/may_ methods bound "
          f"per model)")
    print(f"  SharedMachine.attach  {shared_attach:8.0f} B")


if __name__ == "__main__":
    main()
