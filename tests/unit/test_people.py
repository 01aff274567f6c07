from datetime import date

import pytest
from sqlalchemy import func, select

from portal.models import ElderProfile, Person
from portal.services import DomainError
from portal.services.people import clean_name, derive_tier
from tests.factories import make_elder


def test_rare_characters_and_minority_names_are_kept():
    assert clean_name("王𠀀") == "王𠀀"
    assert clean_name("阿依古丽·买买提") == "阿依古丽·买买提"


@pytest.mark.parametrize("name", ["😀王", "王1", "<b>", "x" * 51, "   "])
def test_names_with_emoji_digits_symbols_or_too_long_are_refused(name):
    with pytest.raises(DomainError) as caught:
        clean_name(name)
    assert caught.value.field == "name"


def test_tier_is_derived_and_override_wins(world, session):
    elder = session.get(ElderProfile, world.elder_a.person_id)
    elder.birth_date = date(1930, 1, 1)
    elder.living_situation = "alone"
    assert derive_tier(elder, date(2026, 11, 1)) == "high_risk"
    elder.living_situation, elder.hardship, elder.ability_level = "with_family", [], 0
    elder.birth_date = date(1960, 1, 1)
    assert derive_tier(elder, date(2026, 11, 1)) == "general"
    elder.hardship = ["low_income"]
    assert derive_tier(elder, date(2026, 11, 1)) == "special_hardship"
    elder.tier_override = "high_risk"
    assert derive_tier(elder, date(2026, 11, 1)) == "high_risk"


def test_failed_registration_saves_nothing(world, session):
    before = session.scalar(select(func.count(Person.id)))
    with pytest.raises(DomainError):
        make_elder(session, world.community_a, "新老人", birth_date=date(2999, 1, 1))
    session.rollback()
    assert session.scalar(select(func.count(Person.id))) == before


def test_door_codes_are_unique_numeric(world, session):
    codes = {make_elder(session, world.community_a, f"老人{'甲乙丙丁戊己庚辛壬癸'[i]}").door_code for i in range(10)}
    assert len(codes) == 10
    assert all(code.isdigit() and len(code) == 8 for code in codes)
