"""CSRF on every POST route; Twilio webhooks refuse anything unsigned."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.channels.twilio_hooks import sign
from portal.ratelimit import make_limiter
from tests.security.conftest import sign_in_as, url_values
from tests.security.test_authorization_matrix import MATRIX, ROLES, is_webhook

# A role allowed to use each POST route (from the matrix: the first role not refused/redirected to login).


def _allowed_role(endpoint: str) -> str:
    row = MATRIX[(endpoint, "POST")]
    for role, want in zip(ROLES, row):
        if want not in (403, 404, "login"):
            return role
    return "anonymous"  # e.g. /login/code: the CSRF check comes before anything else


def _post_routes(app):
    return [(rule.endpoint, rule) for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not is_webhook(app, rule.endpoint)]


def _row_counts(session) -> dict:
    from portal.db import Base

    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(secure_world, app, client, transport, session):
    from tests.conftest import Browser

    failures = []
    for endpoint, rule in _post_routes(app):
        role = _allowed_role(endpoint)
        app.extensions["linli"].limiter = make_limiter(None)  # one sign-in per route, same phones
        fresh = app.test_client()
        browser = Browser(fresh, transport)
        sign_in_as(browser, secure_world, role)
        url = rule.build({k: v for k, v in url_values(secure_world).items() if k in rule.arguments},
                         append_unknown=False)[1]
        before = _row_counts(session)
        for label, data in (("no token", {"decision": "approve", "phone": "13800000001"}),
                            ("a forged token", {"csrf_token": "forged", "decision": "approve"})):
            response = fresh.post(url, data=data)
            if response.status_code != 400:
                failures.append(f"POST {url} as {role} with {label}: {response.status_code}, expected 400")
        session.expire_all()
        if _row_counts(session) != before:
            failures.append(f"POST {url} without a token changed the database")
    assert not failures, "\n".join(failures)


def test_the_csrf_refusal_is_a_clear_translated_page(secure_world, browser):
    sign_in_as(browser, secure_world, "elder")
    response = browser.client.post("/settings/text-size", data={"size": "large"})
    assert response.status_code == 400
    assert "刷新页面" in response.get_data(as_text=True)  # "reload the page and send it again"


def test_webhooks_refuse_unsigned_and_wrongly_signed_requests(app):
    hooks = [rule for rule in app.url_map.iter_rules() if is_webhook(app, rule.endpoint)]
    if not hooks:
        pytest.skip("no Twilio webhook routes exist yet")
    app.config["TWILIO_AUTH_TOKEN"] = "test-token"
    client = app.test_client()
    params = {"From": "+8613800000001", "To": "+8612349", "Body": "1", "MessageSid": "SM1", "CallSid": "CA1"}
    for rule in hooks:
        url = rule.build({name: 1 for name in rule.arguments}, append_unknown=False)[1]  # e.g. visit_id
        assert client.post(url, data=params).status_code == 403, url
        bad = sign(app.config["LINLI_PUBLIC_URL"] + url, params, "another-token")
        assert client.post(url, data=params, headers={"X-Twilio-Signature": bad}).status_code == 403, url
        # Signed for another host: the signature is checked against LINLI_PUBLIC_URL, never Host.
        other = sign("https://evil.example" + url, params, "test-token")
        assert client.post(url, data=params, headers={"X-Twilio-Signature": other}).status_code == 403, url
        good = sign(app.config["LINLI_PUBLIC_URL"] + url, params, "test-token")
        assert client.post(url, data=params, headers={"X-Twilio-Signature": good}).status_code != 403, url
