from portal.access import access_for


def test_every_endpoint_declares_who_may_use_it(app):
    missing = [rule.endpoint for rule in app.url_map.iter_rules() if access_for(app, rule.endpoint) is None]
    assert missing == []


def test_anonymous_users_are_sent_to_login(client, world):
    for url in ("/elder/", "/worker/", "/officer/", "/volunteer/", "/family/", f"/worker/elders/{world.elder_a.person_id}"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_elder_cannot_open_worker_pages(world, browser):
    browser.login(world.elder_a.person.phone)
    assert browser.get("/worker/").status_code == 403
    assert browser.get(f"/worker/elders/{world.elder_a.person_id}").status_code == 403
    assert browser.get("/officer/").status_code == 403


def test_worker_of_a_gets_404_for_an_elder_of_b(world, browser):
    from tests.factories import PASSWORD

    browser.login(world.worker_a.phone, PASSWORD)
    assert browser.get(f"/worker/elders/{world.elder_a.person_id}").status_code == 200
    for url in (f"/worker/elders/{world.elder_b.person_id}", f"/worker/elders/{world.elder_b.person_id}/card",
                f"/worker/elders/{world.elder_b.person_id}/edit"):
        assert browser.get(url).status_code == 404, url
    listing = browser.get("/worker/").get_data(as_text=True)
    assert "甲老人" in listing and "乙老人" not in listing


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "HX-Request" in response.headers["Vary"]
