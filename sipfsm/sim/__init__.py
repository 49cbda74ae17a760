"""The deterministic simulator: virtual time, seeded randomness, an in-memory network with faults,
and a message recorder.  These are adapters for the ports of :mod:`sipfsm.ports`, for sipfsm's own
tests and for users' harnesses; nothing in the core imports this package.

>>> from sipfsm.sim import Scheduler, SeededRandom, Network, LinkFaults, Recorder
>>> clock = Scheduler()
>>> net = Network(clock, seed=1, faults=LinkFaults(loss=0.1, delay=(0.01, 0.05)),
...               recorder=Recorder(clock))
"""

from sipfsm.sim.clock import Scheduler, SimTimer, SimulationError, VirtualClock
from sipfsm.sim.network import LinkFaults, Network, SimTransport, address
from sipfsm.sim.random import SeededRandom
from sipfsm.sim.recorder import TRACE_FIELDS, Recorder, TraceEntry
from sipfsm.sim.responder import StatelessResponder, response_to

__all__ = [
    "TRACE_FIELDS",
    "LinkFaults",
    "Network",
    "Recorder",
    "Scheduler",
    "SeededRandom",
    "SimTimer",
    "SimTransport",
    "SimulationError",
    "StatelessResponder",
    "TraceEntry",
    "VirtualClock",
    "address",
    "response_to",
]
