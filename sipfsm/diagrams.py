"""State diagrams generated from the running machines themselves, never drawn by hand.

Each registered machine (:data:`MACHINES`) is read back from the ``transitions`` Machine object
the code runs -- its ``states`` (entry/exit actions) and its events' transitions (conditions,
actions) -- and written to ``diagrams/<name>.mmd`` as a Mermaid ``stateDiagram-v2``, and to
``diagrams/<name>.svg`` through ``transitions.extensions.diagrams.GraphMachine`` (graphviz engine)
when the graphviz ``dot`` program is installed.

Regenerate with ``python -m sipfsm.diagrams``; ``python -m sipfsm.diagrams --check`` exits 1 when
a ``.mmd`` file is stale (tests/test_diagrams.py does the same).  Adding a machine is one line in
:data:`MACHINES`.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MACHINES", "Row", "main", "mermaid", "render_all", "rows", "stale", "svg"]

# file stem -> "module:attribute" of a transitions Machine built once per process.
MACHINES: dict[str, str] = {
    "non_invite_client_transaction": "sipfsm.transaction:TRANSACTION_MACHINE",
    "registration_client": "sipfsm.registration:REGISTRATION_MACHINE",
}

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "diagrams"


@dataclass(frozen=True, slots=True)
class Row:
    """One transition as the machine holds it."""

    trigger: str
    source: str
    dest: str | None  # None: internal transition (no exit/entry)
    conditions: tuple[str, ...]  # "name" or "not name" (unless)
    actions: tuple[str, ...]  # before + after callbacks, in order


def load(spec: str) -> Any:
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _names(callbacks: Sequence[Any]) -> tuple[str, ...]:
    return tuple(c if isinstance(c, str) else getattr(c, "__name__", repr(c)) for c in callbacks)


def machine_name(machine: Any) -> str:
    return str(machine.name).rstrip(": ") or type(machine).__name__


def states(machine: Any) -> list[str]:
    return [str(name) for name in machine.states]


def rows(machine: Any) -> list[Row]:
    """Every transition of ``machine``, by source state (in state order), then trigger (in the
    order the table declared them)."""
    out: list[Row] = []
    for source in states(machine):
        for trigger, event in machine.events.items():
            for transition in event.transitions.get(source, []):
                conditions = tuple(
                    (c.func if c.target else f"not {c.func}")
                    if isinstance(c.func, str)
                    else getattr(c.func, "__name__", repr(c.func))
                    for c in transition.conditions
                )
                out.append(
                    Row(
                        trigger=str(trigger),
                        source=source,
                        dest=None if transition.dest is None else str(transition.dest),
                        conditions=conditions,
                        actions=_names(transition.before) + _names(transition.after),
                    )
                )
    return out


def _label(row: Row) -> str:
    text = row.trigger
    if row.conditions:
        text += " [" + " and ".join(row.conditions) + "]"
    if row.actions:
        text += " / " + ", ".join(row.actions)
    return text


def mermaid(machine: Any, *, title: str | None = None) -> str:
    """The machine as Mermaid ``stateDiagram-v2`` text (deterministic)."""
    table = rows(machine)
    lines = ["---", f"title: {title or machine_name(machine)}", "---", "stateDiagram-v2"]
    for name in states(machine):
        state = machine.states[name]
        for kind, callbacks in (("entry", state.on_enter), ("exit", state.on_exit)):
            if callbacks:
                lines.append(f"    {name} : {kind} / {', '.join(_names(callbacks))}")
    lines.append(f"    [*] --> {machine.initial}")
    for row in table:
        dest = row.source if row.dest is None else row.dest
        internal = " (internal)" if row.dest is None else ""
        lines.append(f"    {row.source} --> {dest} : {_label(row)}{internal}")
    sources = {row.source for row in table}
    for name in states(machine):
        if name not in sources:
            lines.append(f"    {name} --> [*]")
    return "\n".join(lines) + "\n"


def svg(machine: Any) -> bytes | None:
    """The machine drawn by transitions' GraphMachine (graphviz engine), or None when the
    graphviz package or the ``dot`` program is missing."""
    if shutil.which("dot") is None:
        return None
    try:
        from transitions.extensions.diagrams import GraphMachine
    except ImportError:  # pragma: no cover - the graphviz package is an optional extra
        return None
    config = [
        {
            "trigger": row.trigger,
            "source": row.source,
            "dest": row.dest,
            "conditions": [c for c in row.conditions if not c.startswith("not ")],
            "unless": [c[4:] for c in row.conditions if c.startswith("not ")],
        }
        for row in rows(machine)
    ]
    state_config = [
        {"name": name, "on_enter": list(_names(machine.states[name].on_enter)),
         "on_exit": list(_names(machine.states[name].on_exit))}
        for name in states(machine)
    ]

    class _Drawn:
        pass

    drawn = GraphMachine(
        model=_Drawn(),
        states=state_config,
        transitions=config,
        initial=machine.initial,
        auto_transitions=False,
        show_conditions=True,
        show_state_attributes=True,
        title=machine_name(machine),
        graph_engine="graphviz",
    )
    graph = drawn.get_graph()
    data = graph.pipe(format="svg")
    return bytes(data)


def render_all(directory: Path = DEFAULT_DIRECTORY, *, with_svg: bool = True) -> list[Path]:
    """Write every registered machine's ``.mmd`` (and ``.svg`` when possible)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, spec in MACHINES.items():
        machine = load(spec)
        path = directory / f"{stem}.mmd"
        path.write_text(mermaid(machine), encoding="utf-8", newline="\n")
        written.append(path)
        if with_svg:
            drawing = svg(machine)
            if drawing is not None:
                svg_path = directory / f"{stem}.svg"
                svg_path.write_bytes(drawing)
                written.append(svg_path)
    return written


def stale(directory: Path = DEFAULT_DIRECTORY) -> list[str]:
    """The ``.mmd`` files that are missing or differ from what the machines generate now."""
    out = []
    for stem, spec in MACHINES.items():
        path = directory / f"{stem}.mmd"
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != mermaid(load(spec)):
            out.append(path.name)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sipfsm.diagrams", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if a diagram is stale")
    parser.add_argument("--no-svg", action="store_true", help="write only the Mermaid text")
    parser.add_argument("--directory", type=Path, default=DEFAULT_DIRECTORY)
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale(args.directory)
        for name in out_of_date:
            print(f"stale: {args.directory / name}", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in render_all(args.directory, with_svg=not args.no_svg):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
