"""Fuzz every form (and every Twilio webhook) with hypothesis: random Unicode — emoji, rare CJK,
control characters, NUL — huge values, missing and repeated fields. Never a 500, and never a
half-saved record: a refused submission leaves every table as it was.

Bounded: a modest number of examples per form, no deadline (the machine is shared).
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.db import Base
from portal.ratelimit import make_limiter
from tests.conftest import csrf_from
from tests.factories import PASSWORD

FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

EMOJI = st.sampled_from(["👵", "🍚", "🧹", "🚑", "👨‍👩‍👧", "🏳️‍🌈", "\u200d", "\ufe0f"])
RARE_CJK = st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF)      # CJK extension B
CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from(["\x7f", "\u2028", "\u202e"])
ANY_TEXT = st.characters(blacklist_categories=("Cs",))                      # no lone surrogates

value = st.one_of(
    st.text(ANY_TEXT, max_size=40),
    st.lists(st.one_of(EMOJI, RARE_CJK, CONTROL, ANY_TEXT), max_size=30).map("".join),
    st.from_regex(r"\+?86?1[3-9]\d{9}", fullmatch=True),                     # plausible phones
    st.from_regex(r"-?\d{1,12}", fullmatch=True),                            # numbers / ids
    st.from_regex(r"\d{4}-\d{2}-\d{2}", fullmatch=True),                     # dates, some impossible
    st.integers(min_value=1, max_value=100_000).map(lambda n: "长" * n),     # huge values
    st.just(""),
)


def submissions(fields: list[str]):
    """A MultiDict with each field missing, once, or repeated, with fuzzed values."""
    per_field = st.lists(value, min_size=0, max_size=3)
    return st.fixed_dictionaries({name: per_field for name in fields}).map(
        lambda chosen: [(name, v) for name, values in chosen.items() for v in values]
    )


def table_counts(session) -> dict[str, int]:
    session.expire_all()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


class Poster:
    def __init__(self, app, browser):
        self.app, self.browser = app, browser
        self.token = None

    def refresh_token(self, page="/login"):
        self.token = csrf_from(self.browser.get(page).get_data(as_text=True))

    def post(self, url, pairs):
        self.app.extensions["linli"].limiter = make_limiter(None)
        data = MultiDict(pairs)
        data.setlist("csrf_token", [self.token])
        response = self.browser.client.post(url, data=data)
        assert response.status_code < 500, (url, response.status_code, pairs[:5])
        return response


# Every form in the app and the fuzz test that covers it; a new form without one fails below.
FUZZED_FORMS = {
    "ElderForm": "test_fuzz_register_elder, test_fuzz_edit_elder_never_half_saves",
    "VolunteerForm": "test_fuzz_register_volunteer",
    "FamilyLinkForm": "test_fuzz_family_link",
    "PhoneForm": "test_fuzz_login_forms",
    "CodeForm": "test_fuzz_login_forms",
    "PasswordForm": "test_fuzz_login_forms",
    "SearchForm": "test_fuzz_worker_search",
    "PairForm": "no free text: a volunteer id, checked by the authorization matrix",
    "DecisionForm": "no fields but the CSRF token and the button",
    "LinkDecisionForm": "no free text: the button pressed (approve / refuse) and a back link",
    "ElderAnswerForm": "no free text: the button pressed (yes / no)",
    "RatingForm": "no free text: the button pressed (a rating of 1 to 3)",
    "LanguageForm": "no free text: the button pressed and a back link",
    "TextSizeForm": "no free text: the button pressed and a back link",
    "StepForm": "test_fuzz_plain_html_forms (requests.step)",
    "CheckInForm": "test_fuzz_plain_html_forms (visits.check_in)",
    "GiftForm": "test_fuzz_plain_html_forms (timebank.gift, timebank.gift_confirm)",
    "WorkerVisitForm": "test_fuzz_plain_html_forms (visits_worker.new)",
    "AssignForm": "test_fuzz_plain_html_forms (worker_requests.assign)",
    "EmergencyComingForm": "test_fuzz_plain_html_forms (worker_requests.emergency_coming); tests/requests/"
                           "test_emergencies.py",
    "EmergencyOutcomeForm": "test_fuzz_plain_html_forms (worker_requests.emergency_resolve)",
    "CheckOutForm": "the door code as check-in; notes and flags as in visits_worker.new",
    "ReverseForm": "one bounded text field, cleaned by the ledger (tests/timebank)",
    "SimulatorTextForm": "dev tools only: tests/web/test_phone_simulator.py",
    "SimulatorCallForm": "dev tools only: tests/web/test_phone_simulator.py",
    "ReassignForm": "no free text: a person id from the form's own list (tests/web/test_completion.py)",
    "BulkReassignForm": "no free text: obligation ids (scope-checked) and a person id from the list",
    "ExcuseForm": "no free text: a reason from the list and a confirmation box",
    "UndoForm": "no free text: obligation ids, scope-checked (tests/web/test_completion.py)",
    "VisitRecordForm": "no free text: one choice per heading (tests/timebank/test_visit_pages.py)",
    "CheckInOptInForm": "test_fuzz_daily_checkin_forms",
    "CheckInSeenForm": "test_fuzz_daily_checkin_forms",
    "ElderDailyCallForm": "no free text: one of four times or stop (tests/web/test_elder_daily_call.py)",
    "SheetEntryForm": "tests/web/test_visit_sheet_entry.py::test_fuzz_sheet_entry_never_half_saves",
    "FamilyNotificationsForm": "no free text: two check boxes, scope-checked (tests/web/test_family_month.py)",
    "PoolAllocationForm": "test_fuzz_plain_html_forms (timebank.allocate)",
}
from tests.admin.fuzz_registry import ADMIN_FUZZED_FORMS  # noqa: E402

FUZZED_FORMS.update(ADMIN_FUZZED_FORMS)


def test_every_form_has_a_fuzz_test(app):
    from tests.security.test_xss import all_form_classes

    missing = sorted(set(all_form_classes(app)) - set(FUZZED_FORMS))
    assert not missing, f"forms without a fuzz test (add one and list it in FUZZED_FORMS): {missing}"


ELDER_FIELDS = ["name", "phone", "community_id", "address", "birth_date", "gender", "living_situation",
                "hardship", "ability_level", "severe_illness", "preferred_channel", "contact_name",
                "contact_phone", "contact_relation", "tier_override", "tier_override_reason"]


@pytest.fixture()
def worker_poster(world, browser, app):
    browser.login(world.worker_a.phone, PASSWORD)
    poster = Poster(app, browser)
    poster.refresh_token("/worker/")
    return poster


def _seen_unchanged(before, after, response, allowed_on_success: set[str]):
    if response.status_code in (302, 303):
        changed = {name for name in before if before[name] != after[name]}
        assert changed <= allowed_on_success, changed - allowed_on_success
    else:
        assert before == after, {k: (before[k], after[k]) for k in before if before[k] != after[k]}


def test_fuzz_register_elder(world, worker_poster, session):
    from portal.models import ElderProfile, Person

    @FUZZ
    @given(submissions(ELDER_FIELDS), st.booleans())
    @example([("phone", "13500001111"), ("address", "1\x00栋"), ("contact_name", "\x00"),
              ("living_situation", "alone"), ("ability_level", "1"), ("preferred_channel", "sms")], True)
    def run(pairs, with_valid_core):
        if with_valid_core:  # get past the first checks so the deeper ones are fuzzed too
            pairs = [("name", "赵桂兰"), ("community_id", str(world.community_a.id))] + pairs
        before = table_counts(session)
        response = worker_poster.post("/worker/elders/new", pairs)
        after = table_counts(session)
        _seen_unchanged(before, after, response, {"people", "elder_profiles", "role_grants", "audit_events"})
        if response.status_code == 303:
            elder_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
            profile = session.get(ElderProfile, elder_id)
            assert profile is not None and session.get(Person, elder_id).name.strip()
            assert profile.community_id == world.community_a.id

    run()


def test_fuzz_edit_elder_never_half_saves(world, worker_poster, session):
    from portal.models import ElderProfile

    elder_id = world.elder_a.person_id

    def snapshot():
        session.expire_all()
        profile = session.get(ElderProfile, elder_id)
        person = profile.person
        return (person.name, person.phone, profile.address, profile.birth_date, profile.living_situation,
                tuple(profile.hardship or ()), profile.ability_level, profile.care_tier, profile.tier_override,
                repr(profile.emergency_contacts))

    @FUZZ
    @given(submissions(ELDER_FIELDS))
    def run(pairs):
        before = snapshot()
        response = worker_poster.post(f"/worker/elders/{elder_id}/edit", pairs)
        if response.status_code != 303:
            assert snapshot() == before

    run()


def test_fuzz_register_volunteer(world, worker_poster, session):
    @FUZZ
    @given(submissions(["name", "phone", "community_id", "services", "birth_date"]))
    def run(pairs):
        before = table_counts(session)
        response = worker_poster.post("/worker/volunteers/new", pairs)
        _seen_unchanged(before, table_counts(session), response,
                        {"people", "volunteer_profiles", "role_grants", "audit_events"})

    run()


def test_fuzz_worker_search(world, worker_poster):
    @FUZZ
    @given(submissions(["q", "tier", "living", "community", "page"]), st.booleans())
    @example([("q", "王\x00"), ("page", "\x00")], False)
    @example([("q", "\x00" * 60), ("tier", "\x00")], True)
    def run(pairs, htmx):
        headers = {"HX-Request": "true", "HX-Target": "elder-list"} if htmx else {}
        response = worker_poster.browser.client.get("/worker/", query_string=MultiDict(pairs), headers=headers)
        assert response.status_code < 500, pairs[:5]

    run()


def test_fuzz_daily_checkin_forms(world, worker_poster, session):
    """每日问安: opting an elder in (an elder id and a time) and "someone saw her" (a day id)."""
    world.elder_a.living_situation = "alone"
    session.commit()

    @FUZZ
    @given(submissions(["elder_id", "call_time"]), submissions(["day_id"]), st.booleans())
    @example([("elder_id", "\x00"), ("call_time", "9:0\x00")], [("day_id", "１")], False)
    def run(opt_in, seen, with_valid_elder):
        if with_valid_elder:
            opt_in = [("elder_id", str(world.elder_a.person_id))] + opt_in
        before = table_counts(session)
        response = worker_poster.post("/worker/checkins/opt-in", opt_in)
        _seen_unchanged(before, table_counts(session), response, {"daily_checkins"})
        before = table_counts(session)
        response = worker_poster.post("/worker/checkins/seen", seen)
        assert before == table_counts(session)

    worker_poster.refresh_token("/worker/checkins/")
    run()


def test_fuzz_family_link(world, browser, app, session):
    browser.login(world.family_a.phone)
    poster = Poster(app, browser)
    poster.refresh_token("/family/link")

    @FUZZ
    @given(submissions(["elder_phone", "relation"]))
    @example([("elder_phone", "+86138\x0000000001"), ("relation", "儿\x00子")])
    def run(pairs):
        before = table_counts(session)
        response = poster.post("/family/link", pairs)
        _seen_unchanged(before, table_counts(session), response, {"family_links", "role_grants"})

    run()


def test_fuzz_login_forms(world, browser, app, session):
    poster = Poster(app, browser)
    poster.refresh_token("/login")

    @FUZZ
    @given(submissions(["phone"]), submissions(["code"]), submissions(["password"]))
    @example([("phone", "138\x000000001")], [("code", "\x00")], [("password", "\x00")])
    def run(phone_pairs, code_pairs, password_pairs):
        before = table_counts(session)
        response = poster.post("/login", phone_pairs)
        # Only a well-formed number moves on (and only a registered one stores a code and a text).
        _seen_unchanged(before, table_counts(session), response, {"login_codes", "outbound_messages"})
        poster.post("/login/code", code_pairs)
        poster.post("/login/password", password_pairs)

    run()


def test_fuzz_settings(world, browser, app):
    poster = Poster(app, browser)
    poster.refresh_token("/")

    @FUZZ
    @given(submissions(["locale", "back"]), submissions(["size", "back"]))
    def run(language_pairs, size_pairs):
        for url, pairs in (("/settings/language", language_pairs), ("/settings/text-size", size_pairs)):
            response = poster.post(url, pairs)
            location = response.headers.get("Location", "")
            assert location.startswith("/") and not location.startswith("//"), location

    run()


def test_an_oversized_body_is_refused_cleanly(world, browser, app):
    poster = Poster(app, browser)
    poster.refresh_token("/login")
    response = poster.post("/login", [("phone", "1" * (3 * 1024 * 1024))])
    assert response.status_code == 413


def test_fuzz_webhooks(app, session, world):
    """Every Twilio webhook, correctly signed, with fuzzed parameters: never a 500."""
    from portal.channels.twilio_hooks import sign
    from tests.timebank.helpers import visit

    done = visit(session, world.volunteer_a.person, world.elder_a)  # the elder's confirmation call has one
    session.commit()

    # /twilio/sms, /twilio/status, /twilio/voice…, /twilio/voice/visit/<id>… (an id that exists or not)
    hooks = [rule.build({name: visit_id for name in rule.arguments}, append_unknown=False)[1]
             for rule in app.url_map.iter_rules()
             if getattr(app.view_functions[rule.endpoint], "linli_twilio_webhook", False)
             for visit_id in ((done.id, 999_999) if rule.arguments else (None,))]
    assert {"/twilio/sms", "/twilio/status", "/twilio/voice", f"/twilio/voice/visit/{done.id}"} <= set(hooks), hooks
    if not hooks:
        pytest.skip("no Twilio webhook routes exist yet")
    app.config["TWILIO_AUTH_TOKEN"] = "fuzz-token"
    client = app.test_client()
    fields = ["From", "To", "Body", "MessageSid", "CallSid", "Digits", "SpeechResult", "MessageStatus",
              "CallStatus", "SmsSid", "AccountSid", "NumMedia"]

    @FUZZ
    @given(st.sampled_from(hooks), submissions(fields))
    def run(url, pairs):
        params = dict(pairs)  # Twilio signs the flat form; the last of a repeated field counts
        signature = sign(app.config["LINLI_PUBLIC_URL"] + url, params, "fuzz-token")
        response = client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code < 500, (url, response.status_code, list(params.items())[:4])

    run()


# ---------------------------------------------------------------- forms written as plain HTML
# Each POST route of requests, visits, the time bank and the completion list, posted by a role
# allowed to use it with fuzzed fields: never a 500, and a refused post leaves every table as it was
# (audit entries aside: looking at the form is audited).

def _plain_routes(world, reference, emergency):

    elder = world.elder_a.person_id
    return {
        # endpoint: (who, form page, url, fields)
        "requests.step": ("elder", "/requests/new?service=meal", "/requests/step", ["answer", "other"]),
        "visits.check_in": ("volunteer", "/volunteer/visits/", "/volunteer/visits/check-in", ["code"]),
        "timebank.gift": ("elder", "/time-bank/gift", "/time-bank/gift", ["recipient", "amount"]),
        "timebank.gift_confirm": ("elder", "/time-bank/gift", "/time-bank/gift/confirm", ["recipient", "amount"]),
        "visits_worker.new": ("worker", "/worker/visits/new", "/worker/visits/new",
                              ["volunteer_id", "elder_id", "day", "start", "end", "notes", "flags"]),
        "completion.major_event": ("worker", f"/worker/completion/elders/{elder}/event",
                                   f"/worker/completion/elders/{elder}/event", ["kind", "occurred_at", "note"]),
        "worker_requests.assign": ("worker", "/worker/requests/", f"/worker/requests/{reference}/assign",
                                   ["volunteer_id"]),
        "worker_requests.emergency_coming": ("worker", "/worker/requests/",
                                             f"/worker/requests/{emergency}/emergency/coming",
                                             ["responder_id", "responder_name"]),
        "worker_requests.emergency_resolve": ("worker", "/worker/requests/",
                                              f"/worker/requests/{emergency}/emergency/resolve", ["outcome"]),
        "timebank.allocate": ("worker", "/time-bank/pool", "/time-bank/pool/allocate", ["elder", "amount", "reason"]),
    }


def test_fuzz_plain_html_forms(world, browser, app, session):
    from portal.db import utcnow
    from portal.services import emergencies
    from portal.services import requests as service_requests
    from tests.conftest import Browser

    now = utcnow()
    # an open request of community A, so the assign form reaches its checks (not a 404 every time)
    open_request = service_requests.create_request(session, world.elder_a, world.elder_a.person, "web", "meal",
                                                   {"meals": "lunch"}, now + timedelta(days=1), now)
    # and an emergency of community A, so the worker's emergency forms reach their checks too
    alarm = emergencies.raise_alarm(session, world.elder_a, "web", now)
    session.commit()
    routes = _plain_routes(world, open_request.reference, alarm.reference)
    answers: dict[str, set[int]] = {}
    people = {"elder": (world.elder_a.person.phone, None), "volunteer": (world.volunteer_a.person.phone, None),
              "worker": (world.worker_a.phone, PASSWORD)}
    posters = {}
    for who, (phone, password) in people.items():
        app.extensions["linli"].limiter = make_limiter(None)
        signed = Browser(app.test_client(), browser.transport)
        signed.login(phone, password)
        posters[who] = Poster(app, signed)

    @FUZZ
    @given(st.sampled_from(sorted(routes)), submissions(["answer", "other", "code", "recipient", "amount",
                                                         "volunteer_id", "elder_id", "day", "start", "end",
                                                         "notes", "flags", "kind", "occurred_at", "note",
                                                         "responder_id", "responder_name", "outcome", "elder",
                                                         "reason"]))
    @example("visits_worker.new", [("day", "2026-02-30"), ("start", "25:00"), ("notes", "\x00")])
    @example("timebank.gift", [("recipient", "pool"), ("amount", "9" * 30)])
    @example("worker_requests.assign", [("volunteer_id", "abc")])
    def run(endpoint, pairs):
        who, page, url, fields = routes[endpoint]
        poster = posters[who]
        poster.token = csrf_from(poster.browser.client.get(page, follow_redirects=True).get_data(as_text=True))
        pairs = [(name, v) for name, v in pairs if name in fields]
        before = table_counts(session)
        response = poster.post(url, pairs)
        answers.setdefault(endpoint, set()).add(response.status_code)
        after = table_counts(session)
        if response.status_code not in (302, 303):
            changed = {name for name in before if before[name] != after[name]} - {"audit_events"}
            assert not changed, (endpoint, changed, pairs[:4])

    run()
    # every fuzzed form was really reached: a target that only ever answers 404 fuzzes nothing
    unreached = sorted(endpoint for endpoint, codes in answers.items() if codes <= {404})
    assert not unreached, {endpoint: answers[endpoint] for endpoint in unreached}


FUZZED_FORMS.update({
    # plain HTML forms, by endpoint: test_fuzz_plain_html_forms (the others take no free fields)
    "requests.step": "test_fuzz_plain_html_forms", "visits.check_in": "test_fuzz_plain_html_forms",
    "timebank.gift": "test_fuzz_plain_html_forms", "timebank.gift_confirm": "test_fuzz_plain_html_forms",
    "visits_worker.new": "test_fuzz_plain_html_forms", "completion.major_event": "test_fuzz_plain_html_forms",
    "worker_requests.assign": "test_fuzz_plain_html_forms",
    "worker_requests.emergency_coming": "test_fuzz_plain_html_forms",
    "worker_requests.emergency_resolve": "test_fuzz_plain_html_forms",
    "timebank.allocate": "test_fuzz_plain_html_forms",
})


def test_every_post_route_with_fields_is_fuzzed(app):
    """Plain HTML forms with free fields are listed; the rest have no fields beyond a button."""
    from tests.security.test_xss import NO_FREE_TEXT, ROUTE_SCENARIOS

    free = {name for name, why in ROUTE_SCENARIOS.items()
            if why != NO_FREE_TEXT and not str(why).startswith(("FlaskForm", "dev tool"))}
    missing = sorted(free - set(FUZZED_FORMS) - {"visits.check_out", "visits_worker.reverse"})
    assert not missing, f"plain HTML forms without a fuzz entry: {missing}"
