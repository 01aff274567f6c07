"""`linli ledger check` (issue 16): by default the chain is re-verified only after the newest signed
checkpoint (once that checkpoint is shown to still be in the ledger); `--full` re-verifies it from the
first entry, in parallel chunks that each start from the hash recorded before them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.services import ledger_check
from tests.security.test_ledger_anchor import _check, _ledger
from tests.timebank.helpers import T0
from tests.timebank.test_ledger import earn


@pytest.fixture()
def checkpointed(app, world, session, tmp_path, monkeypatch):
    """Two credited visits, the nightly checkpoint, then one more credited visit (two entries)."""
    from jobs.ledger import ledger_checkpoint

    _ledger(app, world, session, n=2)
    monkeypatch.setenv("LINLI_CHECKPOINT_DIR", str(tmp_path))
    summary = ledger_checkpoint(session, T0 + timedelta(days=3))
    session.commit()
    earn(session, world, 30, start=T0 + timedelta(days=4))
    session.commit()
    return summary


def _entries(app) -> int:
    with app.extensions["linli"].engine.connect() as conn:
        return conn.execute(text("SELECT max(id) FROM ledger_entries")).scalar()


def test_the_daily_check_starts_at_the_newest_checkpoint(app, checkpointed):
    result = _check(app)
    assert result.exit_code == 0, result.output
    assert "from the checkpoint" in result.output and f"(entry {checkpointed['entry_id']})" in result.output
    assert f"ledger ok: {_entries(app) - checkpointed['entry_id']} entries" in result.output


def test_the_daily_check_finds_an_entry_changed_after_the_checkpoint(app, checkpointed):
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_transfers SET kind = 'gift' WHERE id = "
                          "(SELECT transfer_id FROM ledger_entries WHERE id = :i)"), {"i": _entries(app)})
    result = _check(app)
    assert result.exit_code == 1 and "changed after it was written" in result.output


def test_only_the_full_check_rereads_history_before_the_checkpoint(app, checkpointed):
    with app.extensions["linli"].engine.begin() as conn:  # an old entry changed, balances untouched
        conn.execute(text("UPDATE ledger_transfers SET kind = 'gift' WHERE id = "
                          "(SELECT transfer_id FROM ledger_entries WHERE id = 1)"))
    assert _check(app).exit_code == 0
    result = _check(app, "--full")
    assert result.exit_code == 1 and "entry 1: its content does not match its hash" in result.output


def test_a_checkpoint_that_no_longer_matches_is_reported_and_everything_is_checked(app, checkpointed):
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET hash = :h WHERE id = :i"),
                     {"h": "f" * 64, "i": checkpointed["entry_id"]})
    result = _check(app)
    assert result.exit_code == 1 and "history was rewritten" in result.output
    assert "chain broken" in result.output or "does not match its hash" in result.output


def test_without_a_checkpoint_the_whole_chain_is_checked(app, world, session, tmp_path, monkeypatch):
    _ledger(app, world, session, n=2)
    monkeypatch.setenv("LINLI_CHECKPOINT_DIR", str(tmp_path / "none"))
    result = _check(app)
    assert result.exit_code == 0 and "whole chain" in result.output
    assert f"ledger ok: {_entries(app)} entries" in result.output


def test_the_full_check_in_parallel_chunks_finds_what_one_pass_finds(committed, app, world, session, monkeypatch):
    for day in range(6):
        earn(session, world, 30, start=T0 + timedelta(days=day))
    session.commit()
    monkeypatch.setattr(ledger_check, "PARALLEL_FROM", 1)
    result = _check(app, "--full", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert f"ledger ok: {_entries(app)} entries" in result.output
    middle = _entries(app) // 2 + 1  # the first entry of a later chunk
    with app.extensions["linli"].engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET prev_hash = :h WHERE id = :i"), {"h": "e" * 64, "i": middle})
        conn.execute(text("UPDATE ledger_transfers SET kind = 'gift' WHERE id = "
                          "(SELECT transfer_id FROM ledger_entries WHERE id = :i)"), {"i": _entries(app)})
    result = _check(app, "--full", "--workers", "2")
    assert result.exit_code == 1
    assert f"entry {middle}: does not follow the entry before it" in result.output
    assert f"entry {_entries(app)}: its content does not match its hash" in result.output


def test_the_monthly_report_prints_the_signed_checkpoint_which_check_takes_back(app, world, session, tmp_path):
    """Issue 12: the officer's monthly report anchors the ledger outside the database."""
    import csv
    import io
    import json
    from datetime import datetime, timezone

    from portal.services import compliance
    from portal.services.visit_reports import build_report

    _ledger(app, world, session, n=2)
    now = datetime(2026, 11, 20, 4, tzinfo=timezone.utc)
    compliance.plan_visits(session, now)
    rows = list(csv.reader(io.StringIO(build_report(session, "2026-11", [world.community_a.id], "csv", now)
                                       .decode("utf-8-sig"))))
    label, position, at, digest, signature = rows[-1][:5]
    assert label == "时间银行账本检查点（已签名）" and position == f"第 {_entries(app)} 条"
    published = tmp_path / "published.json"
    published.write_text(json.dumps({"entry_id": _entries(app), "hash": digest, "at": at, "signature": signature}))
    assert _check(app, "--against", str(published)).exit_code == 0
    with app.extensions["linli"].engine.begin() as conn:  # a rollback to before the report
        conn.execute(text("UPDATE ledger_head SET last_entry_id = last_entry_id - 2"))
    result = _check(app, "--against", str(published))
    assert result.exit_code == 1 and "rolled back" in result.output
