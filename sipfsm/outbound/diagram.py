"""The outbound flow machine's state diagram, drawn from ``FLOW_TRANSITIONS`` (never by hand).

``python -m sipfsm.outbound.diagram`` writes ``diagrams/outbound_flow.mmd`` (Mermaid);
``--check`` exits 1 when the committed file differs from what the table gives now.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from sipfsm.outbound.flow import FLOW_TRANSITIONS, FlowState

__all__ = ["DIAGRAM", "main", "mermaid"]

DIAGRAM = Path(__file__).resolve().parent.parent.parent / "diagrams" / "outbound_flow.mmd"


def mermaid() -> str:
    """Every row of the table as one Mermaid edge, in table order ("stop" from every state is
    drawn once, as a note)."""
    lines = ["---", "title: OutboundFlow (RFC 5626 §4.4 / §4.5)", "---", "stateDiagram-v2",
             f"    [*] --> {FlowState.IDLE.value}"]
    for (source, event), (dest, action) in FLOW_TRANSITIONS.items():
        if event == "stop":
            continue
        label = event if action == "nothing" else f"{event} / {action}"
        lines.append(f"    {source.value} --> {dest.value} : {label}")
    lines.append(f"    note right of {FlowState.STOPPED.value} : stop, from every state")
    lines.append(f"    {FlowState.STOPPED.value} --> [*]")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    target = DIAGRAM
    if "--output" in args:
        target = Path(args[args.index("--output") + 1])
    text = mermaid()
    if "--check" in args:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        return 0 if current == text else 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
