"""The worker's home turns red when texts and calls have been failing for more than 5 minutes."""
from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from portal.db import utcnow
from portal.models import OutboundMessage
from portal.services.outbox import enqueue
from tests.factories import PASSWORD


class _ElementText(HTMLParser):
    """The text inside the element with `element_id` (None when the page has no such element)."""

    def __init__(self, element_id: str):
        super().__init__()
        self.element_id, self.depth, self.text = element_id, 0, None

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth, self.text = 1, ""

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text += data


def _banner(browser) -> str | None:
    parser = _ElementText("messages-failing")
    parser.feed(browser.get("/worker/").get_data(as_text=True))
    return " ".join(parser.text.split()) if parser.text is not None else None


def _failing(session, phone: str, minutes_ago: int) -> OutboundMessage:
    created = utcnow() - timedelta(minutes=minutes_ago)
    message = enqueue(session, phone, "提醒", now=created, elder_quiet_hours=False)
    message.attempts, message.last_error = 2, "twilio 500: 20500"
    message.next_attempt_at = utcnow() + timedelta(minutes=1)
    session.commit()
    return message


def test_no_banner_while_messages_go_out_or_fail_only_briefly(world, browser, session):
    browser.login(world.worker_a.phone, PASSWORD)
    assert _banner(browser) is None
    _failing(session, world.volunteer_a.person.phone, minutes_ago=3)
    assert _banner(browser) is None  # a hiccup of three minutes


def test_a_red_banner_after_five_minutes_of_failures(world, browser, session):
    browser.login(world.worker_a.phone, PASSWORD)
    message = _failing(session, world.volunteer_a.person.phone, minutes_ago=7)
    banner = _banner(browser)
    assert banner is not None and "发不出去" in banner
    message.status = "sent"
    session.commit()
    assert _banner(browser) is None


def test_due_messages_nobody_sends_count_as_failing(world, browser, session):
    """No sender running: nothing fails, but nothing leaves either."""
    browser.login(world.worker_a.phone, PASSWORD)
    enqueue(session, world.volunteer_a.person.phone, "没人发", now=utcnow() - timedelta(minutes=8),
            elder_quiet_hours=False)
    session.commit()
    assert _banner(browser) is not None
