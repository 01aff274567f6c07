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
