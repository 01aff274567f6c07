from sqlalchemy import func, select

from portal.models import Area, ElderProfile, FamilyLink, Pairing, Person, VolunteerProfile


def test_seed_demo_creates_the_fixed_people(app, session):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    wang = session.scalar(select(Person).where(Person.phone == "+8613800000001"))
    assert wang.name == "王秀英"
    profile = session.get(ElderProfile, wang.id)
    assert profile.living_situation == "alone" and profile.care_tier == "special_hardship"
    son = session.scalar(select(Person).where(Person.phone == "+8613800000002"))
    assert session.scalar(select(FamilyLink.status).where(FamilyLink.family_id == son.id)) == "approved"
    li_na = session.scalar(select(Person).where(Person.phone == "+8613800000003"))
    assert session.scalar(select(Pairing).where(Pairing.volunteer_id == li_na.id, Pairing.elder_id == wang.id))
    assert session.scalar(select(Person).where(Person.phone == "+8613800000004")).password_hash
    assert 190 <= session.scalar(select(func.count(ElderProfile.person_id))) <= 210
    assert session.scalar(select(func.count(VolunteerProfile.person_id))) == 40
    assert session.scalar(select(func.count(Area.id)).where(Area.level == "community")) == 4
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 1  # never seeds twice


def test_demo_worker_logs_in_with_the_demo_password(app, session, browser):
    app.test_cli_runner().invoke(args=["seed-demo"])
    from portal.services.demo import DEMO_PASSWORD

    browser.login("+8613800000004", DEMO_PASSWORD)
    html = browser.get("/worker/").get_data(as_text=True)
    assert "王秀英" in html


def test_seed_synthetic_district(app, session):
    result = app.test_cli_runner().invoke(args=["seed", "--elders", "900"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count(ElderProfile.person_id))) == 900
    assert session.scalar(select(func.count(Area.id)).where(Area.level == "community")) == 2
    codes = session.scalar(select(func.count(func.distinct(ElderProfile.door_code))))
    assert codes == 900


def test_the_demo_with_a_year_of_history(app, session, browser):
    """`linli demo` seeds a year of history with the benchmark's generator: the officer's trend has
    closed months, 李娜's statement has past months, 王秀英 has a last visit, and the ledger checks."""
    from datetime import timedelta

    from portal.db import utcnow
    from portal.models import ComplianceSnapshot, ElderVisitStat, Transfer, Visit
    from portal.services import ledger_check
    from portal.services.demo import DEMO_PASSWORD

    result = app.test_cli_runner().invoke(args=["seed-demo", "--history-years", "1"])
    assert result.exit_code == 0, result.output
    assert "past visits" in result.output
    wang = session.scalar(select(Person).where(Person.phone == "+8613800000001"))
    li_na = session.scalar(select(Person).where(Person.phone == "+8613800000003"))
    last = session.get(ElderVisitStat, wang.id)
    assert last is not None and utcnow() - last.last_visit_at < timedelta(days=70)
    months = set(session.scalars(select(ComplianceSnapshot.period).where(ComplianceSnapshot.area_level == "district")))
    assert len(months) >= 11
    assert session.scalar(select(func.count(Visit.id)).where(Visit.volunteer_id == li_na.id)) >= 10
    assert session.scalar(select(func.count(Transfer.id)).where(Transfer.kind == "mint")) > 100
    assert ledger_check.check_ledger(session.connection()).ok
    browser.login("+8613800000005", DEMO_PASSWORD)
    html = browser.get("/officer/visits/").get_data(as_text=True)
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert chart.count('class="value"') >= 11


def test_the_demo_starts_the_scheduler_as_its_own_process_and_stops_it(tmp_path, monkeypatch):
    """`linli demo` (scripts/demo) runs `linli scheduler` beside the server, as production does, so the
    worker's pages do not say the scheduler has not run; the process ends when the demo ends."""
    import subprocess

    import werkzeug.serving
    from click.testing import CliRunner

    import portal.channels.sender
    from portal import cli

    database_url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("LINLI_DATABASE_URL", database_url)
    monkeypatch.setattr(cli, "_seed_demo_if_empty", lambda **_kw: False)
    monkeypatch.setattr(portal.channels.sender, "start_sender_thread", lambda app: None)
    started = []

    class FakeProcess:
        pid = 4242
        stopped = False

        def __init__(self, command, env):
            self.command, self.env = command, env
            started.append(self)

        def poll(self):
            return 0 if self.stopped else None

        def terminate(self):
            self.stopped = True

        def wait(self, timeout=None):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    served = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **kw: served.append(args))

    result = CliRunner().invoke(cli.demo_command, ["--port", "5999"])

    assert result.exit_code == 0, result.output
    assert served
    [process] = started
    assert process.command[-2:] == ["scheduler", "--without-sender"]
    assert process.env["LINLI_DATABASE_URL"] == database_url
    assert process.stopped  # stopped when the demo stopped
    assert "scheduler" in result.output
