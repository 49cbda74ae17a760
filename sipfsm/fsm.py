"""One ``transitions`` Machine per machine *kind*, many models attached.

``transitions`` normally binds a trigger method, a ``may_<trigger>`` method and an
``is_<state>`` method onto every model it is given: a dozen ``functools.partial`` objects per
model (~7 KiB).  sipfsm models declare no such attributes and call :meth:`SharedMachine.fire`
instead, so attaching a model costs one list slot and the model's own ``state`` attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transitions import Machine

__all__ = ["SharedMachine"]


class SharedMachine(Machine):
    """A ``transitions.Machine`` built once from a table; models are attached with ``attach``."""

    def __init__(
        self,
        *,
        name: str,
        states: Sequence[str | dict[str, Any]],
        transitions: Sequence[dict[str, Any]],
        initial: str,
    ) -> None:
        super().__init__(
            model=None,
            states=list(states),
            transitions=[dict(t) for t in transitions],
            initial=initial,
            name=name,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            send_event=False,
            queued=False,
        )

    def _checked_assignment(self, model: Any, name: str, func: Any) -> None:
        # Bind nothing onto models: they dispatch through ``fire``.
        return

    def add_model(self, model: Any, initial: Any = None) -> None:
        # Machine.add_model keeps every model in a list (O(n) membership tests, and a strong
        # reference that would keep finished models alive); sipfsm only needs the initial state.
        state: Any = initial if initial is not None else self.initial
        self.set_state(state, model=model)

    def attach(self, model: Any) -> None:
        self.add_model(model)

    def fire(self, model: Any, trigger: str, *args: Any, **kwargs: Any) -> bool:
        """Run ``trigger`` on ``model``; an invalid trigger for the current state raises
        ``transitions.MachineError`` (it is a bug, never swallowed)."""
        return bool(self.events[trigger].trigger(model, *args, **kwargs))
