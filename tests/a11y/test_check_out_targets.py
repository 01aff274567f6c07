"""The check-out page's wellbeing checkboxes are 60 px targets themselves (the browser journey measures
them too); elsewhere a .check box stays 32 px inside its 60 px label."""
from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "linli.css"


def _rule(selector: str) -> dict[str, str]:
    text = CSS.read_text(encoding="utf-8")
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", text)
    assert match, f"no rule for {selector}"
    return dict((part.split(":", 1)[0].strip(), part.split(":", 1)[1].strip())
                for part in match.group(1).split(";") if ":" in part)


def test_the_check_out_checkboxes_are_60_px_targets(app, browser, world, session):
    rule = _rule('form[action$="/check-out"] .check input')
    assert int(rule["width"].removesuffix("px")) >= 60 and int(rule["height"].removesuffix("px")) >= 60
    # the selector matches the check-out form as the volunteer's page renders it
    browser.login(world.volunteer_a.person.phone)
    browser.post("/volunteer/visits/check-in", {"code": world.elder_a.door_code}, page="/volunteer/visits/")
    from sqlalchemy import select

    from portal.models import Visit

    visit = session.scalar(select(Visit))
    html = browser.get(f"/volunteer/visits/{visit.id}/check-out").get_data(as_text=True)
    form = html[html.index(f'action="/volunteer/visits/{visit.id}/check-out"'):]
    assert re.search(r'<label class="check"><input[^>]*type="checkbox"', form[:form.index("</form>")])
