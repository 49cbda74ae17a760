"""The sans-IO registration core: inputs and outputs as values, tables that decide.

``sipfsm.core.inputs``        every input of the registration machine (frozen values)
``sipfsm.core.classify``      a final response (+ what was asked) -> one input, pure
``sipfsm.core.registration``  the RFC 3261 §10 table; ``step(state, input) -> (state, outputs)``
``sipfsm.core.transaction``   the RFC 3261 §17.1.2 table; the same ``step`` shape

Drivers (``sipfsm.registration.RegistrationClient``, ``sipfsm.transaction``) run the outputs:
sends, timers, resolutions and notifications happen only after a step has completed.
"""
