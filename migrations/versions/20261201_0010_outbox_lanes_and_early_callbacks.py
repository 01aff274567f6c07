"""outbox lanes (priority), status callbacks that arrive before the sid, call fallbacks and chains

Revision ID: 0010_outbox_lanes
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.types import UTCDateTime

revision = "0010_outbox_lanes"
down_revision = "0009"
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


def downgrade() -> None:
    op.drop_table("early_status_callbacks")
    op.drop_index("ix_outbound_messages_due", table_name="outbound_messages")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_index(op.f("ix_outbound_messages_chain_key"))
        batch.drop_constraint(op.f("fk_outbound_messages_about_elder_id_people"), type_="foreignkey")
        for column in ("chain_key", "about_elder_id", "sms_fallback", "priority"):
            batch.drop_column(column)
