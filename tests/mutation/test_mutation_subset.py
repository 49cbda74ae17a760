"""A CI-sized subset of the standing mutation catalogue (benchmarks/mutation.py): a few
mutants, each applied to a copy of the package, must be caught by ``sipfsm conformance``
(run on the mutant's own sections, to stay within a minute).  The full catalogue runs on
demand: ``python benchmarks/mutation.py``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parent.parent.parent / "benchmarks" / "mutation.py"


@pytest.fixture(scope="module")
def catalogue() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_mutation", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_catalogue_has_at_least_40_mutants_over_every_rule_family(
        catalogue: ModuleType) -> None:
    mutants = catalogue.CATALOGUE
    assert len({m.id for m in mutants}) == len(mutants)
    real = [m for m in mutants if not m.equivalent]  # equivalent mutants do not count
    assert len(real) >= 40
    families = " ".join(m.family for m in real)
    for family in ("§10.2", "§8.1", "§17.1.2", "§17.1.3", "§18.1", "§22", "RFC 7616"):
        assert family in families, family


def test_a_pattern_that_no_longer_matches_is_reported_stale(catalogue: ModuleType) -> None:
    gone = catalogue.Mutant("X", "RFC 3261 §8.1.1.7", "n/a", "sipfsm/transaction.py",
                            "this text is nowhere in the file", "x")
    result = catalogue.run_mutant(gone)
    assert result.status == "stale" and "0 times" in result.detail


def test_a_mutant_that_does_not_compile_is_a_catalogue_bug_not_a_kill(
        catalogue: ModuleType) -> None:
    broken = catalogue.Mutant("X", "RFC 3261 §8.1.1.7", "n/a", "sipfsm/transaction.py",
                              'BRANCH_COOKIE = "z9hG4bK"', 'BRANCH_COOKIE = "z9hG4bK')
    result = catalogue.run_mutant(broken)
    assert result.status == "broken" and "does not compile" in result.detail
    assert "catalogue bug" in catalogue.describe(result)


def test_the_catalogue_applies_and_compiles_mutant_by_mutant(catalogue: ModuleType) -> None:
    bugs = [(m.id, catalogue.applied(m)[1]) for m in catalogue.CATALOGUE
            if catalogue.applied(m)[0] is None]
    assert bugs == []


def test_timeouts_and_equivalents_are_not_kills_and_the_rate_says_so(
        catalogue: ModuleType) -> None:
    import io

    def mutant(i: str, equivalent: str = "") -> object:
        return catalogue.Mutant(i, "RFC 3261 §10.2", "n/a", "x", "a", "b",
                                equivalent=equivalent)

    results = [catalogue.Result(mutant("A"), "killed", ["R"]),
               catalogue.Result(mutant("B"), "timeout"),
               catalogue.Result(mutant("C", "changes nothing"), "survived"),
               catalogue.Result(mutant("D"), "stale")]
    out = io.StringIO()
    tally = catalogue.report(results, out)
    text = out.getvalue()
    assert (tally.killed, tally.real, tally.size) == (1, 3, 4)
    assert "kill rate by sipfsm conformance: 1/3 (33.3 %)" in text
    assert "1 equivalent (C" in text and "equivalent (not a miss, not counted)" in text
    assert "B (timeout)" in text and "catalogue bug: pattern not found: D" in text
    assert "| B |" in catalogue.markdown(results)


@pytest.mark.parametrize("mutant_id", ["D04", "D07", "U01"])
def test_ci_subset_mutant_is_caught_by_sipfsm_conformance(catalogue: ModuleType,
                                                          mutant_id: str) -> None:
    mutant = next(m for m in catalogue.CATALOGUE if m.id == mutant_id)
    result = catalogue.run_mutant(mutant, quick=True, examples=10, timeout=120)
    assert result.status == "killed", (result.status, result.detail)
    assert result.records
