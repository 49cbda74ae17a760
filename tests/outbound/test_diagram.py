"""diagrams/outbound_flow.mmd is generated from the flow table and up to date."""

from __future__ import annotations

from sipfsm.outbound.diagram import main, mermaid
from sipfsm.outbound.flow import FLOW_TRANSITIONS


def test_committed_flow_diagram_is_up_to_date() -> None:
    assert main(["--check"]) == 0, "regenerate with `python -m sipfsm.outbound.diagram`"


def test_every_row_is_drawn() -> None:
    text = mermaid()
    for (source, event), (dest, _action) in FLOW_TRANSITIONS.items():
        if event != "stop":
            assert f"{source.value} --> {dest.value} : {event}" in text
