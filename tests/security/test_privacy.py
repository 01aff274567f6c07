"""Personal data: phone numbers masked in lists; every view of an elder's record audited."""
from __future__ import annotations

from sqlalchemy import func, select

from portal.models import AuditEvent
from portal.ratelimit import make_limiter
from portal.services.phones import mask_phone
from tests.factories import PASSWORD


def _national(e164: str) -> str:
    return e164.removeprefix("+86")


def test_lists_show_masked_phone_numbers_only(world, browser):
    elder_phone = world.elder_a.person.phone
    volunteer_phone = world.volunteer_a.person.phone
    family_phone = world.family_a.phone
    assert mask_phone("+8613800000001") == "138****0001"
    browser.login(world.worker_a.phone, PASSWORD)
    lists = {
        "/worker/": [elder_phone],
        "/worker/volunteers": [volunteer_phone],
        "/worker/family-links": [family_phone],
    }
    for url, phones in lists.items():
        html = browser.get(url).get_data(as_text=True)
        for phone in phones:
            national = _national(phone)
            assert mask_phone(phone) in html, f"{url} should show {mask_phone(phone)}"
            for shown in (national, f"{national[:3]} {national[3:7]} {national[7:]}", phone):
                assert shown not in html, f"{url} shows the full number {shown}"


def _elder_record_routes(app) -> list[str]:
    """Every GET route that shows one elder's record: those with an <elder_id> in the URL, and
    those with a <person_id> (a person's page), asked about an elder."""
    return sorted(rule.rule.replace("<int:person_id>", "<int:elder_id>") for rule in app.url_map.iter_rules()
                  if "GET" in rule.methods and {"elder_id", "person_id"} & set(rule.arguments))


def test_every_view_of_an_elder_record_is_audited(world, browser, app, session):
    routes = _elder_record_routes(app)
    assert routes, "expected elder record pages"
    from tests.conftest import Browser

    browser.login(world.worker_a.phone, PASSWORD)
    relative = Browser(app.test_client(), browser.transport)      # the family's pages: her linked relative
    relative.login(world.family_a.phone)
    elder_id = world.elder_a.person_id
    missing = []
    for rule in routes:
        url = rule.replace("<int:elder_id>", str(elder_id))
        viewer, actor = (relative, world.family_a.id) if rule.startswith("/family/") else (browser, world.worker_a.id)
        before = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.elder_id == elder_id,
                                                                     AuditEvent.actor_id == actor))
        response = viewer.get(url)
        assert response.status_code == 200, url
        session.expire_all()
        after = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.elder_id == elder_id,
                                                                    AuditEvent.actor_id == actor))
        if after != before + 1:
            missing.append(f"{url}: {after - before} audit entries (want 1)")
    assert not missing, "\n".join(missing)


def test_a_refused_look_at_another_area_leaves_no_view_entry(world, browser, session):
    browser.login(world.worker_b.phone, PASSWORD)
    assert browser.get(f"/worker/elders/{world.elder_a.person_id}").status_code == 404
    session.expire_all()
    assert session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.elder_id == world.elder_a.person_id, AuditEvent.actor_id == world.worker_b.id)) == 0


# Every route that hands out data to take away — a file (CSV/XLSX), a printable A4 sheet, a door
# card, a monthly statement — and who downloads it in the test. A new export route must be added.
EXPORTS = {
    "completion.report": ("worker_a", {"fmt": "csv"}),
    "completion.export_list": ("worker_a", {"fmt": "xlsx"}),
    "officer_visits.report": ("officer", {"fmt": "xlsx"}),
    "completion.sheet": ("worker_a", {}),
    "worker.door_card": ("worker_a", {}),
    "timebank.statement": ("elder", {}),
}
EXPORT_WORDS = ("report", "sheet", "card", "statement", "export", "download", "csv", "xlsx", "print")


def test_every_export_writes_an_audit_entry(secure_world, browser, app, session):
    from tests.security.conftest import sign_in_as, url_values

    looks_like_export = {rule.endpoint for rule in app.url_map.iter_rules()
                         if "GET" in rule.methods and any(w in rule.rule.lower() or w in rule.endpoint.split(".")[-1]
                                                          for w in EXPORT_WORDS)}
    assert looks_like_export <= set(EXPORTS), f"export routes not in EXPORTS: {looks_like_export - set(EXPORTS)}"
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint, (role, extra) in EXPORTS.items():
        app.extensions["linli"].limiter = make_limiter(None)
        from tests.conftest import Browser

        visitor = Browser(app.test_client(), browser.transport)
        sign_in_as(visitor, secure_world, role)
        rule = rules[endpoint]
        values = {**url_values(secure_world), **extra}
        url = rule.build({k: v for k, v in values.items() if k in rule.arguments}, append_unknown=False)[1]
        before = session.scalar(select(func.count(AuditEvent.id)))
        response = visitor.get(url)
        assert response.status_code == 200, (url, response.status_code)
        session.expire_all()
        entries = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())
                                  .limit(session.scalar(select(func.count(AuditEvent.id))) - before)).all()
        assert entries, f"{url}: no audit entry for an export"
        assert any(e.action in ("export", "print") for e in entries), (url, [e.action for e in entries])
