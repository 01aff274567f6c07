"""Real-browser fixtures: the app under a real HTTP server on a free loopback port, with its own
SQLite database seeded with the demo data, and Debian's Chromium driven by Playwright.

Chromium missing → the tests are skipped with the reason, unless LINLI_REQUIRE_BROWSER=1 (CI),
which turns that into a failure. No browser is ever downloaded.
"""
from __future__ import annotations

import html as html_module
import logging
import os
import re
import shutil
import tempfile
import threading
from datetime import date
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("LINLI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORTS = {"phone": {"width": 320, "height": 640}, "desktop": {"width": 1280, "height": 800}}

ELDER = ("+8613800000001", "13800000001")
SON = ("+8613800000002", "13800000002")
WORKER = ("+8613800000004", "13800000004")
OFFICER = ("+8613800000005", "13800000005")


def _browser_unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    return None


def _browser_required() -> bool:
    return os.environ.get("LINLI_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    """No Chromium: skip the browser tests with the reason — or, when it is required, let them
    run into the `live_server` fixture, which fails them with the same reason."""
    reason = _browser_unavailable()
    if reason is None or _browser_required():
        return
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=reason))


def _no_browser(reason: str):
    if _browser_required():
        pytest.fail(f"LINLI_REQUIRE_BROWSER=1 but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


class LiveServer:
    def __init__(self, app, url: str):
        self.app = app
        self.url = url

    def reset_limits(self):
        from portal.ratelimit import make_limiter

        self.app.extensions["linli"].limiter = make_limiter(None)


@pytest.fixture(scope="session")
def live_server():
    """The demo under werkzeug's threaded server on 127.0.0.1:<free port>, dev tools on."""
    if _browser_unavailable():
        _no_browser(_browser_unavailable())
    from werkzeug.serving import make_server

    import portal.models  # noqa: F401
    from portal import create_app
    from portal.channels.transport import ConsoleTransport
    from portal.db import Base, make_engine, make_session_factory
    from portal.services.demo import seed_demo

    workdir = Path(tempfile.mkdtemp(prefix="linli-browser-"))
    url = f"sqlite:///{workdir / 'browser.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        seed_demo(session, date.today(), elders=40, volunteers=10)
        session.commit()
    engine.dispose()

    os.environ.setdefault("LINLI_INSTANCE_PATH", str(workdir / "instance"))
    config = {
        "SECRET_KEY": "browser-test-key",
        "LINLI_DATABASE_URL": url,
        "LINLI_TRANSPORT": ConsoleTransport(show_secrets=True),
        "LINLI_DEV_TOOLS": True,
        "LINLI_DEMO": True,
        "LINLI_REDIS_URL": "",
        "LINLI_SENDER": "thread",  # as the demo: texts leave from a sender thread, never from a request
    }
    app = create_app(config)
    from portal.channels.sender import start_sender_thread

    sender = start_sender_thread(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["LINLI_PUBLIC_URL"] = base
    thread = threading.Thread(target=server.serve_forever, name="linli-live-server", daemon=True)
    thread.start()
    yield LiveServer(app, base)
    server.shutdown()
    thread.join(timeout=5)
    # stop the sender before its database goes away (else it logs a failed round at every poll)
    sender.stop.set()
    sender.wake()
    for running in threading.enumerate():
        if running.name == "linli-sender":
            running.join(timeout=5)
    app.extensions["linli"].engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def open_chromium(driver, viewport: dict, javascript: bool = True):
    """A fresh Chromium (its own empty profile) at `viewport`; returns (context, profile_dir)."""
    profile = tempfile.mkdtemp(prefix="linli-chromium-")
    context = driver.chromium.launch_persistent_context(
        profile,
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=viewport,
        java_script_enabled=javascript,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(15_000)
    return context, profile


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request):
    return request.param


@pytest.fixture()
def chromium(live_server, playwright_driver, viewport):
    """A page in a fresh Chromium at the parametrised viewport; closed (and its profile removed) after."""
    live_server.reset_limits()
    context, profile = open_chromium(playwright_driver, VIEWPORTS[viewport])
    page = context.pages[0] if context.pages else context.new_page()
    yield page
    context.close()
    shutil.rmtree(profile, ignore_errors=True)


def shot(page, name: str) -> Path:
    """Keep a full-page screenshot for the record (test-artifacts/screenshots, gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _codes_in_outbox(html: str, phone_digits: str) -> list[tuple[str, str]]:
    """The six-digit codes texted to the phone, newest first, in the dev outbox's "sent" table, each
    with the text it came in."""
    codes = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.DOTALL):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)
        if len(cells) < 4:
            continue
        if re.sub(r"\D", "", cells[1]).endswith(phone_digits[-8:]):
            match = re.search(r"验证码\D*(?<!\d)(\d{6})(?!\d)", cells[3])  # a login text, not any other
            if match:
                codes.append((match.group(1), html_module.unescape(cells[3]).strip()))
    return codes


def codes_sent_so_far(page, base: str, phone_digits: str) -> int:
    """How many codes the phone has been texted so far (read without leaving the page)."""
    return len(_codes_in_outbox(page.request.get(f"{base}/dev/outbox").text(), phone_digits))


def read_code_from_outbox(page, base: str, phone_digits: str, sent_before: int = 0) -> str:
    """Open /dev/outbox (as a person in the demo would) and read the newest code sent to the phone.

    Texts leave from the sender thread, not from the request: the new code may not be in the
    outbox yet, so look again until there are more codes than `sent_before` (the count taken
    before asking for this one) — an older code from an earlier sign-in is never taken for it."""
    for _attempt in range(40):  # the sender thread sends within a poll (half a second): look again
        page.goto(f"{base}/dev/outbox")
        codes = _codes_in_outbox(page.content(), phone_digits)
        if len(codes) > sent_before:
            code, text = codes[0]
            assert text.startswith("【邻里】"), f"the login text is not signed 【邻里】: {text!r}"
            return code
        page.wait_for_timeout(500)
    raise AssertionError(f"no new login code for {phone_digits} in the dev outbox")
