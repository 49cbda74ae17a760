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
import keyword
from collections.abc import Callable, Sequence
from types import FunctionType
from typing import Any

from transitions import EventData, Machine, MachineError
from transitions.core import listify

__all__ = ["SharedMachine"]

# One compiled row: (prepare, conditions as (callable, expected), before + exit callbacks,
# the destination state or None, enter + after callbacks); the rows of a (trigger, state) are
# its candidate transitions in the table's order.  A plan is (the rows as a function of the
# model alone, as a function of the model and one argument, the rows themselves).
_Row = tuple[tuple[Any, ...], tuple[tuple[Any, bool], ...], tuple[Any, ...], Any, tuple[Any, ...]]
_Rows = list[_Row]
_Plan = tuple[Callable[..., bool], Callable[..., bool], _Rows]


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
        # trigger -> state -> model class -> the candidate rows, callbacks resolved (see fire).
        # A plain function of the model's class is taken as the callback for that name (a
        # model must not shadow it per instance; sipfsm models have slots).
        self._plans: dict[str, dict[str, dict[type, _Plan]]] = {}
        # This machine's ``fire``: the usual case (a plan compiled, at most one positional
        # argument) without the method's own overhead, everything else through
        # ``SharedMachine.fire``.  (The machine is built with the default model attribute,
        # ``state``, which the closure reads directly.)
        assert self.model_attribute == "state"
        vars(self)["fire"] = self._direct_fire()

    # The compiled plans are kept while the table and the machine-level callbacks stay as they
    # were compiled from: changing either forgets them (see _machine_callbacks).

    def add_states(self, *args: Any, **kwargs: Any) -> None:
        super().add_states(*args, **kwargs)
        self._forget_plans()

    def add_transition(self, *args: Any, **kwargs: Any) -> None:
        super().add_transition(*args, **kwargs)
        self._forget_plans()

    def remove_transition(self, *args: Any, **kwargs: Any) -> None:
        super().remove_transition(*args, **kwargs)
        self._forget_plans()

    def _forget_plans(self) -> None:
        plans = self.__dict__.get("_plans")  # absent while Machine.__init__ runs
        if plans:
            plans.clear()

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
        # The direct path: the same steps as ``Event.trigger`` -> ``Transition.execute`` for a
        # machine without machine-level callbacks (sipfsm's), reading the same Event, Transition
        # and State objects (so the table stays the one in ``transitions``), compiled once per
        # (trigger, state, model class) into straight-line functions (see _generate), without
        # the per-call EventData/partial objects and the dozen logging calls per transition.
        plan: Any
        try:
            plan = self._plans[trigger][getattr(model, self.model_attribute)][model.__class__]
        except (KeyError, TypeError):
            plan = self._plan(model.__class__, trigger, getattr(model, self.model_attribute))
            if plan is None:  # machine-level callbacks, or a state that is not a name
                return bool(self.events[trigger].trigger(model, *args, **kwargs))
        if kwargs:
            return self._run(model, plan[2], args, kwargs)
        if not args:
            return plan[0](model)  # type: ignore[no-any-return]
        if len(args) == 1:
            return plan[1](model, args[0])  # type: ignore[no-any-return]
        return self._run(model, plan[2], args, kwargs)

    def _direct_fire(self) -> Callable[..., bool]:
        plans = self._plans  # kept: forgetting the plans empties this dict
        general: Callable[..., bool] = SharedMachine.fire.__get__(self)

        def fire(model: Any, trigger: str, *args: Any, **kwargs: Any) -> bool:
            try:
                plan: _Plan = plans[trigger][model.state][model.__class__]
            except (KeyError, TypeError):
                return general(model, trigger, *args, **kwargs)
            if kwargs or len(args) > 1:
                return general(model, trigger, *args, **kwargs)
            if args:
                return plan[1](model, args[0])
            return plan[0](model)

        fire.__doc__ = SharedMachine.fire.__doc__
        return fire

    def _run(self, model: Any, rows: _Rows, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> bool:
        """``fire`` with keyword arguments or several positional ones: the same steps, read
        from the compiled rows."""
        for prepare, conditions, pre, dest, post in rows:
            for func in prepare:
                func(model, *args, **kwargs)
            for func, target in conditions:
                if func(model, *args, **kwargs) != target:
                    break
            else:
                for func in pre:
                    func(model, *args, **kwargs)
                if dest is not None:
                    setattr(model, self.model_attribute, dest)
                for func in post:
                    func(model, *args, **kwargs)
                return True
        return False

    def _plan(self, model_type: type, trigger: str, state: Any) -> _Plan | None:
        """The compiled rows of ``trigger`` from ``state`` for ``model_type`` (kept), or None
        when the stock ``Event.trigger`` must run: the machine has machine-level callbacks
        (none of sipfsm's has), or the state is not a plain name."""
        event = self.events[trigger]  # KeyError for an unknown trigger, as transitions
        if (self._prepare_event or self._before_state_change or self._after_state_change
                or self._finalize_event or self._on_exception or self._on_final
                or not isinstance(state, str)):
            return None
        rows = self._compile(model_type, event, state)
        plan = (self._generate(rows, ()), self._generate(rows, ("argument",)), rows)
        self._plans.setdefault(trigger, {}).setdefault(state, {})[model_type] = plan
        return plan

    def _compile(self, model_type: type, event: Any, state: str) -> _Rows:
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
                return []
            raise MachineError(
                f"{self.name}Can't trigger event {event.name} from state {state}!")

        def resolve(func: Any) -> Any:
            if isinstance(func, str):
                found = inspect.getattr_static(model_type, func, None)
                if isinstance(found, FunctionType):
                    return found  # a plain method of the model's class
            call = self._call
            return lambda model, *args, **kwargs: call(model, func, args, kwargs)

        rows: _Rows = []
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
            # (prepare, conditions, before + exit, dest, enter + after): the order of
            # ``Transition.execute``; the state is set between exit and enter.
            rows.append((
                tuple(resolve(f) for f in t.prepare),
                tuple((resolve(c.func), c.target) for c in t.conditions),
                tuple(resolve(f) for f in t.before) + exits, dest,
                enters + tuple(resolve(f) for f in t.after),
            ))
        return rows

    def _generate(self, rows: _Rows, parameters: tuple[str, ...]) -> Callable[..., bool]:
        """``rows`` as one straight-line function of ``(model, *parameters)``: each callback
        called in turn, the conditions of a row joined by ``and`` (so that they stop at the
        first one that fails, as ``Transition.execute`` does), the first row whose conditions
        all hold run and True returned, else False.  The callables are the function's
        globals; no name from the table reaches the source text."""
        names: dict[str, Any] = {}

        def name_of(value: Any) -> str:
            name = f"_{len(names)}"
            names[name] = value
            return name

        call = "(" + ", ".join(("model", *parameters)) + ")"
        attribute = self.model_attribute
        lines = [f"def plan{call}:"]
        for prepare, conditions, pre, dest, post in rows:
            indent = "    "
            lines.extend(f"{indent}{name_of(func)}{call}" for func in prepare)
            if conditions:
                tests = " and ".join(f"{name_of(func)}{call} == {bool(target)}"
                                     for func, target in conditions)
                lines.append(f"{indent}if {tests}:")
                indent += "    "
            lines.extend(f"{indent}{name_of(func)}{call}" for func in pre)
            if dest is not None:
                if attribute.isidentifier() and not keyword.iskeyword(attribute):
                    lines.append(f"{indent}model.{attribute} = {name_of(dest)}")
                else:
                    lines.append(f"{indent}setattr(model, {name_of(attribute)}, "
                                 f"{name_of(dest)})")
            lines.extend(f"{indent}{name_of(func)}{call}" for func in post)
            lines.append(f"{indent}return True")
        lines.append("    return False")
        namespace: dict[str, Any] = {"__builtins__": {"setattr": setattr}, **names}
        exec(compile("\n".join(lines), f"<{self.name} plan>", "exec"), namespace)
        function: Callable[..., bool] = namespace["plan"]
        return function

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


def _machine_callbacks(name: str) -> property:
    """A machine-level callback list of ``transitions.Machine`` (``before_state_change`` ...):
    assigning it forgets the compiled plans (``fire`` then takes the stock path while any is
    set); it reads as a tuple, so that an in-place change, which no plan would see, fails
    loudly instead."""
    attribute = "_" + name

    def read(machine: SharedMachine) -> tuple[Any, ...]:
        return tuple(getattr(machine, attribute))

    def write(machine: SharedMachine, value: Any) -> None:
        setattr(machine, attribute, listify(value))
        machine._forget_plans()

    return property(read, write)


for _name in ("prepare_event", "before_state_change", "after_state_change", "finalize_event",
              "on_exception", "on_final"):
    setattr(SharedMachine, _name, _machine_callbacks(_name))
del _name
