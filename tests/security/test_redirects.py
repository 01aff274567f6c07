"""After login only same-site paths are followed (issue 12, point 8), whatever a browser would make
of the `next` value once it strips tabs and newlines and decodes it."""
from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.web.auth import _safe_next

HOSTILE = ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "/%2F/evil.example",
           "/\t/evil.example", "/%0d%0aSet-Cookie:x", "javascript:alert(1)", " //evil.example", "/%5C/evil.example",
           "\\\\evil.example", "/%2f%2fevil.example", "/\n/evil.example"]


def _leaves_the_site(target: str) -> bool:
    """What a browser would do: drop tab/CR/LF, treat backslashes as slashes, decode once."""
    cleaned = "".join(c for c in target if c not in "\t\r\n").replace("\\", "/")
    for candidate in (cleaned, unquote(cleaned).replace("\\", "/")):
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc or candidate.startswith("//") or not candidate.startswith("/"):
            return True
    return False


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_next_values_are_dropped(target):
    assert _safe_next(target) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("/\\%09%2F%5Cabc.:\t\n\r ?#@")), max_size=20))
def test_whatever_is_kept_stays_on_this_site(target):
    kept = _safe_next(target)
    assert kept is None or not _leaves_the_site(kept)


def test_an_ordinary_path_is_kept():
    assert _safe_next("/worker/?q=%E5%88%98") == "/worker/?q=%E5%88%98"


def test_login_with_a_hostile_next_lands_at_home(world, browser):
    browser.get("/login?next=/%09/evil.example")
    response = browser.login(world.elder_a.person.phone)
    assert response.headers["Location"] in ("/home", "/") or response.headers["Location"].startswith("/")
    assert "evil" not in response.headers["Location"]
