"""§10.2.1 / §10.2.4: a refresh is sent before the binding expires, whatever the policy says."""

from __future__ import annotations

import pytest

from sipfsm.registration import RefreshPolicy
from sipfsm.sim import SeededRandom


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@pytest.mark.parametrize("expiry", [2.0, 3.0, 60.0, 3600.0, 2.0**32 - 1])
def test_no_margin_and_fraction_one_still_refreshes_before_the_expiry(expiry: float) -> None:
    # The policy asks for "at the expiry" (margin 0, fraction 1, no jitter): the binding would
    # lapse while the REGISTER is on its way.  Found by the conformance property check.
    delay = RefreshPolicy(margin=0.0, fraction=1.0, jitter=0.0, floor=1.0).delay(
        expiry, SeededRandom(0))
    assert delay < expiry
    assert delay >= expiry / 2  # and not absurdly early either
