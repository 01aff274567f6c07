"""outbox lanes (priority), the "unknown" send outcome, status callbacks that arrive before the sid

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
        batch.drop_column("priority")
