import io
import json
import logging

import pytest

from portal.channels.transport import ConsoleTransport
from portal.logs import make_handler, mask_personal_data
from tests.factories import make_elder


@pytest.fixture()
def transport():
    return ConsoleTransport(show_secrets=False)  # as in production: dev tools off


@pytest.fixture()
def log_lines():
    stream = io.StringIO()
    handler = make_handler(stream, fmt="json")
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield lambda: [line for line in stream.getvalue().splitlines() if line]
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_masks_e164_and_chinese_mobiles():
    assert mask_personal_data("to +8613800000001.") == "to +86138****0001."
    assert mask_personal_data("called 13912345678 twice") == "called 139****5678 twice"
    assert mask_personal_data("+14155550123") == "+141****0123"
    # Dates, ids, durations and amounts stay readable.
    assert mask_personal_data("2026-11-22 elder 123456 took 45 min") == "2026-11-22 elder 123456 took 45 min"


def test_login_logs_carry_neither_the_phone_nor_the_code(world, session, browser, transport, log_lines):
    elder = make_elder(session, world.community_a, phone="+8613912345678")
    session.commit()
    logging.getLogger("linli.test").info("looking up %s / %s", "+8613912345678", "13912345678")
    browser.login("+8613912345678")
    code = [m for m in transport.messages_to("+8613912345678") if m.kind == "login_code"][-1].body
    code = "".join(ch for ch in code if ch.isdigit())[:6]
    lines = log_lines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(e.get("path") == "/login/code" and e.get("status") == 303 for e in entries)
    assert all(e.get("request_id") for e in entries if e["logger"] == "linli.request")
    text = "\n".join(lines)
    assert "13912345678" not in text
    assert code not in text
    assert "139****5678" in text  # the masked form is there, so the lines were really checked
    assert elder.person_id


def test_request_log_has_no_query_string_and_echoes_request_id(client, log_lines):
    response = client.get("/healthz?phone=13912345678", headers={"X-Request-ID": "abcdef123456"})
    assert response.headers["X-Request-ID"] == "abcdef123456"
    entries = [json.loads(line) for line in log_lines() if '"linli.request"' in line]
    assert entries[-1]["path"] == "/healthz" and entries[-1]["request_id"] == "abcdef123456"
    assert "13912345678" not in "\n".join(log_lines())


def test_a_traceback_is_masked_too(log_lines):
    try:
        raise ValueError("no person with phone +8613800000009")
    except ValueError:
        logging.getLogger("linli.test").exception("failed")
    assert "13800000009" not in "\n".join(log_lines())
    assert "+86138****0009" in "\n".join(log_lines())
