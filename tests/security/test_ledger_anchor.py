"""The ledger's chain is keyed with a secret outside the database, and a signed checkpoint written
outside the database detects rewritten-and-rehashed history and a rolled-back backup (issue 12,
point 11). The attacker here has full write access to the database."""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.production import production_problems
from portal.services import ledger
from tests.timebank.helpers import T0
from tests.timebank.test_ledger import earn


def _rehash(conn, hasher) -> None:
    """Recompute the whole chain and the head the way someone with the database would."""
    rows = conn.execute(text(
        "SELECT e.id, e.transfer_id, e.account_id, e.amount, t.kind, t.visit_id, t.reverses_id, t.created_at "
        "FROM ledger_entries e JOIN ledger_transfers t ON t.id = e.transfer_id ORDER BY e.id")).all()
    prev = "0" * 64
    for entry_id, transfer_id, account_id, amount, kind, visit_id, reverses_id, created in rows:
        from datetime import datetime, timezone

        from portal.types import UTCDateTime  # noqa: F401  (created may come back naive on SQLite)

        moment = created if isinstance(created, datetime) else datetime.fromisoformat(str(created))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        content = (f"{prev}|{entry_id}|{transfer_id}|{kind}|{account_id}|{amount}|{visit_id or ''}|"
                   f"{reverses_id or ''}|{ledger.created_us(moment)}")
        digest = hasher(content)
        conn.execute(text("UPDATE ledger_entries SET prev_hash = :p, hash = :h WHERE id = :i"),
                     {"p": prev, "h": digest, "i": entry_id})
        prev = digest
    conn.execute(text("UPDATE ledger_head SET last_hash = :h, last_entry_id = :i"), {"h": prev, "i": rows[-1][0]})


def _check(app, *extra):
    return app.test_cli_runner().invoke(args=["ledger", "check", *extra])


def _tamper(app) -> None:
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET amount = amount * 10 WHERE amount > 0"))
        conn.execute(text("UPDATE ledger_entries SET amount = amount * 10 WHERE amount < 0"))
        conn.execute(text("UPDATE ledger_transfers SET amount = amount * 10"))
        conn.execute(text("UPDATE ledger_accounts SET balance = balance * 10"))


def _ledger(app, world, session, n=2):
    for day in range(n):
        earn(session, world, 60, start=T0 + timedelta(days=day))
    session.commit()


@pytest.mark.parametrize("hasher", [
    lambda content: hashlib.sha256(content.encode()).hexdigest(),  # the old, unkeyed chain
    lambda content: __import__("hmac").new(b"a guessed key", content.encode(), "sha256").hexdigest(),
])
def test_a_rewritten_and_rehashed_chain_is_found_without_the_key(hasher, app, world, session):
    _ledger(app, world, session)
    assert _check(app).exit_code == 0
    with app.extensions["linli"].engine.begin() as conn:
        _tamper(app)
        _rehash(conn, hasher)
    result = _check(app)
    assert result.exit_code == 1 and "changed after it was written" in result.output


def test_a_checkpoint_finds_history_rewritten_even_with_the_key(app, world, session, tmp_path):
    _ledger(app, world, session)
    checkpoint = tmp_path / "checkpoint.json"
    assert app.test_cli_runner().invoke(args=["ledger", "checkpoint", "--out", str(checkpoint)]).exit_code == 0
    with app.extensions["linli"].engine.begin() as conn:
        _tamper(app)
        _rehash(conn, ledger.entry_digest)  # an insider who also holds the key
    assert _check(app).exit_code == 0  # the chain alone cannot tell
    result = _check(app, "--against", str(checkpoint))
    assert result.exit_code == 1 and "rewritten" in result.output


def test_a_checkpoint_finds_a_rolled_back_backup(app, world, session, tmp_path):
    _ledger(app, world, session, n=1)
    with app.extensions["linli"].engine.connect() as conn:
        old_head = conn.execute(text("SELECT last_entry_id, last_hash FROM ledger_head")).one()
    _ledger(app, world, session, n=0)
    earn(session, world, 30, start=T0 + timedelta(days=5))
    session.commit()
    checkpoint = tmp_path / "checkpoint.json"
    assert app.test_cli_runner().invoke(args=["ledger", "checkpoint", "--out", str(checkpoint)]).exit_code == 0
    with app.extensions["linli"].engine.begin() as conn:  # the old backup comes back
        conn.execute(text("DELETE FROM ledger_entries WHERE id > :i"), {"i": old_head[0]})
        conn.execute(text("DELETE FROM ledger_transfers WHERE id NOT IN (SELECT transfer_id FROM ledger_entries)"))
        conn.execute(text("UPDATE ledger_accounts SET balance = COALESCE((SELECT SUM(amount) FROM ledger_entries "
                          "WHERE account_id = ledger_accounts.id), 0)"))
        conn.execute(text("UPDATE ledger_head SET last_entry_id = :i, last_hash = :h"),
                     {"i": old_head[0], "h": old_head[1]})
    assert _check(app).exit_code == 0
    result = _check(app, "--against", str(checkpoint))
    assert result.exit_code == 1 and "rolled back" in result.output


def test_a_forged_checkpoint_is_refused(app, world, session, tmp_path):
    _ledger(app, world, session)
    checkpoint = tmp_path / "checkpoint.json"
    app.test_cli_runner().invoke(args=["ledger", "checkpoint", "--out", str(checkpoint)])
    data = json.loads(checkpoint.read_text())
    data["entry_id"] = 1
    checkpoint.write_text(json.dumps(data))
    result = _check(app, "--against", str(checkpoint))
    assert result.exit_code == 1 and "signature" in result.output


def test_production_requires_a_ledger_key():
    config = {"LINLI_ENV": "production", "LINLI_SECRET_KEY_FROM_ENV": True,
              "LINLI_DATABASE_URL": "postgresql://x", "LINLI_PUBLIC_URL": "https://x", "LINLI_REDIS_URL": "redis://x"}
    assert any("LINLI_LEDGER_KEY" in problem for problem in production_problems(config))
    assert not any("LINLI_LEDGER_KEY" in p for p in production_problems({**config, "LINLI_LEDGER_KEY": "k" * 32}))


def test_the_chain_key_is_standard_hmac_sha256():
    import hmac

    key = ledger.ChainKey("a key of some length " * 5)
    assert key.hexdigest(b"content") == hmac.new(("a key of some length " * 5).encode(), b"content",
                                                 "sha256").hexdigest()
    short = ledger.ChainKey("short")
    assert short.hexdigest(b"x") == hmac.new(b"short", b"x", "sha256").hexdigest()


def test_the_nightly_job_writes_a_private_checkpoint_that_check_accepts(app, world, session, tmp_path, monkeypatch):
    import os
    import stat

    from jobs.ledger import ledger_checkpoint

    _ledger(app, world, session)
    monkeypatch.setenv("LINLI_CHECKPOINT_DIR", str(tmp_path))
    summary = ledger_checkpoint(session, T0 + timedelta(days=3))
    assert stat.S_IMODE(os.stat(summary["file"]).st_mode) == 0o600
    assert _check(app, "--against", summary["file"]).exit_code == 0
