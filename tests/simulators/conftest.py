"""Shared simulations for the simulator tests (module scope: each is computed once)."""

from __future__ import annotations

from datetime import date

import pytest

from simulators import Scenario, load_scenario

# A school week in October after the installations (1 October 2026), with rain in Skåne.
WEEK = date(2026, 10, 5)


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """The shipped pilot scenario with every fault off."""
    return load_scenario().without_faults()
