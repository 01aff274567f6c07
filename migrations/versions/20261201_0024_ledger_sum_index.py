"""ledger entries: index (account_id, amount) in place of (account_id), so the balance check sums
every account's entries from the index alone (SQLite read 2.7 M rows one by one through the old one)

Revision ID: 0024_ledger_sum_index
Revises: 0020_merge_perf_workday
Create Date: 2026-12-01 16:30:00
"""
from __future__ import annotations

from alembic import op

revision = "0024_ledger_sum_index"
down_revision = "0020_merge_perf_workday"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_entries_account_amount", "ledger_entries", ["account_id", "amount"])
    op.drop_index("ix_ledger_entries_account_id", table_name="ledger_entries")


def downgrade() -> None:
    op.create_index("ix_ledger_entries_account_id", "ledger_entries", ["account_id"])
    op.drop_index("ix_ledger_entries_account_amount", table_name="ledger_entries")
