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
    assert len(mutants) >= 40
    assert len({m.id for m in mutants}) == len(mutants)
    families = " ".join(m.family for m in mutants)
    for family in ("§10.2", "§8.1", "§17.1.2", "§17.1.3", "§18.1", "§22", "RFC 7616"):
        assert family in families, family


def test_a_pattern_that_no_longer_matches_is_reported_stale(catalogue: ModuleType) -> None:
    gone = catalogue.Mutant("X", "RFC 3261 §8.1.1.7", "n/a", "sipfsm/transaction.py",
                            "this text is nowhere in the file", "x")
    result = catalogue.run_mutant(gone)
    assert result.status == "stale" and "0 times" in result.detail


@pytest.mark.parametrize("mutant_id", ["D04", "D07", "U01"])
def test_ci_subset_mutant_is_caught_by_sipfsm_conformance(catalogue: ModuleType,
                                                          mutant_id: str) -> None:
    mutant = next(m for m in catalogue.CATALOGUE if m.id == mutant_id)
    result = catalogue.run_mutant(mutant, quick=True, examples=10, timeout=120)
    assert result.status == "killed", (result.status, result.detail)
    assert result.records
