"""Hygiene (issue 12, point 13): no forged log lines, private database and backup files, and no
invisible or direction-changing characters in what one person writes for another to read."""
from __future__ import annotations

import io
import logging
import os
import stat

import pytest

from portal.db import make_engine
from portal.logs import make_handler
from portal.services import DomainError
from portal.services.people import clean_name, clean_text

INVISIBLE = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u200b", "\u200c",
             "\u200d", "\u2060", "\ufeff", "\u061c", "\u2028", "\u2029"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_path_with_crlf_cannot_forge_a_log_line(client, fmt):
    stream = io.StringIO()
    handler = make_handler(stream, fmt=fmt)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        client.get("/nothing%0d%0a2026-12-01 INFO linli.auth: admin logged in%0aFORGED%E2%80%A8x")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [line for line in stream.getvalue().splitlines() if line]
    assert lines and not any(line.startswith(("2026-12-01 INFO linli.auth", "FORGED")) for line in lines)
    assert not any("\u2028" in line for line in lines)


def test_a_new_sqlite_database_and_its_wal_are_private(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        for candidate in tmp_path.iterdir():
            assert stat.S_IMODE(os.stat(candidate).st_mode) & 0o077 == 0, candidate.name
    engine.dispose()


def test_a_backup_file_is_private(tmp_path, monkeypatch):
    from portal.services.backup import backup

    monkeypatch.setattr(os, "umask", os.umask)  # keep the process umask as it is (022 on most hosts)
    source = tmp_path / "db.sqlite3"
    engine = make_engine(f"sqlite:///{source}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    written = backup(f"sqlite:///{source}", tmp_path / "backups" / "b.sqlite3")
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(written.parent).st_mode) & 0o077 == 0


@pytest.mark.parametrize("char", INVISIBLE)
def test_free_text_loses_invisible_and_direction_characters(char):
    cleaned = clean_text(f"甲社区{char}5 栋", "address", 120)
    assert char not in cleaned and "甲社区" in cleaned and "5 栋" in cleaned


@pytest.mark.parametrize("char", INVISIBLE)
def test_names_refuse_invisible_and_direction_characters(char):
    try:
        cleaned = clean_name(f"刘{char}桂兰")
    except DomainError:
        return
    assert char not in cleaned  # a line separator becomes an ordinary space


def test_an_address_with_a_bidi_override_is_saved_without_it(world, browser, session):
    from tests.factories import PASSWORD

    browser.login(world.worker_a.phone, PASSWORD)
    form = {"name": "刘桂兰", "phone": "+8613912345678", "community_id": str(world.community_a.id),
            "address": "甲社区\u202e302 室", "birth_date": "1941-02-03", "living_situation": "alone",
            "ability_level": "1", "preferred_channel": "sms", "tier_override": ""}
    assert browser.post("/worker/elders/new", form).status_code == 303
    from sqlalchemy import select

    from portal.models import ElderProfile, Person

    address = session.scalar(select(ElderProfile.address).join(Person).where(Person.name == "刘桂兰"))
    assert "\u202e" not in address
