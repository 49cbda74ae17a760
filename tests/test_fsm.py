"""SharedMachine.fire's direct dispatch does what ``transitions``' own Event.trigger does."""

from __future__ import annotations

from typing import Any

import pytest
from transitions import MachineError

from sipfsm.fsm import SharedMachine

STATES: list[str | dict[str, Any]] = [
    {"name": "a", "on_enter": "enter_a", "on_exit": ["exit_a", "exit_a2"]},
    {"name": "b", "on_enter": ["enter_b"], "on_exit": "exit_b"},
    "c",
]
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "go", "source": "a", "dest": "b", "prepare": "prep", "before": "before",
     "after": ["after", "after2"]},
    {"trigger": "go", "source": "b", "dest": "c", "conditions": "no", "after": "after"},
    {"trigger": "go", "source": "b", "dest": "a", "conditions": ["yes", "truthy"],
     "unless": "no", "after": "after"},
    {"trigger": "stay", "source": "b", "dest": "=", "after": "after"},  # reflexive: exit + enter
    {"trigger": "poke", "source": ["a", "b"], "dest": None, "after": "after"},  # internal
    {"trigger": "never", "source": "a", "dest": "b", "conditions": "no"},
    {"trigger": "flag", "source": "a", "dest": "c", "conditions": "flag_property"},
]


class Model:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.state = "a"

    def __getattr__(self, name: str) -> Any:
        if name in ("no", "yes", "truthy") or name.startswith(("enter", "exit", "prep", "before",
                                                                 "after")):
            def record(*args: Any, **kwargs: Any) -> Any:
                self.calls.append((name, args, kwargs))
                return {"no": False, "yes": True, "truthy": 1}.get(name)

            return record
        raise AttributeError(name)

    @property
    def flag_property(self) -> bool:  # a non-callable attribute as a condition
        return True


def machines() -> tuple[SharedMachine, SharedMachine]:
    fast = SharedMachine(name="T", states=STATES, transitions=TRANSITIONS, initial="a")
    slow = SharedMachine(name="T", states=STATES, transitions=TRANSITIONS, initial="a")
    # The stock path: transitions' Event.trigger.
    slow.fire = lambda model, trigger, *a, **k: bool(  # type: ignore[method-assign]
        slow.events[trigger].trigger(model, *a, **k))
    return fast, slow


@pytest.mark.parametrize("script", [
    ["go", "go", "go"],
    ["go", "stay", "poke", "go"],
    ["poke", "never", "go", "stay"],
    ["flag"],
])
def test_same_callbacks_states_and_results(script: list[str]) -> None:
    fast, slow = machines()
    a, b = Model(), Model()
    for trigger in script:
        assert fast.fire(a, trigger, 1, x=2) == slow.fire(b, trigger, 1, x=2)
        assert a.state == b.state
    assert a.calls == b.calls
    assert a.calls  # something ran


def test_invalid_trigger_raises_the_same_error() -> None:
    fast, slow = machines()
    a, b = Model(), Model()
    a.state = b.state = "c"
    with pytest.raises(MachineError) as fast_error:
        fast.fire(a, "go")
    with pytest.raises(MachineError) as slow_error:
        slow.fire(b, "go")
    assert str(fast_error.value) == str(slow_error.value)
    with pytest.raises(KeyError):
        fast.fire(a, "no-such-trigger")


def test_machine_level_callbacks_use_the_stock_path() -> None:
    fast, _ = machines()
    fast.after_state_change = ["after_machine"]
    model = Model()
    assert fast.fire(model, "go")
    assert [name for name, _, _ in model.calls][-1] == "after_machine"


# ---- the project's machines: the compiled dispatch is the table -------------------------------


def _condition_names(machine: SharedMachine, trigger: str, state: str) -> list[str]:
    names: list[str] = []
    for transition in machine.events[trigger].transitions.get(state, []):
        for condition in transition.conditions:
            if condition.func not in names:
                names.append(condition.func)
    return names


class Recorder:
    """Every callback name the table names is recorded; conditions answer from ``answers``."""

    def __init__(self, state: str, answers: dict[str, bool]) -> None:
        self.state = state
        self.answers = answers
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return self.answers.get(name)

        return record


def _callback_names(machine: SharedMachine) -> set[str]:
    names: set[str] = set()
    for state in machine.states.values():
        names.update(state.on_enter + state.on_exit)
    for event in machine.events.values():
        for transitions in event.transitions.values():
            for t in transitions:
                names.update(t.prepare + t.before + t.after)
                names.update(c.func for c in t.conditions)
    return {name for name in names if isinstance(name, str)}


def _method_recorder(machine: SharedMachine) -> type:
    """A Recorder whose callbacks are plain methods of its class (as sipfsm's models'), which
    ``fire`` calls directly rather than through the machine's name lookup."""

    def method(name: str) -> Any:
        def record(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args, kwargs))
            return self.answers.get(name)

        return record

    names = _callback_names(machine)
    assert names
    return type("MethodRecorder", (), {
        "__init__": Recorder.__init__, **{name: method(name) for name in names}})


@pytest.mark.parametrize("path", ["sipfsm.transaction:TRANSACTION_MACHINE",
                                  "sipfsm.registration:REGISTRATION_MACHINE"])
def test_compiled_dispatch_is_the_table(path: str) -> None:
    """For every (state, trigger) of the machine that runs, and every answer its conditions can
    give, ``fire`` does what ``transitions``' own ``Event.trigger`` does with the same table:
    the same callbacks in the same order, the same next state, the same result or error."""
    import importlib
    import itertools

    module, attribute = path.split(":")
    machine: SharedMachine = getattr(importlib.import_module(module), attribute)
    compared = 0
    # No argument (the registration machine), one (the transaction machine), and the paths
    # for several and for keyword arguments.
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((), {}), (("argument",), {}), (("one", "two"), {}), (("argument",), {"key": 1})]
    # Callbacks found by name on the model, and callbacks that are methods of its class.
    recorders: list[Any] = [Recorder, _method_recorder(machine)]
    for state, recorder in itertools.product(machine.states, recorders):
        for trigger in machine.events:
            names = _condition_names(machine, trigger, state)
            for values in itertools.product((False, True), repeat=len(names)):
                answers = dict(zip(names, values, strict=True))
                for args, kwargs in calls:
                    fast, stock = recorder(state, answers), recorder(state, answers)
                    try:
                        fast_result: Any = machine.fire(fast, trigger, *args, **kwargs)
                    except MachineError as exc:
                        fast_result = str(exc)
                    try:
                        stock_result: Any = bool(
                            machine.events[trigger].trigger(stock, *args, **kwargs))
                    except MachineError as exc:
                        stock_result = str(exc)
                    assert (fast_result, fast.state, fast.calls) == (
                        stock_result, stock.state, stock.calls), (state, trigger, answers, args)
                    compared += 1
    assert compared >= 8 * len(machine.states) * len(machine.events)


def test_assigning_machine_level_callbacks_after_a_fire_takes_the_stock_path() -> None:
    fast, _ = machines()
    fast.fire(Model(), "go")  # compiles a plan
    fast.after_state_change = "after_machine"
    model = Model()
    assert fast.fire(model, "go")
    assert [name for name, _, _ in model.calls][-1] == "after_machine"
    with pytest.raises(AttributeError):
        fast.before_state_change.append("x")  # type: ignore[attr-defined]  # read-only view
