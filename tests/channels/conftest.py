"""Fixtures for the channel tests: a fake of Twilio's REST API on loopback."""
from __future__ import annotations

import pytest

from tests.channels.fake_twilio import FakeTwilio


@pytest.fixture()
def fake():
    """Twilio's REST API, faked on 127.0.0.1: records requests, answers from a script."""
    with FakeTwilio() as server:
        yield server
