"""Fixtures of the engine unit tests."""

from __future__ import annotations

import pytest
from enginekit import new_venue

from aster_account.engine.venue import Venue


@pytest.fixture
def venue() -> Venue:
    """A fresh venue on the shipped market at the marks of ``enginekit.MARKS``."""
    return new_venue()
