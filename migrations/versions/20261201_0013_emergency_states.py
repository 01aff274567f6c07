"""emergency states: alerted → coming (who) → resolved with an outcome, or stood down by the elder

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from portal.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergencies",
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("service_requests.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("state", sa.String(16), nullable=False, server_default="alerted"),
        sa.Column("alerted_at", UTCDateTime(), nullable=False),
        sa.Column("alerted_phones", sa.JSON(), nullable=False),
        sa.Column("responder_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("responder_name", sa.String(80), nullable=True),
        sa.Column("coming_at", UTCDateTime(), nullable=True),
        sa.Column("coming_set_by_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True),
        sa.Column("stood_down_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_emergencies_state", "emergencies", ["state"])


def downgrade() -> None:
    op.drop_index("ix_emergencies_state", table_name="emergencies")
    op.drop_table("emergencies")
