"""workday: who pays a requested service with time-bank minutes (chosen on the check page), the
answers given so far to a run of short questions (the visit record by text or by call), and the
texts a relative chose about her elder

Revision ID: 0019_workday
Revises: 0018
Create Date: 2026-12-01 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_workday"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("service_requests", sa.Column("paid_by_id", sa.Integer(), nullable=True))
    op.add_column("pending_questions", sa.Column("answers", sa.JSON(), nullable=True))
    op.add_column("family_links", sa.Column("notify_visits", sa.Boolean(), nullable=False, server_default="0"))
    op.add_column("family_links", sa.Column("notify_checkins", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("family_links", "notify_checkins")
    op.drop_column("family_links", "notify_visits")
    op.drop_column("pending_questions", "answers")
    op.drop_column("service_requests", "paid_by_id")
