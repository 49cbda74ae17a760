"""The spec gate: the checklist and the tests name each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipfsm.spec import ID_PATTERN, SpecError, load_spec

from .conftest import SPEC, is_full_run, requirement_ids


def test_every_marker_names_a_record(request: pytest.FixtureRequest) -> None:
    unknown = sorted(
        {(item.nodeid, rid) for item in request.session.items for rid in requirement_ids(item)
         if rid not in SPEC}
    )
    assert not unknown, f"markers naming no spec record: {unknown}"


def test_every_applicable_record_has_a_marked_test(request: pytest.FixtureRequest) -> None:
    if not is_full_run(request.config):
        pytest.skip("coverage of the checklist is judged only on a run of the whole suite")
    marked = {rid for item in request.session.items for rid in requirement_ids(item)}
    missing = sorted(r.id for r in SPEC.applicable() if r.id not in marked)
    assert not missing, f"applicable records with no test: {missing}"


def test_records_are_well_formed() -> None:
    assert len(SPEC) > 0
    for record in SPEC.values():
        assert ID_PATTERN.match(record.id)
        assert record.applies or record.reason


def test_loader_rejects_a_record_without_reason(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(
        '[[requirement]]\nid = "RFC3261-10.3-X"\nsource = "RFC 3261 §10.3"\nlevel = "MUST"\n'
        'role = "registrar"\napplies = false\ntext = "t"\ndecision = "d"\n',
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="reason"):
        load_spec(tmp_path)


def test_loader_rejects_duplicate_ids(tmp_path: Path) -> None:
    rec = ('[[requirement]]\nid = "RFC3261-10.2-X"\nsource = "s"\nlevel = "MAY"\nrole = "uac"\n'
           'applies = true\ntext = "t"\ndecision = "d"\n')
    (tmp_path / "a.toml").write_text(rec, encoding="utf-8")
    (tmp_path / "b.toml").write_text(rec, encoding="utf-8")
    with pytest.raises(SpecError, match="duplicate"):
        load_spec(tmp_path)


@pytest.mark.parametrize("bad", ["rfc3261-10.2-x", "RFC3261-X", "RFC3261-10.2-lower"])
def test_id_pattern_rejects(bad: str) -> None:
    assert not ID_PATTERN.match(bad)
