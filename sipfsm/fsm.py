"""One ``transitions`` Machine per machine *kind*, many models attached.

``transitions`` normally binds a trigger method, a ``may_<trigger>`` method and an
``is_<state>`` method onto every model it is given: a dozen ``functools.partial`` objects per
model (~7 KiB).  With ``model_override=True`` (public API) it binds only names a model declares;
sipfsm models declare none and call :meth:`SharedMachine.fire` instead, so attaching a model
costs the model's own ``state`` attribute.

No machine here is re-entered: the registration core runs each input on a fresh model and
executes the outputs after the transition (sipfsm.core.registration), so ``queued`` processing
is not needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transitions import EventData, Machine, MachineError

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
            # Bind nothing onto models that they do not declare (sipfsm models declare no
            # trigger, ``may_`` or ``is_`` names): they dispatch through ``fire``.
            model_override=True,
        )

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
        event = self.events[trigger]
        state = getattr(model, self.model_attribute)
        if (not isinstance(state, str) or self.prepare_event or self.before_state_change
                or self.after_state_change or self.finalize_event or self.on_exception
                or self.on_final):
            return bool(event.trigger(model, *args, **kwargs))
        # The direct path: the same steps as ``Event.trigger`` -> ``Transition.execute`` for a
        # machine without machine-level callbacks (sipfsm's), reading the same Event, Transition
        # and State objects (so the table stays the one in ``transitions``), but without the
        # per-call EventData/partial objects and the dozen logging calls per transition, which
        # made dispatch the largest single cost of a simulated registration.
        candidates = event.transitions.get(state)
        if candidates is None:
            source = self.get_state(state)  # ValueError for an unknown state, as transitions
            ignore = source.ignore_invalid_triggers
            if ignore is None:
                ignore = self.ignore_invalid_triggers
            if ignore:
                return False
            raise MachineError(f"{self.name}Can't trigger event {trigger} from state {state}!")
        call = self._call
        for transition in candidates:
            for func in transition.prepare:
                call(model, func, args, kwargs)
            passed = True
            for cond in transition.conditions:
                if call(model, cond.func, args, kwargs) != cond.target:
                    passed = False
                    break
            if not passed:
                continue
            for func in transition.before:
                call(model, func, args, kwargs)
            dest = transition.dest
            if dest:  # None: an internal transition, no exit/enter
                states = self.states
                for func in states[transition.source].on_exit:
                    call(model, func, args, kwargs)
                entered = states[dest]
                setattr(model, self.model_attribute, entered.value)
                for func in entered.on_enter:
                    call(model, func, args, kwargs)
            for func in transition.after:
                call(model, func, args, kwargs)
            return True
        return False

    def _call(self, model: Any, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``Machine.callback`` for ``send_event=False``: a name is a model attribute (or what
        ``resolve_callable`` makes of it: a property's value, a dotted import path)."""
        if isinstance(func, str):
            bound = getattr(model, func, None)
            if callable(bound):
                func = bound
            else:
                func = self.resolve_callable(func, EventData(None, None, self, model, args, kwargs))
        return func(*args, **kwargs)
