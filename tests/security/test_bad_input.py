"""No 500 on bad input (issue 12, point 10): integers beyond any id in URLs and forms, dates at the
edge of the calendar, NUL in a path (PostgreSQL refuses it in text), CR/LF in a back= field. The
class is every route of the URL map with an integer or text variable, for each signed-in role."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import csrf_from
from tests.security.conftest import sign_in_as, url_values

HUGE = [2 ** 31, 2 ** 63, 2 ** 64 + 1, 10 ** 30]
TEXTS = ["%00", "a%00b", "%0d%0a", "x" * 3000]


def hostile_ids():
    """Ids a real URL never has: past a 32-bit column, past 64 bits."""
    return st.one_of(st.integers(min_value=2 ** 31, max_value=2 ** 80), st.sampled_from(HUGE))


def hostile_dates():
    return st.sampled_from(["0001-01-01", "9999-12-31", "1899-12-31", "2026-02-30", "0000-00-00", "2026-13-01"])


def _rules(app, kind: str):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("static", "dev.", "phone.")):
            continue
        for name, converter in rule._converters.items():
            if type(converter).__name__.lower().startswith(kind):
                yield rule, name


@pytest.mark.parametrize("role", ["worker_a", "admin", "volunteer", "elder", "family", "officer"])
def test_huge_integers_and_nul_in_urls_answer_without_a_500(role, secure_world, browser, app):
    sign_in_as(browser, secure_world, role)
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    values = url_values(secure_world)
    broken = []
    for kind, bad_values in (("integer", HUGE), ("unicode", TEXTS), ("string", TEXTS)):
        for rule, name in _rules(app, kind):
            for bad in bad_values:
                args = {k: v for k, v in values.items() if k in rule.arguments}
                url = rule.build(args, append_unknown=False)[1].replace(str(args[name]), "BAD", 1)
                url = url.replace("BAD", str(bad))
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    try:
                        response = (browser.client.get(url) if method == "GET"
                                    else browser.client.post(url, data={"csrf_token": token}))
                    except Exception as error:  # noqa: BLE001 — what the server would turn into a 500
                        broken.append(f"{method} {url}: {type(error).__name__}")
                        continue
                    if response.status_code >= 500:
                        broken.append(f"{method} {url}: {response.status_code}")
    assert not broken, "\n".join(broken[:20])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(elder=hostile_ids())
def test_a_huge_elder_in_the_query_string_is_not_a_500(elder, world_client):
    browser = world_client
    assert browser.client.get(f"/requests/new?elder={elder}").status_code < 500


@pytest.fixture()
def world_client(world, browser):
    browser.login(world.family_a.phone)
    return browser


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(day=hostile_dates())
def test_a_hand_entered_visit_on_an_impossible_day_is_explained(day, worker_browser):
    browser, world = worker_browser
    form = {"volunteer_id": str(world.volunteer_a.person_id), "elder_id": str(world.elder_a.person_id),
            "day": day, "start": "09:00", "end": "10:00"}
    response = browser.post("/worker/visits/new", form)
    assert response.status_code == 200 and 'class="error-summary"' in response.get_data(as_text=True)


@pytest.fixture()
def worker_browser(world, browser):
    from tests.factories import PASSWORD

    browser.login(world.worker_a.phone, PASSWORD)
    return browser, world


@pytest.mark.parametrize("back", ["/worker/\r\nSet-Cookie: x=1", "/worker/%0d%0aX: y", "/worker/\n"])
def test_crlf_in_back_is_not_a_500_and_sets_no_header(back, secure_world, browser):
    from tests.factories import PASSWORD

    browser.login(secure_world.worker_a.phone, PASSWORD)
    link = secure_world.extra["pending_link"]
    response = browser.post(f"/worker/family-links/{link.id}", {"decision": "approve", "back": back},
                            page="/worker/family-links")
    assert response.status_code < 500
    assert "Set-Cookie: x" not in str(response.headers) and "X: y" not in str(response.headers)
