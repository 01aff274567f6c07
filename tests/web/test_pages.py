import pytest
from sqlalchemy import create_engine

from tests.page_text import texts


def test_health_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_health_503_when_the_database_is_unreachable(app, client):
    from portal.db import make_session_factory

    broken = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 1})
    app.extensions["linli"].session_factory = make_session_factory(broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["db"] == "unreachable"


def test_pages_are_chinese_by_default_and_english_on_request(client, browser):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-Hans"' in html and "邻里" in html
    browser.post("/settings/language", {"locale": "en", "back": "/"}, page="/")
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en"' in english and "help from your neighbours" in english


def test_text_size_is_remembered(client, browser):
    browser.post("/settings/text-size", {"size": "xlarge", "back": "/"}, page="/")
    assert 'class="size-xlarge"' in client.get("/login").get_data(as_text=True)


def test_language_switch_refuses_foreign_redirects(browser):
    response = browser.post("/settings/language", {"locale": "en", "back": "//evil.example"}, page="/")
    assert response.headers["Location"] == "/"


def test_elder_home_has_the_five_tiles_and_the_hotline(world, browser):
    browser.login(world.elder_a.person.phone)
    html = browser.get("/elder/").get_data(as_text=True)
    # everyday names on her tiles, with the 助X name of the posters where it helps (review §1.4)
    assert texts(html, cls="tile-title") == ["助餐（送饭）", "助洁（打扫卫生）", "陪同出门", "助浴（洗澡）", "紧急求助"]
    assert "马上通知社区和家人" in html and "助行" not in html
    assert 'href="tel:' in html


@pytest.mark.parametrize("role_home", ["/family/", "/volunteer/", "/officer/"])
def test_role_homes_render(world, browser, role_home):
    from tests.factories import PASSWORD

    who = {"/family/": world.family_a.phone, "/volunteer/": world.volunteer_a.person.phone,
           "/officer/": world.officer.phone}[role_home]
    browser.login(who, PASSWORD)
    page = browser.get(role_home)
    assert page.status_code == 200
    assert "<h1>" in page.get_data(as_text=True)
