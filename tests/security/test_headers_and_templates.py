"""Security headers, and templates that a strict CSP can serve (no inline script or style)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.factories import PASSWORD

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.I)
EVENT_ATTR = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_TAG = re.compile(r"<style\b", re.I)


def test_templates_have_no_inline_script_style_or_event_handlers():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for name, pattern in (("inline <script>", INLINE_SCRIPT), ("style= attribute", STYLE_ATTR),
                              ("on…= handler", EVENT_ATTR), ("<style> element", STYLE_TAG)):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(TEMPLATES)}:{line}: {name}")
    assert not problems, "the CSP forbids these:\n" + "\n".join(problems)


def test_templates_do_not_mark_values_safe():
    offenders = [str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html") if "|safe" in p.read_text()]
    assert not offenders, f"|safe turns escaping off: {offenders}"


def _check_headers(response, production: bool):
    csp = response.headers["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    if production:
        hsts = response.headers["Strict-Transport-Security"]
        assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 180 * 24 * 3600
    else:
        assert "Strict-Transport-Security" not in response.headers


def test_every_kind_of_answer_carries_the_headers(world, browser):
    for url in ("/", "/login", "/healthz", "/static/css/linli.css", "/no-such-page"):
        _check_headers(browser.get(url), production=False)
    browser.login(world.worker_a.phone, PASSWORD)
    for url in ("/worker/", f"/worker/elders/{world.elder_a.person_id}/card", "/officer/"):
        response = browser.get(url)
        _check_headers(response, production=False)
        html = response.get_data(as_text=True)
        assert not STYLE_ATTR.search(html) and not INLINE_SCRIPT.search(html), url  # the QR SVG too


@pytest.mark.parametrize("env", ["production", "development"])
def test_hsts_and_secure_cookies_only_in_production(env, database_url, transport, monkeypatch, tmp_path, engine):
    from portal import create_app

    monkeypatch.setenv("LINLI_ENV", env)
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(tmp_path))
    config = {"TESTING": True, "LINLI_DATABASE_URL": database_url, "LINLI_TRANSPORT": transport}
    if env == "production":
        # A configuration production accepts (portal/production.py): the key from the environment,
        # PostgreSQL (the test database when it is one; /login never touches it), https, no dev tools.
        monkeypatch.setenv("LINLI_SECRET_KEY", "production-test-" + "k" * 40)
        if not database_url.startswith("postgresql"):
            config["LINLI_DATABASE_URL"] = "postgresql+psycopg://linli@127.0.0.1:5432/linli_never_connected"
        config.update(LINLI_PUBLIC_URL="https://linli.example.org", LINLI_DEV_TOOLS=False, LINLI_DEMO=False,
                      LINLI_LEDGER_KEY="production-ledger-" + "k" * 40, LINLI_WEB_WORKERS=1)
    app = create_app(config)
    try:
        production = env == "production"
        assert app.config["SESSION_COOKIE_SECURE"] is production
        assert app.config["REMEMBER_COOKIE_SECURE"] is production
        assert app.config["SESSION_COOKIE_HTTPONLY"] is True
        response = app.test_client().get("/login")
        _check_headers(response, production=production)
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is production
    finally:
        app.extensions["linli"].engine.dispose()
