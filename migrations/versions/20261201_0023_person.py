"""an account's transfers and a volunteer's visits by month: the statement

The single-column indexes on ledger_transfers.from_account_id / to_account_id and visits.volunteer_id
are replaced by (column, created_at / checked_in_at): the same lookups by account or volunteer, and
a month of them is one range scan instead of a scan of the whole district's month.
(ledger_entries.account_id becoming (account_id, amount), an account's sum from the index only, is
0024_ledger_sum_index.)

Revision ID: 0023_person
Revises: 0020_merge_perf_workday
Create Date: 2026-12-01 16:00:00
"""
from __future__ import annotations

from alembic import op

revision = "0023_person"
down_revision = "0020_merge_perf_workday"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_transfers_from_account_created", "ledger_transfers",
                    ["from_account_id", "created_at"])
    op.create_index("ix_ledger_transfers_to_account_created", "ledger_transfers", ["to_account_id", "created_at"])
    op.drop_index("ix_ledger_transfers_from_account_id", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_to_account_id", table_name="ledger_transfers")
    op.create_index("ix_visits_volunteer_checked_in", "visits", ["volunteer_id", "checked_in_at"])
    op.drop_index("ix_visits_volunteer_id", table_name="visits")


def downgrade() -> None:
    op.create_index("ix_visits_volunteer_id", "visits", ["volunteer_id"])
    op.drop_index("ix_visits_volunteer_checked_in", table_name="visits")
    op.create_index("ix_ledger_transfers_to_account_id", "ledger_transfers", ["to_account_id"])
    op.create_index("ix_ledger_transfers_from_account_id", "ledger_transfers", ["from_account_id"])
    op.drop_index("ix_ledger_transfers_to_account_created", table_name="ledger_transfers")
    op.drop_index("ix_ledger_transfers_from_account_created", table_name="ledger_transfers")
