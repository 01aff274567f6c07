"""The spoken check of an order is Chinese sentences: "哪顿饭：午饭。", not "助餐, 午饭." (seen on the
phone simulator: ASCII commas and full stops, and the service's name as the meal question's label)."""
from __future__ import annotations

import pytest

from tests.channels.helpers import TOKEN
from tests.channels.test_voice_prompts import Call


@pytest.fixture()
def app_config(app_config):
    app_config["TWILIO_AUTH_TOKEN"] = TOKEN
    return app_config


def test_the_spoken_check_reads_as_chinese_sentences(world, client):
    call = Call(client, world.elder_a.person, "CA-walk-check")
    call.ring()
    for key in ("1", "1", "1", "1", "1"):  # meal, lunch, tomorrow, one day, nothing special
        call.press(key)
    check = call.prompts[-1][0]
    assert check.startswith("您要的是：服务：助餐（送饭）。哪顿饭：午饭。"), check
    assert ", " not in check and ". " not in check
