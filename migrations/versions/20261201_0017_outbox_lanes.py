"""outbox lanes, early status callbacks, call fallbacks and chains, 每日问安 (daily check-in calls)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="2"))
        batch.add_column(sa.Column("sms_fallback", sa.Text(), nullable=True))
        batch.add_column(sa.Column("about_elder_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("chain_key", sa.String(64), nullable=True))
        batch.create_foreign_key(op.f("fk_outbound_messages_about_elder_id_people"), "people", ["about_elder_id"],
                                 ["id"], ondelete="SET NULL")
        batch.create_index(op.f("ix_outbound_messages_chain_key"), ["chain_key"])
    op.execute("UPDATE outbound_messages SET priority = 0 WHERE kind = 'emergency'")
    op.execute("UPDATE outbound_messages SET priority = 1 WHERE kind <> 'emergency' "
               "AND (urgent OR kind = 'login_code')")
    op.create_index("ix_outbound_messages_due", "outbound_messages", ["status", "priority", "next_attempt_at"])
    op.create_table(
        "early_status_callbacks",
        sa.Column("provider_sid", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider_sid", name=op.f("pk_early_status_callbacks")),
    )
    upgrade_checkins()


def downgrade() -> None:
    op.drop_index(op.f("ix_checkin_days_elder_id"), table_name="checkin_days")
    op.drop_table("checkin_days")
    op.drop_table("daily_checkins")
    op.drop_table("early_status_callbacks")
    op.drop_index("ix_outbound_messages_due", table_name="outbound_messages")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_index(op.f("ix_outbound_messages_chain_key"))
        batch.drop_constraint(op.f("fk_outbound_messages_about_elder_id_people"), type_="foreignkey")
        for column in ("chain_key", "about_elder_id", "sms_fallback", "priority"):
            batch.drop_column(column)


def upgrade_checkins() -> None:
    op.create_table(
        "daily_checkins",
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("call_time", sa.String(5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="1"),
        sa.Column("opted_in_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["elder_id"], ["elder_profiles.person_id"], ondelete="CASCADE",
                                name=op.f("fk_daily_checkins_elder_id_elder_profiles")),
        sa.ForeignKeyConstraint(["opted_in_by_id"], ["people.id"], ondelete="SET NULL",
                                name=op.f("fk_daily_checkins_opted_in_by_id_people")),
        sa.PrimaryKeyConstraint("elder_id", name=op.f("pk_daily_checkins")),
    )
    op.create_table(
        "checkin_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("elder_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("first_call_at", UTCDateTime(), nullable=False),
        sa.Column("last_call_at", UTCDateTime(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("answered_via", sa.String(8), nullable=True),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
        sa.Column("seen_by_id", sa.Integer(), nullable=True),
        sa.Column("officer_told_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["elder_id"], ["elder_profiles.person_id"], ondelete="CASCADE",
                                name=op.f("fk_checkin_days_elder_id_elder_profiles")),
        sa.ForeignKeyConstraint(["seen_by_id"], ["people.id"], ondelete="SET NULL",
                                name=op.f("fk_checkin_days_seen_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_days")),
        sa.UniqueConstraint("elder_id", "day", name=op.f("uq_checkin_days_elder_id_day")),
    )
    op.create_index(op.f("ix_checkin_days_elder_id"), "checkin_days", ["elder_id"])
