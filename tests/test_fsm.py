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
