"""Properties of the embedded registrar that no spec record names.  The §10.3 properties (the
binding model, 423, ``Contact: *``, Digest outcomes, no 6xx) are conformance checks in the
package (sipfsm/conformance/checks_registrar*.py), run by tests/test_conformance.py."""

from __future__ import annotations

from sipfsm.registrar import RegistrarConfig, parse_scenario

from .support import SOURCE, make_registrar, register


def test_registrar_is_deterministic_for_a_seed() -> None:
    def run() -> list[bytes]:
        registrar, _ = make_registrar(
            RegistrarConfig(users={"alice": "secret"}, scenario=parse_scenario("drop:0.5")), seed=7
        )
        out: list[bytes] = []
        for cseq in range(1, 10):
            request = register(cseq=cseq, branch=f"z9hG4bK{cseq}")
            out.extend(r.to_bytes() for r in registrar.handle(request, SOURCE, "UDP"))
        return out

    assert run() == run()
