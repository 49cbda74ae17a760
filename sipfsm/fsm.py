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

import inspect
from collections.abc import Sequence
from types import FunctionType
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
        # (model class, trigger, state) -> the candidate rows, callbacks resolved (see fire).
        # A plain function of the model's class is taken as the callback for that name (a
        # model must not shadow it per instance; sipfsm models have slots).
        self._plans: dict[tuple[type, str, str], tuple[Any, ...]] = {}

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
        key = (type(model), trigger, state)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._compile(type(model), event, state)
        if not args and not kwargs:
            return self._run_plain(model, plan)
        for prepare, conditions, before, exits, dest, enters, after in plan:
            for func in prepare:
                func(model, *args, **kwargs)
            passed = True
            for func, target in conditions:
                if func(model, *args, **kwargs) != target:
                    passed = False
                    break
            if not passed:
                continue
            for func in before:
                func(model, *args, **kwargs)
            if dest is not None:  # None: an internal transition, no exit/enter
                for func in exits:
                    func(model, *args, **kwargs)
                setattr(model, self.model_attribute, dest)
                for func in enters:
                    func(model, *args, **kwargs)
            for func in after:
                func(model, *args, **kwargs)
            return True
        return False

    def _run_plain(self, model: Any, plan: tuple[Any, ...]) -> bool:
        """``fire`` for a trigger without arguments (the registration core's): the same steps,
        without packing and unpacking empty argument lists at each callback."""
        for prepare, conditions, before, exits, dest, enters, after in plan:
            for func in prepare:
                func(model)
            passed = True
            for func, target in conditions:
                if func(model) != target:
                    passed = False
                    break
            if not passed:
                continue
            for func in before:
                func(model)
            if dest is not None:
                for func in exits:
                    func(model)
                setattr(model, self.model_attribute, dest)
                for func in enters:
                    func(model)
            for func in after:
                func(model)
            return True
        return False

    def _compile(self, model_type: type, event: Any, state: str) -> tuple[Any, ...]:
        """The rows of ``event`` from ``state`` as tuples of callables ``f(model, *args)``,
        read once from the machine's Transition and State objects: the table stays the one in
        ``transitions``; only the name lookups are done ahead."""
        candidates = event.transitions.get(state)
        if candidates is None:
            source = self.get_state(state)  # ValueError for an unknown state, as transitions
            ignore = source.ignore_invalid_triggers
            if ignore is None:
                ignore = self.ignore_invalid_triggers
            if ignore:
                return ()
            raise MachineError(
                f"{self.name}Can't trigger event {event.name} from state {state}!")

        def resolve(func: Any) -> Any:
            if isinstance(func, str):
                found = inspect.getattr_static(model_type, func, None)
                if isinstance(found, FunctionType):
                    return found  # a plain method of the model's class
            call = self._call
            return lambda model, *args, **kwargs: call(model, func, args, kwargs)

        plan = []
        states = self.states
        for t in candidates:
            exits: tuple[Any, ...] = ()
            enters: tuple[Any, ...] = ()
            dest = None
            if t.dest:
                exits = tuple(resolve(f) for f in states[t.source].on_exit)
                entered = states[t.dest]
                dest = entered.value
                enters = tuple(resolve(f) for f in entered.on_enter)
            plan.append((
                tuple(resolve(f) for f in t.prepare),
                tuple((resolve(c.func), c.target) for c in t.conditions),
                tuple(resolve(f) for f in t.before),
                exits, dest, enters,
                tuple(resolve(f) for f in t.after),
            ))
        return tuple(plan)

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
